"""The analysis figures (workbench.experiments figures, claim_figures, training_figures) drawn from hand-built
metrics: each draws the quantity its claims test with the given intervals, a zero line, the paper's values and
the reference lines; the training panels smooth each source's loss as a hand-computed rolling mean."""
import json
import math

import pandas as pd
import pytest

from instructor_lib.workbench import experiments
from instructor_lib.workbench.experiments.compare import ScoreComparison
from instructor_lib.workbench.experiments.training_figures import smoothed_loss, source_of


def interval(mean, low, high, n=3):
    return {"mean": mean, "low": low, "high": high, "n": n}


def claim_row(text, paper, ours, low, high, verdict="inconclusive"):
    return {"claim": text, "paper": paper, "ours": ours, "ci_low": low, "ci_high": high, "seeds": [1, 2, 3], "verdict": verdict}


def error_bars(trace):
    """How far a trace's error bars reach above its means, then below them."""
    return list(trace.error_y.array) + list(trace.error_y.arrayminus)


def zero_lines(figure, axis="y"):
    """The y axes (as "y", "y2") on which the figure draws a horizontal line at 0."""
    return {shape.yref.split(" ")[0] for shape in figure.layout.shapes
            if shape.type == "line" and shape.y0 == 0 and shape.y1 == 0}


def no_bars(figure):
    return all(trace.type == "scatter" for trace in figure.data)


def test_table2_draws_the_paired_gain_per_category_with_its_interval_and_the_papers_gain():
    metrics = {"gain": {"STS": interval(1.0, 0.4, 1.6), "Classification": interval(-1.5, -2.5, -0.5), "Average": interval(0.2, -0.1, 0.5)},
               "paper_gain": {"STS": 5.01, "Classification": 6.76, "Average": 3.32}, "seeds": [1, 2, 3, 4, 5], "steps": 65}
    figure = experiments.table2_gains(metrics)
    ours, paper = figure.data
    assert list(ours.x) == ["STS", "Classification", "Average"] and list(ours.y) == [1.0, -1.5, 0.2]
    assert error_bars(ours) == pytest.approx([0.6, 1.0, 0.3] + [0.6, 1.0, 0.3])
    assert list(ours.text) == ["+1.00", "-1.50", "+0.20"]  # two decimals
    assert list(paper.x) == ["STS", "Classification", "Average"] and list(paper.y) == [5.01, 6.76, 3.32]
    assert "Table 2" in paper.name and zero_lines(figure) == {"y"} and no_bars(figure)
    low, high = figure.layout.yaxis.range  # fitted: the lowest bound and the highest paper value, a little padding
    assert -2.5 > low > -4.5 and 6.76 < high < 8.5
    assert "65 steps" in figure.layout.title.text and "seeds 1-5" in figure.layout.title.text


def test_an_interval_over_one_seed_draws_no_error_bar_and_says_so():
    metrics = {"gain": {"Average": interval(0.5, math.nan, math.nan, 1)}, "paper_gain": {}, "seeds": [1], "steps": 5}
    ours = experiments.table2_gains(metrics).data[0]
    assert error_bars(ours) == [0.0, 0.0] and "no interval" in ours.customdata[0]


def test_the_ablation_and_the_pilot_draw_their_differences_against_zero():
    ablation = experiments.ablation_differences({"difference": {"STS": interval(-0.5, -1.0, 0.0), "Average": interval(0.3, 0.1, 0.5)},
                                                 "variant": "no_superni", "seeds": [1, 2], "steps": 10})
    assert list(ablation.data[0].y) == [-0.5, 0.3] and error_bars(ablation.data[0]) == pytest.approx([0.5, 0.2] + [0.5, 0.2])
    assert zero_lines(ablation) == {"y"}
    candidates = {"20 steps": {"gain": -0.4, "gain low": -0.8, "gain high": 0.0}, "65 steps": {"gain": 0.2, "gain low": -0.1, "gain high": 0.5}}
    pilot = experiments.pilot_gains({"candidates": candidates, "chosen": "65 steps", "seeds": [1, 2, 3, 4]})
    assert list(pilot.data[0].y) == [-0.4, 0.2] and error_bars(pilot.data[0]) == pytest.approx([0.4, 0.3] + [0.4, 0.3])
    assert list(pilot.data[0].x) == ["20 steps", "65 steps<br><b>chosen</b>"] and zero_lines(pilot) == {"y"} and no_bars(pilot)
    both = experiments.pilot_gains({"candidates": candidates, "chosen": "65 steps", "figures_chosen": "20 steps", "seeds": [1, 2]})
    assert list(both.data[0].x) == ["20 steps<br><b>figures</b>", "65 steps<br><b>chosen</b>"]


def test_fig3_draws_each_model_minus_the_backbone_and_the_claims_with_the_papers_direction():
    gains = {"with instructions": {"symmetric only": interval(-1.9, -2.9, -0.9), "both (full MEDI)": interval(-0.5, -1.9, 0.9)},
             "without instructions": {"symmetric only": interval(-0.9, -1.5, -0.4), "both (full MEDI)": interval(-0.5, -0.9, -0.2)}}
    claims = [claim_row("Fig. 3, with instructions: both groups minus symmetric only (average) [10 steps]", "both > symmetric only", 1.4, -0.8, 3.7)]
    figure = experiments.fig3_data({"gain_over_backbone": gains, "backbone_average": 76.46, "claims": claims, "seeds": [1, 2, 3], "steps": 10})
    with_, without, claim = figure.data
    assert (with_.name, list(with_.y)) == ("with instructions", [-1.9, -0.5])
    assert error_bars(without) == pytest.approx([0.5, 0.3] + [0.6, 0.4])
    assert list(claim.y) == [1.4] and error_bars(claim) == pytest.approx([2.3] + [2.2])
    assert "paper: both >" in claim.x[0]
    assert "[10 steps]" not in claim.x[0] and "inconclusive" in claim.customdata[0]
    assert zero_lines(figure) == {"y", "y2"}  # the backbone (left) and no difference (right)
    assert any(annotation.text == "backbone 76.46" for annotation in figure.layout.annotations) and no_bars(figure)


def test_fig5_draws_each_level_against_the_backbone_line():
    gains = {"average": {"N/A": interval(-0.5, -0.9, -0.1), "detailed": interval(-0.5, -1.9, 0.9)}}
    claims = [claim_row("Fig. 5: detailed minus N/A instructions (average) [10 steps]", "detailed > N/A", 0.0, -1.4, 1.4)]
    figure = experiments.fig5_detail({"gain_over_backbone": gains, "backbone_average": 75.0, "claims": claims, "seeds": [1, 2, 3], "steps": 10})
    levels, claim = figure.data
    assert list(levels.y) == [-0.5, -0.5] and error_bars(levels) == pytest.approx([0.4, 1.4] + [0.4, 1.4])
    assert zero_lines(figure) == {"y", "y2"} and any(a.text == "backbone 75.00" for a in figure.layout.annotations)


def test_fig6_draws_the_gain_against_the_parameter_count_on_a_log_axis():
    metrics = {"gain": {"large": interval(2.2, 2.0, 2.5), "small": interval(0.8, -0.8, 2.4)}, "parameters": {"large": 109_486_464, "small": 22_713_216},
               "claims": [claim_row("Fig. 6: the gain grows with size (large minus small) [10 steps]", "larger gains more", 1.4, -0.3, 3.2)],
               "seeds": [1, 2, 3]}
    figure = experiments.fig6_sizes(metrics)
    sizes = figure.data[0]
    assert list(sizes.x) == [22_713_216, 109_486_464] and list(sizes.y) == [0.8, 2.2]  # smallest first
    assert error_bars(sizes) == pytest.approx([1.6, 0.3] + [1.6, 0.2])
    assert figure.layout.xaxis.type == "log" and list(figure.layout.xaxis.tickvals) == [22_713_216, 109_486_464]
    low, high = figure.layout.xaxis.range  # both points inside the axis (plotly's log autorange drops one)
    assert low < math.log10(22_713_216) and high > math.log10(109_486_464)
    assert zero_lines(figure) == {"y", "y2"} and no_bars(figure)


def test_fig4_draws_the_noise_floor_as_a_band_and_line_not_a_bar():
    metrics = {"columns": ["with super-NI", "without super-NI"], "seeds": [1, 2, 3], "steps": 10,
               "mean_gap_interval": {"with super-NI": interval(3.3, 2.9, 3.7), "without super-NI": interval(2.8, 2.2, 3.4)},
               "gap": {"with super-NI": {"STS": 2.4, "BIOSSES": 5.2}, "without super-NI": {"STS": 2.4, "BIOSSES": 3.6}},
               "noise_floor": {"with super-NI": 7.3, "without super-NI": 7.1},
               "claims": [claim_row("Fig. 4: super-NI narrows the gap (without minus with) [10 steps]", "gap without > gap with", -0.5, -1.3, 0.3)]}
    figure = experiments.fig4_robustness(metrics)
    means, tasks, claim = figure.data
    assert list(means.y) == [3.3, 2.8] and error_bars(means) == pytest.approx([0.4, 0.6] + [0.4, 0.6])
    assert sorted(zip(tasks.customdata, tasks.y)) == sorted([("STS", 2.4), ("BIOSSES", 5.2), ("STS", 2.4), ("BIOSSES", 3.6)])
    floors = [shape for shape in figure.layout.shapes if shape.type == "line" and shape.y0 == shape.y1 != 0]
    bands = [shape for shape in figure.layout.shapes if shape.type == "rect"]
    assert sorted(shape.y0 for shape in floors) == [7.1, 7.3] and sorted(shape.y1 for shape in bands) == [7.1, 7.3]
    assert no_bars(figure) and list(claim.y) == [-0.5] and zero_lines(figure) == {"y2"}
    assert figure.layout.yaxis.range[1] > 7.3  # the floor is on the axis


def test_a_score_comparison_draws_its_figure_from_its_metrics():
    metrics = {"difference": {"Average": interval(0.1, 0.0, 0.2)}, "variant": "tag", "seeds": [1, 2], "steps": 10}
    comparison = ScoreComparison(pd.DataFrame(), metrics, experiments.ablation_differences)
    assert comparison.figure("mine").layout.title.text == "mine"
    assert comparison.figure().to_dict() == experiments.ablation_differences(json.loads(json.dumps(metrics))).to_dict()


# ------------------------------------------------------------------------------------------ training curves
def log(rows):
    return [{"step": step, "task": task, "loss": loss} for step, (task, loss) in enumerate(rows, start=1)]


def test_a_batch_is_an_embedding_dataset_by_its_name_else_a_super_ni_task():
    assert source_of("AllNLI") == source_of("xsum") == "embedding datasets"  # xsum: an embedding dataset of MEDI
    assert source_of("task1286_openbookqa_question_answering") == "super-NI tasks"


def test_each_sources_loss_is_a_rolling_mean_over_its_own_batches():
    rows = log([("task1_a", 10.0), ("AllNLI", 1.0), ("task2_b", 8.0), ("NQ", 0.5), ("task1_a", 6.0), ("AllNLI", 0.3)])
    frame = smoothed_loss(rows, window=2)
    superni = frame[frame["source"] == "super-NI tasks"]
    assert list(superni["step"]) == [1, 3, 5] and list(superni["smoothed"]) == pytest.approx([10.0, 9.0, 7.0])
    assert list(frame[frame["source"] == "embedding datasets"]["smoothed"]) == pytest.approx([1.0, 0.75, 0.4])


def test_training_panels_draw_one_panel_per_configuration_and_one_line_per_seed_and_source():
    one = log([("task1_a", 10.0), ("AllNLI", 1.0), ("task2_b", 8.0), ("NQ", 0.5)])
    two = log([("AllNLI", 2.0), ("task1_a", 12.0), ("NQ", 1.0), ("task2_b", 4.0)])
    embedding_only = log([("AllNLI", 2.0), ("NQ", 1.0)])
    figure = experiments.training_panels({"full": {1: one, 2: pd.DataFrame(two)}, "asymmetric only": {1: embedding_only}}, window=2)
    titles = [annotation.text for annotation in figure.layout.annotations]
    assert titles[:2] == ["full", "asymmetric only"] and "no batches of super-NI tasks" in titles
    lines = {(trace.hovertemplate.split("<br>")[0]): trace for trace in figure.data}
    assert set(lines) == {"full, seed 1, embedding datasets", "full, seed 1, super-NI tasks", "full, seed 2, embedding datasets",
                          "full, seed 2, super-NI tasks", "asymmetric only, seed 1, embedding datasets"}
    assert list(lines["full, seed 2, super-NI tasks"].y) == pytest.approx([12.0, 8.0])  # (12 + 4) / 2
    assert list(lines["full, seed 1, embedding datasets"].y) == pytest.approx([1.0, 0.75])
    # each configuration on its own axes: embedding above, super-NI below
    assert lines["full, seed 1, embedding datasets"].xaxis != lines["full, seed 1, super-NI tasks"].xaxis
    assert lines["full, seed 1, embedding datasets"].xaxis == lines["full, seed 2, embedding datasets"].xaxis
    assert lines["asymmetric only, seed 1, embedding datasets"].xaxis != lines["full, seed 1, embedding datasets"].xaxis
    assert [trace.name for trace in figure.data if trace.showlegend] == ["seed 1", "seed 2"]


def test_run_logs_read_each_runs_per_step_log(tmp_path):
    for name, loss in (("cpu-full-s1-abc", 1.0), ("cpu-full-s2-def", 2.0)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "metrics.jsonl").write_text(json.dumps({"step": 1, "loss": loss, "task": "NQ"}) + "\n")
    logs = experiments.run_logs({"full MEDI": {"1": "cpu-full-s1-abc", "2": "cpu-full-s2-def"}}, tmp_path)
    assert list(logs["full MEDI"]) == [1, 2] and logs["full MEDI"][2]["loss"].tolist() == [2.0]


def test_finetune_figure_draws_each_scores_gain_with_its_interval_against_zero():
    metrics = {"gains": {"ndcg@10": {"ours": 0.94, "ci_low": -2.56, "ci_high": 4.44},
                         "accuracy": {"ours": 1.5, "ci_low": 0.5, "ci_high": 2.5}}, "seeds": [1, 2], "steps": 10}
    figure = experiments.finetune_gains(metrics)
    (points,) = figure.data
    assert list(points.x) == ["ndcg@10", "accuracy"] and list(points.y) == [0.94, 1.5]
    assert list(points.error_y.array) == pytest.approx([3.5, 1.0]) and list(points.error_y.arrayminus) == pytest.approx([3.5, 1.0])
    assert [shape.y0 for shape in figure.layout.shapes] == [0]
    low, high = figure.layout.yaxis.range
    assert low < -2.56 and high > 4.44 and high - low < 10  # fitted to the interval, not a 0-100 axis
