"""The figure every comparison draws: grouped bars of score columns with their 95% intervals."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go


def interval_bars(frame: pd.DataFrame, columns: list[str], title: str = "", reference: float | None = None,
                  reference_name: str = "backbone") -> go.Figure:
    """Grouped bars of `columns` of `frame` per row, with their intervals ("<column> low" / "<column> high", when
    the frame holds them) as error bars; `reference` draws a dotted horizontal line (the backbone, as the
    paper's Fig. 3)."""
    figure = go.Figure()
    for column in columns:
        means = frame[column]
        error = {}
        if f"{column} low" in frame:
            error = {"error_y": dict(type="data", symmetric=False, array=frame[f"{column} high"] - means,
                                     arrayminus=means - frame[f"{column} low"])}
        figure.add_bar(x=list(frame.index), y=means, name=column, **error)
    if reference is not None:
        figure.add_hline(y=reference, line_dash="dot", annotation_text=f"{reference_name} {reference:.2f}")
    return figure.update_layout(barmode="group", title=title, yaxis_title="score (x100), mean over seeds, 95% CI")
