"""The workbench: the notebooks' facade (`experiments`), the report machinery (`reporting`) and the notebooks'
figures and widgets (`viz`, `widgets`). The library below never imports it; its dependencies (plotly, umap,
papermill, nbconvert, ipywidgets, jupyterlab) are the `[workbench]` extra."""
