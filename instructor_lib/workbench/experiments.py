"""The paper's experiments at our scale, one call per notebook cell (notebooks/ build_medi, train, main_table,
ablation, robustness, scaling).

Every model is trained once per experiment config: `trained_model(preset, variant, layers)` hashes the MEDI
variant, the backbone depth and the training config, trains into `runs/experiments/<name>-<hash>/` and, when
that run has finished before, just loads its model. Evaluations are cached by `instructor_lib.evaluation`
(model fingerprint + suite + instructions), so the notebooks share the full model and its scores.

Presets (`instructor_lib.presets`): `smoke` (random 2-layer BERT, seconds), `cpu` (all-MiniLM-L6-v2, small
evaluation suites sized so every notebook together fits `make reproduce` on 2 cores), `paper` (GTR-large, the
full local suite).
"""
from __future__ import annotations

import copy
import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path

from .. import presets
from ..config import runs_root
from ..evaluation.report import CATEGORIES, PAPER_TABLE2
from ..files import atomic_write_json, read_json
from ..provenance import config_hash


def default_runs_dir() -> Path:
    """The experiments' runs: `runs_root()/experiments`."""
    return runs_root() / "experiments"


FINISHED = "experiment.json"  # written into a run directory once its model is saved

# GTR-large, INSTRUCTOR's backbone before instruction finetuning: its MTEB category averages as the MTEB paper
# reports them (github.com/embeddings-benchmark/mtebpaper, plotstables/avg_table.txt, commit 75bf809a), checked on
# 2026-11-27. The INSTRUCTOR paper's own Table 2 could not be read offline to confirm it prints the same row.
PAPER_GTR_LARGE = {"Retrieval": 47.42, "Reranking": 55.36, "Clustering": 41.60, "PairClassification": 85.33,
                   "Classification": 67.14, "STS": 78.19, "Summarization": 29.50, "Average": 58.28}
PAPER_INSTRUCTOR = "INSTRUCTOR-large (335M)"


def _check_variant(variant: str) -> str:
    """The variant's one name (`medi.canonical_variant`); an unknown variant is an error listing the forms."""
    from ..medi import canonical_variant

    return canonical_variant(variant)


def seeds(preset: str = "cpu", main: bool = False) -> tuple[int, ...]:
    """The training seeds of a preset: every trained configuration runs once per seed; the main table's
    (`main`: the finetuned model against its backbone) may run more, to pin the main effect down."""
    return tuple(presets.preset(preset)["main_seeds" if main else "seeds"])


def _check_layers(layers) -> None:
    if layers is not None and (isinstance(layers, bool) or not isinstance(layers, int) or layers < 1):
        raise ValueError(f"layers must be a positive integer (or None: the whole backbone), got {layers!r}")


def check_parameters(preset: str = "cpu", variant: str = "full", layers=None) -> None:
    """Validate a notebook's parameters before any work: a bad one fails at once, not after training."""
    presets.preset(preset)
    _check_variant(variant)
    for depth_ in layers if isinstance(layers, (list, tuple)) else [layers]:
        _check_layers(depth_)


# ------------------------------------------------------------------------------------------- the mixture
def build_mixture(preset: str = "cpu", variant: str = "full"):
    """The MEDI mixture of a preset and variant (`instructor_lib.medi.build_medi`; mined embeddings are cached)."""
    from ..medi import build_medi

    check_parameters(preset, variant)
    return build_medi(preset, variant=variant)


def mixture_examples(mixture, per_dataset: int = 1, chars: int = 120):
    """A table of the first `per_dataset` records of every dataset: instruction and text of query, pos and neg."""
    import pandas as pd

    rows, seen = [], {}
    for record in mixture.records:
        name = record["task_name"]
        if seen.get(name, 0) >= per_dataset:
            continue
        seen[name] = seen.get(name, 0) + 1
        row = {"dataset": name, "query instruction": record["query"][0]}
        row.update({side: record[side][1][:chars] for side in ("query", "pos", "neg")})
        rows.append(row)
    return pd.DataFrame(rows)


def mixture_metrics(mixture) -> dict:
    """Headline numbers of a mixture: records, datasets, super-NI tasks, symmetric share, build time."""
    stats = mixture.stats
    symmetric = int(stats.loc[stats["symmetric"] == "symmetric", "records"].sum())
    return {"records": len(mixture.records), "embedding_datasets": int((stats["kind"] == "embedding").sum()),
            "superni_tasks": int((stats["kind"] == "superni").sum()),
            "superni_records": int(stats.loc[stats["kind"] == "superni", "records"].sum()),
            "symmetric_share": symmetric / max(1, len(mixture.records)),
            "dropped_eval_overlap": int(stats["dropped_eval_overlap"].sum()), "build_seconds": mixture.seconds,
            "excluded": mixture.excluded}


def mixture_figure(mixture):
    """Records per dataset (super-NI tasks folded into one bar), coloured by symmetric / asymmetric."""
    import plotly.express as px

    summary = mixture.summary()
    return px.bar(summary, x="dataset", y="records", color="symmetric", title="MEDI mixture: records per dataset")


# ------------------------------------------------------------------------------------------- the models
def truncate_layers(model, layers: int):
    """A copy of `model` whose encoder keeps only its first `layers` transformer layers (BERT or T5).

    The embeddings, the kept layers and the optional Dense head keep their weights: the smaller model is the
    bottom of the larger one (paper Fig. 6 compares sizes; here one backbone is cut to several depths).
    """
    smaller = copy.deepcopy(model)
    encoder = smaller.encoder
    stack, count_field = (encoder.encoder.block, "num_layers") if hasattr(encoder.encoder, "block") \
        else (encoder.encoder.layer, "num_hidden_layers")
    if not 1 <= layers <= len(stack):
        raise ValueError(f"layers must be between 1 and {len(stack)} (the backbone's depth), got {layers}")
    del stack[layers:]
    setattr(encoder.config, count_field, layers)
    return smaller


def depth(model) -> int:
    """Number of transformer layers of the model's encoder."""
    stack = model.encoder.encoder
    return len(stack.block if hasattr(stack, "block") else stack.layer)


def parameter_count(model) -> int:
    """Number of parameters of the model (encoder and optional Dense head)."""
    return sum(parameter.numel() for parameter in model.parameters())


def _override_layers(preset: str, size: str | None, scale: str | None, figure: bool) -> list[tuple[str, dict]]:
    """(label, settings) replaced in turn: the figures' scale (`figure`), a backbone `size`
    (`presets.PRESETS[..]["sizes"]`, paper Fig. 6), a pilot candidate `scale` (`..["pilot"]["candidates"]`)."""
    chosen, layers = presets.preset(preset), []
    if figure:
        layers.append(("figures", chosen["figures"]))
    for value, options, what in ((size, chosen["sizes"], "size"), (scale, chosen["pilot"]["candidates"], "scale")):
        if value is not None:
            if value not in options:
                raise ValueError(f"{what} must be one of {', '.join(options)} (preset {preset!r}), got {value!r}")
            layers.append((value, options[value]))
    return layers


def _overrides(preset: str, size: str | None = None, scale: str | None = None, figure: bool = False) -> dict:
    """The training settings that the figures' scale, a `size` and a pilot `scale` replace; {}: the preset's own."""
    return {key: value for _, settings_ in _override_layers(preset, size, scale, figure) for key, value in settings_.items()}


def _slug(label: str | None) -> str:
    """A size or pilot label as a run-name suffix: "40 steps, lr 1e-4" -> "-40-steps-lr-1e-4" (no parenthesis)."""
    return "" if label is None else "-" + re.sub(r"[^0-9A-Za-z]+", "-", label.split(" (")[0]).strip("-")


def _name_suffix(preset: str, size: str | None, scale: str | None, figure: bool) -> str:
    """The run-name suffixes of the overrides that change something (one that changes nothing names the run it
    equals: the figures' MiniLM size is the figures' full run, a pilot candidate equal to the preset its run)."""
    from .. import training

    applied, suffix = dataclasses.asdict(training.preset(preset)), ""
    for label, settings_ in _override_layers(preset, size, scale, figure):
        if any(applied.get(key) != value for key, value in settings_.items()):
            suffix += _slug(label)
        applied |= settings_
    return suffix


def figure_steps(preset: str = "cpu") -> int:
    """The training steps of every configuration of the analysis figures (the preset's own unless its `figures`
    settings replace them)."""
    return experiment_config(preset, figure=True)["train"]["steps"]


def figure_scale(preset: str = "cpu") -> dict:
    """What a figure's models are trained with, beside the main table's, for the reports."""
    return {"figure training steps": figure_steps(preset), "main table training steps": experiment_config(preset)["train"]["steps"],
            "seeds": list(seeds(preset)), "settings replaced for the figures": presets.preset(preset)["figures"] or "none"}


def experiment_config(preset: str = "cpu", variant: str = "full", layers: int | None = None,
                      seed: int | None = None, size: str | None = None, scale: str | None = None,
                      figure: bool = False) -> dict:
    """Everything that defines one trained model of an experiment (its hash names the run directory).

    `seed` (default: the preset's first) sets the training seed: batch order, dropout, a tiny model's init.
    `figure`: a configuration of the analysis figures, trained at the preset's figure scale (`figures`).
    `size` names one of the preset's backbone sizes (paper Fig. 6), `scale` one of its pilot candidates; their
    settings replace the preset's. An override equal to the settings it replaces names the run it equals.
    """
    from .. import training

    check_parameters(preset, variant, layers)
    variant = _check_variant(variant)
    seed = seeds(preset)[0] if seed is None else seed
    name = (f"{preset}-{variant.replace(':', '-')}" + (f"-L{layers}" if layers else "")
            + _name_suffix(preset, size, scale, figure) + f"-s{seed}")
    config = training.preset(preset, **{"name": name, "seed": seed, **_overrides(preset, size, scale, figure)})
    return {"preset": preset, "variant": variant, "layers": layers, "train": dataclasses.asdict(config)}


def settings(preset: str = "cpu", **extra) -> dict:
    """The preset's settings as JSON (MEDI settings, training config, evaluation suites), plus `extra`, for the record."""
    chosen = presets.preset(preset)
    check_parameters(preset, extra.get("variant", "full"))

    def suite(value):
        return value if isinstance(value, str) else {task: dataclasses.asdict(limits) for task, limits in value.items()}

    return {"preset": preset, "medi": presets.medi_settings(preset), "train": experiment_config(preset)["train"],
            "seeds": list(seeds(preset)), "suite": suite(chosen["suite"]),
            "ablation_suite": suite(chosen["ablation_suite"]), "robustness_suite": suite(chosen["robustness_suite"]),
            "sizes": chosen["sizes"], "sizes_suite": suite(chosen["sizes_suite"]), "layers": list(chosen["layers"]),
            "figures": experiment_config(preset, figure=True)["train"], **extra}


def run_dir_for(config: dict, runs_dir: str | Path | None = None) -> Path:
    """`runs_dir/<train name>-<hash of config>` (default runs_dir: `default_runs_dir()`): one folder per experiment config."""
    return Path(runs_dir or default_runs_dir()) / f"{config['train']['name']}-{config_hash(config)}"


@dataclass
class TrainedModel:
    """A finetuned model of an experiment, with its config, run directory and training summary."""
    model: "instructor_lib.model.Instructor"
    config: dict
    run_dir: Path
    summary: dict


def trained_model(preset: str = "cpu", variant: str = "full", layers: int | None = None,
                  runs_dir: str | Path | None = None, seed: int | None = None, size: str | None = None,
                  scale: str | None = None, figure: bool = False) -> TrainedModel:
    """The model finetuned on MEDI `variant` from the preset's backbone (cut to `layers` layers when given, or
    the backbone of one of the preset's `size`s), with training seed `seed` (default: the preset's first), at
    the preset's scale, the figures' (`figure`) or that of its pilot candidate `scale`.

    Trains once per config hash (`experiment_config` plus the hash of the MEDI records, so a changed mixture is
    trained again); a finished run is loaded, an interrupted one resumes.
    """
    from .. import training
    from ..data import MediDataset
    from ..model import Instructor

    check_parameters(preset, variant, layers)
    records = build_mixture(preset, variant).records  # cached: seconds; its hash makes a changed mixture a new run
    config = {**experiment_config(preset, variant, layers, seed, size, scale, figure), "data_sha256": MediDataset(records).sha256()}
    run_dir = run_dir_for(config, runs_dir)
    finished = run_dir / FINISHED
    if not finished.exists():
        train_config = training.TrainConfig(**config["train"])
        if layers is not None:  # the cut backbone is saved once and trained from its folder
            backbone_dir = run_dir / "backbone"
            if not (backbone_dir / "modules.json").exists():
                truncate_layers(training.load_model(train_config, starting_model(train_config)), layers).save_pretrained(backbone_dir)
            train_config = dataclasses.replace(train_config, model=str(backbone_dir))
        result = training.train(train_config, records=records, run_dir=run_dir, model=starting_model(train_config))
        atomic_write_json(finished, {"config": config, "config_hash": config_hash(config),
                                     "final_loss": result.final_loss}, indent=1)
    advice = f"delete {run_dir} to train this model again"
    run = read_json(run_dir / "run.json", advice)
    # records_dropped_per_epoch: tasks with fewer records than a batch never train (see data.TaskBatchSampler)
    summary = {key: read_json(finished, advice).get(key) for key in ("config_hash", "final_loss")}
    summary |= {"steps": run["config"]["steps"], **{key: run[key] for key in (
        "records", "tasks", "batches_per_epoch", "records_dropped_per_epoch", "data_hash")}, "train_config_hash": run["config_hash"]}
    return TrainedModel(Instructor.from_pretrained(run_dir / "model"), config, run_dir, summary)


def finished_model(preset: str = "cpu", variant: str = "full", runs_dir: str | Path | None = None):
    """The newest finished run of `experiment_config(preset, variant)` (on any MEDI build), or None: no training
    and no mixture building, so that it answers at once."""
    from ..model import Instructor

    wanted = experiment_config(preset, variant)
    runs = []
    for marker in Path(runs_dir or default_runs_dir()).glob(f"{wanted['train']['name']}-*/{FINISHED}"):
        config = read_json(marker, f"delete {marker.parent} to train this model again")["config"]
        if {key: value for key, value in config.items() if key != "data_sha256"} == wanted:
            runs.append(marker)
    if not runs:
        return None
    return Instructor.from_pretrained(max(runs, key=lambda marker: marker.stat().st_mtime).parent / "model")


def notebook_model(model_path: str = "", preset: str = "cpu"):
    """The model a notebook shows: `model_path` when given, else the preset's (`presets.PRESETS[..]["notebook_model"]`).

    smoke: a tiny random BERT; cpu: our instruction-finetuned all-MiniLM-L6-v2 once the train notebook (or
    `make reproduce`) has trained it, else the backbone itself, at once and saying so (never a training run);
    paper: hkunlp/instructor-large (a local copy, or the hub when online).
    """
    from ..model import Instructor
    from ..tiny import tiny_bert

    if model_path:
        return Instructor.from_pretrained(model_path)
    chosen = presets.preset(preset)["notebook_model"]
    if chosen == "tiny-bert":
        return tiny_bert(seed=0)
    if chosen != "trained":
        return Instructor.from_pretrained(chosen)
    trained = finished_model(preset)
    if trained is None:
        print(f"No finished {preset} training run under {default_runs_dir()}: showing the untrained backbone. Run the train "
              "notebook (or `make reproduce`) for the instruction-finetuned model.", flush=True)
        return base_model(preset)
    return trained


def base_model(preset: str = "cpu", layers: int | None = None, seed: int | None = None, size: str | None = None):
    """The preset's backbone (or that of one of its `size`s) before finetuning (cut to `layers` layers when
    given), in eval mode: the model the run of training seed `seed` starts from (a pretrained backbone is the
    same for every seed; a tiny random model is initialised by the seed)."""
    from .. import training

    settings = {"seed": seeds(preset)[0] if seed is None else seed, **_overrides(preset, size)}
    config = training.preset(preset, **settings)
    model = training.load_model(config, starting_model(config)).eval()
    return truncate_layers(model, layers) if layers else model


def starting_model(config):
    """The model a training config starts from when its `model` labels a random test model of `instructor_lib.tiny`
    (the smoke preset's "tiny-bert", "tiny-t5"), initialised by the config's seed; None for a folder or hub id,
    which training loads itself."""
    from .. import tiny

    builders = {"tiny-bert": tiny.tiny_bert, "tiny-t5": tiny.tiny_t5}
    return builders[config.model](seed=config.seed) if config.model in builders else None


def training_curves(metrics_path: str | Path):
    """The per-step training log (`metrics.jsonl`) as a DataFrame."""
    import pandas as pd

    return pd.read_json(metrics_path, lines=True)


def training_figure(curves):
    """Loss and throughput (pairs/s) per step, side by side."""
    from plotly.subplots import make_subplots
    import plotly.graph_objects as go

    figure = make_subplots(rows=1, cols=2, subplot_titles=("loss", "throughput (training records / s)"))
    figure.add_trace(go.Scatter(x=curves["step"], y=curves["loss"], name="loss"), row=1, col=1)
    figure.add_trace(go.Scatter(x=curves["step"], y=curves["pairs_per_s"], name="records/s"), row=1, col=2)
    figure.update_xaxes(title_text="step")
    return figure.update_layout(showlegend=False)


def training_metrics(trained: TrainedModel, curves) -> dict:
    """Headline numbers of a training run: steps, records, median throughput, and the loss at the first and at the
    last visit of every dataset trained on more than once, averaged (each batch is one dataset and datasets differ
    in difficulty, so the first and last step's losses compare different datasets)."""
    visits = curves.groupby("task")["loss"]
    repeated = visits.size() > 1
    return {**trained.summary, "first_loss": float(curves["loss"].iloc[0]), "last_loss": float(curves["loss"].iloc[-1]),
            "tasks_visited_twice": int(repeated.sum()),
            "first_visit_loss": float(visits.first()[repeated].mean()) if repeated.any() else None,
            "last_visit_loss": float(visits.last()[repeated].mean()) if repeated.any() else None,
            "median_pairs_per_s": float(curves["pairs_per_s"].median()), "parameters": parameter_count(trained.model)}


# ------------------------------------------------------------------------------------------- scores
def scores(model, preset: str = "cpu", instructions="paper", suite=None, bootstrap: bool = False) -> dict:
    """`instructor_lib.evaluation.evaluate` on the preset's suite (or `suite`), cached per task; `bootstrap`: with
    the preset's number of bootstrap replicates of each score (its evaluation sampling error)."""
    from ..evaluation import evaluate

    return evaluate(model, suite=suite or presets.preset(preset)["suite"], instructions=instructions,
                    precision="auto", bootstrap=presets.preset(preset)["bootstrap"] if bootstrap else 0)


def instructions_for(variant: str) -> str:
    """The instruction set a variant is evaluated with: none when it was trained without instructions."""
    from ..medi import parse_variant

    return "none" if parse_variant(variant)[1] == "none" else "paper"


def relative_gain(new: float, old: float) -> float:
    """Relative improvement of `new` over `old` in percent: 100 * (new - old) / old."""
    return 100.0 * (new - old) / old


def category_scores(results: dict) -> dict[str, float]:
    """Category averages and "Average" of an `evaluate` result, in Table 2's column order."""
    return {**{c: results["categories"][c] for c in CATEGORIES if c in results["categories"]}, "Average": results["average"]}


@dataclass
class ScoreComparison:
    """Score columns per row (categories, configurations) with their 95% intervals, and what produced them.

    `frame` holds the means (and the interval bounds as "<column> low" / "<column> high"), `metrics` the
    per-seed scores, the intervals, the claims and the training summaries.
    """
    frame: "pandas.DataFrame"
    metrics: dict

    def figure(self, title: str = "", reference: float | None = None, reference_name: str = "backbone"):
        """Grouped bars of the score columns per row, with their 95% intervals as error bars; `reference`
        draws a dotted horizontal line (the backbone, as the paper's Fig. 3)."""
        import plotly.graph_objects as go

        figure = go.Figure()
        for column in self.metrics["columns"]:
            means = self.frame[column]
            error = {}
            if f"{column} low" in self.frame:
                error = {"error_y": dict(type="data", symmetric=False, array=self.frame[f"{column} high"] - means,
                                         arrayminus=means - self.frame[f"{column} low"])}
            figure.add_bar(x=list(self.frame.index), y=means, name=column, **error)
        if reference is not None:
            figure.add_hline(y=reference, line_dash="dot", annotation_text=f"{reference_name} {reference:.2f}")
        return figure.update_layout(barmode="group", title=title, yaxis_title="score (x100), mean over seeds, 95% CI")


def seed_scores(preset: str = "cpu", variant: str = "full", suite=None) -> dict[int, dict[str, float]]:
    """{seed: category scores} of MEDI `variant` trained at the figures' scale with each of the preset's seeds, on
    `suite` (default: the preset's), evaluated with instructions unless the variant was trained without them."""
    return {seed: category_scores(scores(trained_model(preset, variant, seed=seed, figure=True).model, preset,
                                         instructions_for(variant), suite)) for seed in seeds(preset)}


def _interval(values) -> dict:
    """The t-interval over seeds of `values`, as a JSON-able dict."""
    from ..stats import t_interval

    return _interval_dict(t_interval(list(values)))


def _paired(a: dict[int, dict], b: dict[int, dict], row: str, b_row: str | None = None):
    """The t-interval over seeds of a[seed][row] - b[seed][b_row] (b_row defaults to row; same seeds: a paired
    comparison). Two configurations on one row, or (a is b) one configuration's two rows."""
    from ..stats import paired_difference

    common = sorted(set(a) & set(b))
    return paired_difference([a[seed][row] for seed in common], [b[seed][b_row or row] for seed in common])


def _claim(claim: str, paper, interval, paper_direction: int, seeds_used, steps: int) -> dict:
    """A claims-table row; the claim's words end with the training steps its models took."""
    from ..stats import claim_record

    return claim_record(f"{claim} [{steps} steps]", paper, interval, list(seeds_used), paper_direction)


def _with_intervals(columns: dict[str, dict[int, dict]], rows: list[str]):
    """A frame of the mean and 95% t-interval over seeds of each column (a {seed: {row: score}} dict) per row."""
    import pandas as pd

    data = {}
    for name, per_seed in columns.items():
        intervals = {row: _interval(per_seed[seed][row] for seed in per_seed) for row in rows}
        data[name] = {row: intervals[row]["mean"] for row in rows}
        data[f"{name} low"] = {row: intervals[row]["low"] for row in rows}
        data[f"{name} high"] = {row: intervals[row]["high"] for row in rows}
    return pd.DataFrame(data).loc[rows]


def main_table(preset: str = "cpu") -> ScoreComparison:
    """Paper Table 2 at our scale: the backbone (no instructions) vs the instruction-finetuned model (paper's
    instructions, one model per training seed), per category and on average: the finetuned mean with its 95%
    t-interval over seeds, the gain over the backbone that seed started from (points, and percent of the
    backbone; paired by seed) with its interval, and the paper's
    GTR-large -> INSTRUCTOR-large gain beside it (full MTEB; ours is the preset's suite: compare gains)."""
    main_seeds = seeds(preset, main=True)
    base_results = {seed: scores(base_model(preset, seed=seed), preset, "none", bootstrap=True) for seed in main_seeds}
    tuned_results = {seed: scores(trained_model(preset, seed=seed).model, preset, bootstrap=True) for seed in main_seeds}
    backbones = {seed: category_scores(results) for seed, results in base_results.items()}
    finetuned = {seed: category_scores(results) for seed, results in tuned_results.items()}
    rows = list(backbones[main_seeds[0]])
    base = {row: sum(scores_[row] for scores_ in backbones.values()) / len(backbones) for row in rows}
    frame = _with_intervals({"INSTRUCTOR (ours)": finetuned}, rows)
    frame.insert(0, "backbone", [base[row] for row in rows])
    gains = {row: _paired(finetuned, backbones, row) for row in rows}
    paper = PAPER_TABLE2[PAPER_INSTRUCTOR]
    paper_gain = {row: relative_gain(paper[row], PAPER_GTR_LARGE[row]) for row in rows}
    frame["gain"] = [gains[row].mean for row in rows]
    frame["gain low"] = [gains[row].low for row in rows]
    frame["gain high"] = [gains[row].high for row in rows]
    for column in ("gain", "gain low", "gain high"):
        frame[column.replace("gain", "gain %")] = [100 * value / base[row] for row, value in zip(rows, frame[column])]
    sampling = sampling_error(base_results, tuned_results, rows)
    per_task = task_gains(base_results, tuned_results)
    for column in ("backbone", "ours", "gain"):
        frame[f"eval sd {column}"] = [sampling[row][column] for row in rows]
    frame["paper GTR-large"] = [PAPER_GTR_LARGE[row] for row in rows]
    frame["paper INSTRUCTOR-large"] = [paper[row] for row in rows]
    frame["paper gain %"] = [paper_gain[row] for row in rows]
    claims = [_claim(f"Table 2: instruction finetuning raises the {row if row != 'Average' else 'average'} score "
                     "(finetuned minus backbone, points)", round(paper[row] - PAPER_GTR_LARGE[row], 2), gains[row],
                     1 if paper[row] >= PAPER_GTR_LARGE[row] else -1, finetuned, experiment_config(preset)["train"]["steps"])
              for row in ["Average"] + rows[:-1]]
    metrics = {"columns": ["backbone", "INSTRUCTOR (ours)"], "seeds": sorted(finetuned), "backbone": base,
               "finetuned": dict(frame["INSTRUCTOR (ours)"]), "finetuned_per_seed": {str(k): v for k, v in finetuned.items()},
               "gain": {row: _interval_dict(gains[row]) for row in rows},
               "gain_percent": dict(frame["gain %"]), "paper_gain_percent": paper_gain, "claims": claims,
               "sampling_error": sampling, "tasks": per_task, "bootstrap_replicates": presets.preset(preset)["bootstrap"],
               "seeds_for_half_width": seeds_for_half_width([finetuned[seed]["Average"] - backbones[seed]["Average"]
                                                            for seed in finetuned], TARGET_HALF_WIDTH),
               "training": {str(seed): trained_model(preset, seed=seed).summary for seed in finetuned}}
    return ScoreComparison(frame, metrics)


TARGET_HALF_WIDTH = 0.3  # points: the precision the main effect (average gain) should be known to


def seeds_for_half_width(gains: list[float], target: float, most: int = 1000) -> dict:
    """How many seeds the t-interval of the mean gain needs for a half-width of at most `target`, if the seeds
    spread as these `gains` do: the smallest n >= 2 with t(0.975, n-1) * sd / sqrt(n) <= target (None: more than
    `most`, or fewer than 2 gains to estimate the spread from)."""
    import math

    from scipy import stats as scipy_stats

    if len(gains) < 2:
        return {"target": target, "sd": None, "half_width": None, "seeds": None}
    mean = sum(gains) / len(gains)
    sd = math.sqrt(sum((gain - mean) ** 2 for gain in gains) / (len(gains) - 1))
    half_width = scipy_stats.t.ppf(0.975, len(gains) - 1) * sd / math.sqrt(len(gains))
    needed = next((n for n in range(2, most + 1) if scipy_stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n) <= target), None)
    return {"target": target, "sd": sd, "half_width": half_width, "seeds": needed}


def sampling_error(base_results: dict, tuned_results: dict, rows: list[str]) -> dict[str, dict[str, float]]:
    """Per row (category or "Average"), the evaluation sampling error: the standard deviation of the bootstrap
    replicates of the backbone's score, of the finetuned model's, and of their difference (the same resampled
    test examples for both: paired), each averaged over seeds ({seed: `evaluate(..., bootstrap=B)` results})."""
    import numpy as np

    def draws(results, row):
        return np.asarray(results["bootstrap"][row]["replicates"])

    return {row: {"backbone": float(np.mean([draws(base_results[seed], row).std(ddof=1) for seed in base_results])),
                  "ours": float(np.mean([draws(tuned_results[seed], row).std(ddof=1) for seed in tuned_results])),
                  "gain": _paired_sd([draws(tuned_results[seed], row) for seed in tuned_results],
                                     [draws(base_results[seed], row) for seed in tuned_results])} for row in rows}


def _paired_sd(tuned_draws: list, base_draws: list) -> float:
    """The sd of the difference of paired bootstrap replicates (one array per seed for each model), averaged over
    seeds: the evaluation sampling error of a gain."""
    import numpy as np

    return float(np.mean([(np.asarray(tuned) - np.asarray(base)).std(ddof=1) for tuned, base in zip(tuned_draws, base_draws)]))


def task_gains(base_results: dict, tuned_results: dict) -> dict[str, dict]:
    """Per task of the suite, so that a category's effect can be traced to its tasks: its category, the backbone's
    and the finetuned model's mean score over seeds, the gain paired by seed with its 95% t-interval, and the
    evaluation sampling sd of the gain (of the paired bootstrap replicates, averaged over seeds). Arguments:
    {seed: `evaluate(..., bootstrap=B)` results} of the backbone and of the finetuned model."""
    import numpy as np

    from ..stats import paired_difference

    common = sorted(set(base_results) & set(tuned_results))
    rows = {}
    for task, entry in tuned_results[common[0]]["tasks"].items():
        base = [base_results[seed]["tasks"][task] for seed in common]
        tuned = [tuned_results[seed]["tasks"][task] for seed in common]
        base_scores, tuned_scores = [e["score"] for e in base], [e["score"] for e in tuned]
        rows[task] = {"category": entry["category"], "backbone": float(np.mean(base_scores)),
                      "finetuned": float(np.mean(tuned_scores)),
                      "gain": _interval_dict(paired_difference(tuned_scores, base_scores)),
                      "eval_sd_gain": _paired_sd([e["bootstrap"] for e in tuned], [e["bootstrap"] for e in base])}
    return rows


def task_frame(per_task: dict[str, dict]):
    """`task_gains` as a table, one row per task in Table 2's category order: backbone, finetuned, the gain with
    its interval over seeds, and the gain's evaluation sampling sd."""
    import pandas as pd

    order = {category: i for i, category in enumerate(CATEGORIES)}
    frame = pd.DataFrame({task: {"category": row["category"], "backbone": row["backbone"], "INSTRUCTOR (ours)": row["finetuned"],
                                 "gain": row["gain"]["mean"], "gain low": row["gain"]["low"], "gain high": row["gain"]["high"],
                                 "eval sd gain": row["eval_sd_gain"]} for task, row in per_task.items()}).T
    frame = frame.sort_values("category", key=lambda column: column.map(order), kind="stable")
    return frame.astype({column: float for column in frame.columns if column != "category"})


def training_seconds(trained: TrainedModel) -> float:
    """Seconds the run's optimiser steps took (from its per-step log: batch size / pairs per second)."""
    curves = training_curves(trained.run_dir / "metrics.jsonl")
    return float((trained.config["train"]["batch_size"] / curves["pairs_per_s"]).sum())


def pilot_settings(preset: str = "cpu") -> dict:
    """The pilot's seeds and candidate settings, for the record."""
    chosen = presets.preset(preset)["pilot"]
    return {"seeds": list(chosen["seeds"]), "candidates": chosen["candidates"]}


def pilot(preset: str = "cpu") -> ScoreComparison:
    """The scale pilot: each candidate training setting of the preset (`presets.PRESETS[..]["pilot"]`), trained
    once per pilot seed and scored on the main suite (Table 2's), judged only by the main effect: the average
    gain, finetuned minus that seed's backbone, with its 95% interval, the spread over seeds, the seeds a
    0.3-point half-width would need, the evaluation sampling error of the gain per category (bootstrap) and the
    training time. The rule, fixed before any result: the preset's scale is the candidate with the narrowest
    interval (ties: fewer steps). No ablation direction is looked at."""
    import pandas as pd

    chosen = presets.preset(preset)["pilot"]
    pilot_seeds = list(chosen["seeds"])
    base_results = {seed: scores(base_model(preset, seed=seed), preset, "none", bootstrap=True) for seed in pilot_seeds}
    backbones = {seed: category_scores(results) for seed, results in base_results.items()}
    categories = list(backbones[pilot_seeds[0]])
    rows, gains_per_seed, sampling = {}, {}, {}
    for label in chosen["candidates"]:
        tuned_results, seconds = {}, []
        for seed in pilot_seeds:
            trained = trained_model(preset, seed=seed, scale=label)
            tuned_results[seed] = scores(trained.model, preset, bootstrap=True)
            seconds.append(training_seconds(trained))
        finetuned = {seed: category_scores(results) for seed, results in tuned_results.items()}
        gains_per_seed[label] = {str(seed): {row: finetuned[seed][row] - backbones[seed][row] for row in categories}
                                 for seed in pilot_seeds}
        gain = _paired(finetuned, backbones, "Average")
        spread = seeds_for_half_width([gains["Average"] for gains in gains_per_seed[label].values()], TARGET_HALF_WIDTH)
        sampling[label] = sampling_error(base_results, tuned_results, categories)
        train = experiment_config(preset, seed=pilot_seeds[0], scale=label)["train"]
        rows[label] = {"steps": train["steps"], "lr": train["lr"], "gain": gain.mean, "gain low": gain.low,
                       "gain high": gain.high, "half-width": spread["half_width"], "sd over seeds": spread["sd"],
                       "seeds for 0.3": spread["seeds"], "eval sd gain": sampling[label]["Average"]["gain"],
                       "train s per seed": sum(seconds) / len(seconds)}
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame["lr"] = frame["lr"].map("{:g}".format)  # 5e-05, not 0.0 once the frame is rounded
    best = min(rows, key=lambda label: (rows[label]["half-width"], rows[label]["steps"]))
    metrics = {"columns": ["gain"], "seeds": pilot_seeds, "target_half_width": TARGET_HALF_WIDTH,
               "candidates": rows, "chosen": best, "preset_uses_chosen": not _name_suffix(preset, None, best, False),
               "chosen_gain": rows[best]["gain"], "chosen_half_width": float(rows[best]["half-width"]),
               "target_met": bool(rows[best]["half-width"] <= TARGET_HALF_WIDTH), "backbone": backbones[pilot_seeds[0]],
               "gain_per_seed": gains_per_seed, "sampling_error": sampling,
               "eval_sd_of_gain": {label: {row: values[row]["gain"] for row in categories}
                                   for label, values in sampling.items()},
               "bootstrap_replicates": presets.preset(preset)["bootstrap"]}
    return ScoreComparison(frame, metrics)


def _interval_dict(interval) -> dict:
    return {"mean": interval.mean, "low": interval.low, "high": interval.high, "n": interval.n}


def ablation(preset: str = "cpu", variant: str = "no_superni") -> ScoreComparison:
    """One MEDI `variant` against the full mixture, both trained at the figures' scale with each of the preset's seeds and scored on
    the preset's ablation suite: means with 95% intervals, and the paired difference (variant minus full, same
    seeds) with its interval."""
    variant = _check_variant(variant)
    check_parameters(preset, variant)
    if variant == "full":
        raise ValueError("variant 'full' is the reference; choose another variant to compare with it")
    suite = presets.preset(preset)["ablation_suite"]
    full, other = seed_scores(preset, "full", suite), seed_scores(preset, variant, suite)
    rows = list(full[seeds(preset)[0]])
    frame = _with_intervals({"full": full, variant: other}, rows)
    differences = {row: _paired(other, full, row) for row in rows}
    frame["difference"] = [differences[row].mean for row in rows]
    frame["difference low"] = [differences[row].low for row in rows]
    frame["difference high"] = [differences[row].high for row in rows]
    metrics = {"columns": ["full", variant], "variant": variant, "seeds": list(seeds(preset)), "steps": figure_steps(preset),
               "full": dict(frame["full"]), "ablated": dict(frame[variant]),
               "difference": {row: _interval_dict(differences[row]) for row in rows},
               "per_seed": {"full": {str(k): v for k, v in full.items()}, variant: {str(k): v for k, v in other.items()}}}
    return ScoreComparison(frame, metrics)


FIG3_SELECTIONS = {"symmetric only": "symmetric_only", "asymmetric only": "asymmetric_only", "both (full MEDI)": "full"}
FIG5_LEVELS = {"N/A": "no_instructions", "tag": "tag", "simple": "simple", "detailed": "full"}


def instructions_by_data(preset: str = "cpu") -> ScoreComparison:
    """Paper Fig. 3: MEDI's symmetric group, its asymmetric group and both, each trained with and without
    instructions (evaluated the same way), every configuration once per seed, on the ablation suite; the
    backbone (no instructions) is the reference line. Claims: with instructions, both groups together beat
    either alone; without instructions they do not (the paper: mixing then hurts)."""
    suite = presets.preset(preset)["ablation_suite"]
    base = category_scores(scores(base_model(preset), preset, "none", suite))
    runs = {(label, instructed): seed_scores(preset, selection if instructed else
                                             ("no_instructions" if selection == "full" else f"{selection}:none"), suite)
            for label, selection in FIG3_SELECTIONS.items() for instructed in (True, False)}
    columns = {"with instructions": True, "without instructions": False}
    averages = {name: {seed: {label: runs[(label, instructed)][seed]["Average"] for label in FIG3_SELECTIONS}
                       for seed in seeds(preset)} for name, instructed in columns.items()}
    frame = _with_intervals(averages, list(FIG3_SELECTIONS))
    sym, asym, both = FIG3_SELECTIONS
    claims = []
    for name, instructed in columns.items():
        for single in (sym, asym):
            claims.append(_claim(f"Fig. 3, {name}: both groups minus {single} (average)",
                                 "both > " + single if instructed else "both < " + single,
                                 _paired(averages[name], averages[name], both, single),
                                 1 if instructed else -1, seeds(preset), figure_steps(preset)))
    metrics = {"columns": list(columns), "seeds": list(seeds(preset)), "steps": figure_steps(preset), "backbone_average": base["Average"],
               "average": {name: dict(frame[name]) for name in columns}, "claims": claims,
               "per_seed": {f"{label} / {'with' if instructed else 'without'} instructions": {str(k): v for k, v in per_seed.items()}
                            for (label, instructed), per_seed in runs.items()}}
    return ScoreComparison(frame, metrics)


def instruction_detail(preset: str = "cpu") -> ScoreComparison:
    """Paper Fig. 5: full MEDI trained with no instructions (N/A), dataset tags, simple (a word or two) and
    detailed instructions, each once per seed, on the ablation suite. Claims: each step of detail helps."""
    suite = presets.preset(preset)["ablation_suite"]
    runs = {label: seed_scores(preset, variant, suite) for label, variant in FIG5_LEVELS.items()}
    averages = {"average": {seed: {label: runs[label][seed]["Average"] for label in FIG5_LEVELS} for seed in seeds(preset)}}
    frame = _with_intervals(averages, list(FIG5_LEVELS))
    labels = list(FIG5_LEVELS)
    claims = [_claim(f"Fig. 5: {finer} minus {coarser} instructions (average)", f"{finer} > {coarser}",
                     _paired(averages["average"], averages["average"], finer, coarser), 1, seeds(preset), figure_steps(preset))
              for coarser, finer in zip(labels, labels[1:])]
    metrics = {"columns": ["average"], "seeds": list(seeds(preset)), "steps": figure_steps(preset), "average": dict(frame["average"]), "claims": claims,
               "per_seed": {label: {str(k): v for k, v in per_seed.items()} for label, per_seed in runs.items()}}
    return ScoreComparison(frame, metrics)


# ------------------------------------------------------------------------------------------- robustness
def best_worst_gap(scores_by_set: dict[str, dict[str, float]]) -> dict[str, float]:
    """Per task, the best minus the worst score over instruction sets ({set: {task: score}} -> {task: gap})."""
    tasks = next(iter(scores_by_set.values())).keys()
    return {task: max(s[task] for s in scores_by_set.values()) - min(s[task] for s in scores_by_set.values())
            for task in tasks}


@dataclass
class Robustness:
    """Per model: the best-worst gap of each task and their mean, mean over seeds with 95% intervals (`frame`);
    the scores under each paraphrase set, averaged over seeds (`scores`); the per-seed numbers (`metrics`)."""
    frame: "pandas.DataFrame"
    metrics: dict
    scores: "pandas.DataFrame"

    def figure(self):
        """The gaps per task and their mean, one bar per model with its interval (smaller = more robust)."""
        return ScoreComparison(self.frame, self.metrics).figure("best - worst score over 5 paraphrased instructions")


def robustness(preset: str = "cpu") -> Robustness:
    """Paper Table 6 / Fig. 4: every task of the robustness suite under the five paraphrase sets, for the models
    trained with and without super-NI, each once per seed. Per seed, the best-minus-worst score over the five
    sets per task and its mean over tasks; the mean over seeds with its 95% interval, and the paired difference
    (without minus with super-NI, same seeds). Beside it the noise floor: the gap five scorings would show from
    evaluation sampling noise alone (`stats.noise_floor_gap` on the bootstrap replicates of the first set's
    scores). Claim: super-NI narrows the gap (the difference is positive)."""
    import pandas as pd

    from ..evaluation.instruction_sets import paraphrase_instructions
    from ..stats import noise_floor_gap

    suite = presets.preset(preset)["robustness_suite"]
    variants = {"with super-NI": "full", "without super-NI": "no_superni"}
    rows, per_model, mean_gap = [], {}, {}
    for label, variant in variants.items():
        per_model[label], mean_gap[label] = {}, {}
        for seed in seeds(preset):
            model = trained_model(preset, variant, seed=seed, figure=True).model
            per_set = {}
            for index in range(1, 6):  # the first set with bootstrap replicates: the noise floor of its scores
                results = scores(model, preset, paraphrase_instructions(index), suite, bootstrap=index == 1)
                per_set[f"paraphrase-{index}"] = {task: entry["score"] for task, entry in results["tasks"].items()}
                if index == 1:
                    floors = {task: noise_floor_gap(entry["bootstrap"], k=5).mean for task, entry in results["tasks"].items()}
                rows += [{"model": label, "seed": seed, "instructions": f"paraphrase-{index}", "task": task, "score": score}
                         for task, score in per_set[f"paraphrase-{index}"].items()]
            gaps = best_worst_gap(per_set)
            per_model[label][str(seed)] = {"scores": per_set, "gap": gaps, "noise_floor": floors}
            mean_gap[label][seed] = {"mean gap": sum(gaps.values()) / len(gaps),
                                     "noise floor": sum(floors.values()) / len(floors), **gaps}
    tasks = list(next(iter(mean_gap["with super-NI"].values())))
    frame = _with_intervals(mean_gap, tasks)
    difference = _paired(mean_gap["without super-NI"], mean_gap["with super-NI"], "mean gap")
    claim = _claim("Fig. 4: super-NI narrows the best-worst gap over five paraphrases (without minus with, mean "
                   "gap over tasks)", "gap without > gap with", difference, 1, seeds(preset), figure_steps(preset))
    metrics = {"columns": list(variants), "seeds": list(seeds(preset)), "steps": figure_steps(preset), "per_seed": per_model,
               "mean_gap": {label: dict(frame[label])["mean gap"] for label in variants},
               "noise_floor": {label: dict(frame[label])["noise floor"] for label in variants},
               "gap": {label: {task: value for task, value in dict(frame[label]).items()
                               if task not in ("mean gap", "noise floor")} for label in variants},
               "difference": _interval_dict(difference), "claims": [claim]}
    scores_frame = pd.DataFrame(rows).pivot_table(index="task", columns=["model", "instructions"], values="score")
    return Robustness(frame, metrics, scores_frame)


def paraphrase_table(preset: str = "cpu"):
    """Paper Table 6 style: the five paraphrased instructions of each task of the preset's robustness suite."""
    import pandas as pd

    from ..evaluation.instruction_sets import paraphrase_instructions
    from ..evaluation.suite import resolve_suite

    sets = [paraphrase_instructions(index) for index in range(1, 6)]
    rows = {}
    for task in resolve_suite(presets.preset(preset)["robustness_suite"]):
        # "query": the text instruction of single-instruction tasks, the query side of retrieval tasks
        rows[task] = {instruction_set.name: instruction_set.instruction(task, "query") for instruction_set in sets}
    return pd.DataFrame.from_dict(rows, orient="index")


# ------------------------------------------------------------------------------------------- scaling
@dataclass
class Scaling:
    """Average score and parameters of the backbone cut to each depth, finetuned the same way."""
    frame: "pandas.DataFrame"
    metrics: dict

    def figure(self):
        """Average score against parameters (paper Fig. 6), one point per depth."""
        import plotly.express as px

        return px.line(self.frame.reset_index(), x="parameters", y="Average", text="layers", markers=True,
                       log_x=True, title="model size vs average score").update_traces(textposition="top center")


def scaling(preset: str = "cpu", layers=None) -> Scaling:
    """Paper Fig. 6: the backbone cut to each number of `layers` (default: the preset's), each finetuned on the
    full mixture with the same settings and evaluated on the preset's suite."""
    import pandas as pd

    layers = list(layers or presets.preset(preset)["layers"])
    check_parameters(preset, layers=layers)
    full_depth = depth(base_model(preset))
    too_deep = [count for count in layers if count > full_depth]
    if too_deep:
        raise ValueError(f"layers {too_deep} exceed the backbone's depth {full_depth}")
    rows = {}
    for layer_count in layers:  # the full depth is the figures' full run: reused
        trained = trained_model(preset, layers=None if layer_count == full_depth else layer_count, figure=True)
        rows[layer_count] = {"parameters": parameter_count(trained.model), **category_scores(scores(trained.model, preset)),
                       "final_loss": trained.summary["final_loss"]}
    frame = pd.DataFrame.from_dict(rows, orient="index").rename_axis("layers")
    metrics = {"by_layers": {str(count): row for count, row in rows.items()},
               "average_by_layers": {str(count): row["Average"] for count, row in rows.items()}}
    return Scaling(frame, metrics)


# ------------------------------------------------------------------------------------------- model sizes
def model_sizes(preset: str = "cpu") -> ScoreComparison:
    """Paper Fig. 6: backbones of the preset's sizes (cpu: all-MiniLM-L6-v2 and all-mpnet-base-v2), each
    finetuned on full MEDI with the same settings once per seed and scored on the preset's `sizes_suite`: the
    backbone (no instructions) and the finetuned model (instructions) per size, and the gain (finetuned minus
    that seed's backbone) with its 95% interval. Claim: the gain grows with size (the largest size's gain minus
    the smallest's, paired by seed: the same seed draws the same batches for both)."""
    suite, sizes = presets.preset(preset)["sizes_suite"], list(presets.preset(preset)["sizes"])
    backbones, finetuned, parameters = {}, {}, {}
    for size in sizes:
        backbones[size] = {seed: category_scores(scores(base_model(preset, seed=seed, size=size), preset, "none", suite))
                           for seed in seeds(preset)}
        finetuned[size] = {}
        for seed in seeds(preset):
            trained = trained_model(preset, seed=seed, size=size, figure=True)
            finetuned[size][seed] = category_scores(scores(trained.model, preset, "paper", suite))
            parameters[size] = parameter_count(trained.model)
    sizes.sort(key=parameters.get)  # smallest first: the claim compares the largest with the smallest
    gains = {size: {seed: {"Average": finetuned[size][seed]["Average"] - backbones[size][seed]["Average"]}
                    for seed in seeds(preset)} for size in sizes}
    averages = {name: {seed: {size: values[size][seed]["Average"] for size in sizes} for seed in seeds(preset)}
                for name, values in (("backbone", backbones), ("finetuned", finetuned), ("gain", gains))}
    frame = _with_intervals(averages, sizes)
    frame.insert(0, "parameters", [parameters[size] for size in sizes])
    claim = _claim(f"Fig. 6: the gain from instruction finetuning grows with size ({sizes[-1]} minus {sizes[0]}, "
                   "average, points)", "larger gains more", _paired(averages["gain"], averages["gain"], sizes[-1], sizes[0]), 1,
                   seeds(preset), figure_steps(preset))
    steps = {size: experiment_config(preset, seed=seeds(preset)[0], size=size, figure=True)["train"]["steps"] for size in sizes}
    metrics = {"columns": ["backbone", "finetuned"], "seeds": list(seeds(preset)), "parameters": parameters,
               "steps": steps, "gain": {size: _interval(gains[size][seed]["Average"] for seed in seeds(preset))
                                        for size in sizes},
               "average": {name: dict(frame[name]) for name in ("backbone", "finetuned")}, "claims": [claim],
               "per_seed": {size: {"backbone": {str(k): v for k, v in backbones[size].items()},
                                   "finetuned": {str(k): v for k, v in finetuned[size].items()}} for size in sizes}}
    return ScoreComparison(frame, metrics)
