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
from dataclasses import dataclass
from pathlib import Path

from . import presets
from .config import PROJECT_ROOT
from .evaluation.report import CATEGORIES, PAPER_TABLE2
from .files import atomic_write_json, read_json
from .provenance import config_hash

RUNS_DIR = PROJECT_ROOT / "runs" / "experiments"
FINISHED = "experiment.json"  # written into a run directory once its model is saved

# GTR-large, INSTRUCTOR's backbone before instruction finetuning: its MTEB category averages as the MTEB paper
# reports them (github.com/embeddings-benchmark/mtebpaper, plotstables/avg_table.txt, commit 75bf809a), checked on
# 2026-11-27. The INSTRUCTOR paper's own Table 2 could not be read offline to confirm it prints the same row.
PAPER_GTR_LARGE = {"Retrieval": 47.42, "Reranking": 55.36, "Clustering": 41.60, "PairClassification": 85.33,
                   "Classification": 67.14, "STS": 78.19, "Summarization": 29.50, "Average": 58.28}
PAPER_INSTRUCTOR = "INSTRUCTOR-large (335M)"


def _check_variant(variant: str) -> str:
    from .medi import VARIANTS

    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {', '.join(VARIANTS)}, got {variant!r}")
    return variant


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
    from .medi import build_medi

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


def experiment_config(preset: str = "cpu", variant: str = "full", layers: int | None = None) -> dict:
    """Everything that defines one trained model of an experiment (its hash names the run directory)."""
    from . import train

    check_parameters(preset, variant, layers)
    config = train.preset(preset, name=f"{preset}-{variant}" + (f"-L{layers}" if layers else ""))
    return {"preset": preset, "variant": variant, "layers": layers, "train": dataclasses.asdict(config)}


def settings(preset: str = "cpu", **extra) -> dict:
    """The preset's settings as JSON (MEDI settings, training config, evaluation suites), plus `extra`, for the record."""
    chosen = presets.preset(preset)
    check_parameters(preset, extra.get("variant", "full"))

    def suite(value):
        return value if isinstance(value, str) else {task: dataclasses.asdict(limits) for task, limits in value.items()}

    return {"preset": preset, "medi": presets.medi_settings(preset), "train": experiment_config(preset)["train"],
            "suite": suite(chosen["suite"]), "robustness_suite": suite(chosen["robustness_suite"]),
            "layers": list(chosen["layers"]), **extra}


def run_dir_for(config: dict, runs_dir: str | Path | None = None) -> Path:
    """`runs_dir/<train name>-<hash of config>` (default runs_dir: RUNS_DIR): one folder per experiment config."""
    return Path(runs_dir or RUNS_DIR) / f"{config['train']['name']}-{config_hash(config)}"


@dataclass
class TrainedModel:
    """A finetuned model of an experiment, with its config, run directory and training summary."""
    model: "instructor_lib.model.Instructor"
    config: dict
    run_dir: Path
    summary: dict


def trained_model(preset: str = "cpu", variant: str = "full", layers: int | None = None,
                  runs_dir: str | Path | None = None) -> TrainedModel:
    """The model finetuned on MEDI `variant` from the preset's backbone (cut to `layers` layers when given).

    Trains once per config hash (`experiment_config` plus the hash of the MEDI records, so a changed mixture is
    trained again); a finished run is loaded, an interrupted one resumes.
    """
    from . import train
    from .data import MediDataset
    from .model import Instructor

    check_parameters(preset, variant, layers)
    records = build_mixture(preset, variant).records  # cached: seconds; its hash makes a changed mixture a new run
    config = {**experiment_config(preset, variant, layers), "data_sha256": MediDataset(records).sha256()}
    run_dir = run_dir_for(config, runs_dir)
    finished = run_dir / FINISHED
    if not finished.exists():
        train_config = train.TrainConfig(**config["train"])
        if layers is not None:  # the cut backbone is saved once and trained from its folder
            backbone_dir = run_dir / "backbone"
            if not (backbone_dir / "modules.json").exists():
                truncate_layers(train.load_model(train_config), layers).save_pretrained(backbone_dir)
            train_config = dataclasses.replace(train_config, model=str(backbone_dir))
        result = train.train(train_config, records=records, run_dir=run_dir)
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
    from .model import Instructor

    wanted = experiment_config(preset, variant)
    runs = []
    for marker in Path(runs_dir or RUNS_DIR).glob(f"{wanted['train']['name']}-*/{FINISHED}"):
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
    from .model import Instructor
    from .tiny import tiny_bert

    if model_path:
        return Instructor.from_pretrained(model_path)
    chosen = presets.preset(preset)["notebook_model"]
    if chosen == "tiny-bert":
        return tiny_bert(seed=0)
    if chosen != "trained":
        return Instructor.from_pretrained(chosen)
    trained = finished_model(preset)
    if trained is None:
        print(f"No finished {preset} training run under {RUNS_DIR}: showing the untrained backbone. Run the train "
              "notebook (or `make reproduce`) for the instruction-finetuned model.", flush=True)
        return base_model(preset)
    return trained


def base_model(preset: str = "cpu", layers: int | None = None):
    """The preset's backbone before finetuning (cut to `layers` layers when given), in eval mode."""
    from . import train

    model = train.load_model(train.preset(preset)).eval()
    return truncate_layers(model, layers) if layers else model


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
def scores(model, preset: str = "cpu", instructions="paper", suite=None) -> dict:
    """`instructor_lib.evaluation.evaluate` on the preset's suite (or `suite`), cached per task."""
    from .evaluation import evaluate

    return evaluate(model, suite=suite or presets.preset(preset)["suite"], instructions=instructions,
                    precision="auto")


def instructions_for(variant: str) -> str:
    """The instruction set a variant is evaluated with: none when it was trained without instructions."""
    return "none" if variant in ("no_instructions", "none") else "paper"


def relative_gain(new: float, old: float) -> float:
    """Relative improvement of `new` over `old` in percent: 100 * (new - old) / old."""
    return 100.0 * (new - old) / old


def category_scores(results: dict) -> dict[str, float]:
    """Category averages and "Average" of an `evaluate` result, in Table 2's column order."""
    return {**{c: results["categories"][c] for c in CATEGORIES if c in results["categories"]}, "Average": results["average"]}


@dataclass
class ScoreComparison:
    """Two or more score columns per category (rows: categories held, then Average) and what produced them."""
    frame: "pandas.DataFrame"
    metrics: dict

    def figure(self, title: str = ""):
        """Grouped bars of the score columns per category."""
        import plotly.graph_objects as go

        figure = go.Figure()
        for column in self.metrics["columns"]:
            figure.add_bar(x=list(self.frame.index), y=self.frame[column], name=column)
        return figure.update_layout(barmode="group", title=title, yaxis_title="score (x100)")


def main_table(preset: str = "cpu") -> ScoreComparison:
    """Paper Table 2 at our scale: the backbone (no instructions) vs the instruction-finetuned model (paper's
    instructions), per category and on average, with the relative gain and the paper's GTR-large / INSTRUCTOR-large
    numbers beside them (the paper's are full MTEB; ours are the preset's suite)."""
    import pandas as pd

    trained = trained_model(preset)
    base, ours = category_scores(scores(base_model(preset), preset, "none")), category_scores(scores(trained.model, preset))
    paper = PAPER_TABLE2[PAPER_INSTRUCTOR]
    frame = pd.DataFrame({"backbone": base, "INSTRUCTOR (ours)": ours,
                          "gain %": {c: relative_gain(ours[c], base[c]) for c in ours},
                          "paper GTR-large": {c: PAPER_GTR_LARGE[c] for c in ours},
                          "paper INSTRUCTOR-large": {c: paper[c] for c in ours},
                          "paper gain %": {c: relative_gain(paper[c], PAPER_GTR_LARGE[c]) for c in ours}})
    metrics = {"columns": ["backbone", "INSTRUCTOR (ours)"], "backbone": base, "finetuned": ours,
               "gain_percent": frame["gain %"].to_dict(), "paper_gain_percent": frame["paper gain %"].to_dict(),
               "training": trained.summary}
    return ScoreComparison(frame, metrics)


def ablation(preset: str = "cpu", variant: str = "no_superni") -> ScoreComparison:
    """Paper Fig. 3 / Fig. 5: the model trained on MEDI `variant` vs the one trained on the full mixture."""
    import pandas as pd

    check_parameters(preset, variant)
    if variant == "full":
        raise ValueError("variant 'full' is the reference; choose another variant to compare with it")
    full, other = trained_model(preset), trained_model(preset, variant)
    full_scores = category_scores(scores(full.model, preset))
    other_scores = category_scores(scores(other.model, preset, instructions_for(variant)))
    frame = pd.DataFrame({"full": full_scores, variant: other_scores,
                          "difference": {c: other_scores[c] - full_scores[c] for c in full_scores}})
    metrics = {"columns": ["full", variant], "variant": variant, "full": full_scores, "ablated": other_scores,
               "difference": frame["difference"].to_dict(), "training": {"full": full.summary, variant: other.summary}}
    return ScoreComparison(frame, metrics)


# ------------------------------------------------------------------------------------------- robustness
def best_worst_gap(scores_by_set: dict[str, dict[str, float]]) -> dict[str, float]:
    """Per task, the best minus the worst score over instruction sets ({set: {task: score}} -> {task: gap})."""
    tasks = next(iter(scores_by_set.values())).keys()
    return {task: max(s[task] for s in scores_by_set.values()) - min(s[task] for s in scores_by_set.values())
            for task in tasks}


@dataclass
class Robustness:
    """Scores of each model under each paraphrase set, and the best-worst gap per task."""
    frame: "pandas.DataFrame"
    metrics: dict

    def figure(self):
        """The best-worst gap per task, one bar per model (smaller = more robust to the wording)."""
        import plotly.graph_objects as go

        figure = go.Figure()
        for model, gaps in self.metrics["gap"].items():
            figure.add_bar(x=list(gaps), y=list(gaps.values()), name=model)
        return figure.update_layout(barmode="group", title="best - worst score over 5 paraphrased instructions",
                                    yaxis_title="gap (score x100)")


def robustness(preset: str = "cpu") -> Robustness:
    """Paper Table 6 / Fig. 4: every task under the five paraphrase sets, for the models trained with and
    without super-NI; the best-worst gap per task and its mean (lower = more robust)."""
    import pandas as pd

    from .evaluation.instruction_sets import paraphrase_instructions

    suite = presets.preset(preset)["robustness_suite"]
    models = {"with super-NI": trained_model(preset), "without super-NI": trained_model(preset, "no_superni")}
    rows, per_model = [], {}
    for label, trained in models.items():
        per_set = {}
        for index in range(1, 6):
            results = scores(trained.model, preset, paraphrase_instructions(index), suite)
            per_set[f"paraphrase-{index}"] = {task: entry["score"] for task, entry in results["tasks"].items()}
            rows += [{"model": label, "instructions": f"paraphrase-{index}", "task": task, "score": score}
                     for task, score in per_set[f"paraphrase-{index}"].items()]
        per_model[label] = per_set
    gap = {label: best_worst_gap(per_set) for label, per_set in per_model.items()}
    metrics = {"scores": per_model, "gap": gap,
               "mean_gap": {label: sum(gaps.values()) / len(gaps) for label, gaps in gap.items()}}
    frame = pd.DataFrame(rows).pivot_table(index="task", columns=["model", "instructions"], values="score")
    return Robustness(frame, metrics)


def paraphrase_table(preset: str = "cpu"):
    """Paper Table 6 style: the five paraphrased instructions of each task of the preset's robustness suite."""
    import pandas as pd

    from .evaluation.instruction_sets import paraphrase_instructions
    from .evaluation.suite import resolve_suite

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
    for layer_count in layers:  # the full depth is the main model: reused
        trained = trained_model(preset, layers=None if layer_count == full_depth else layer_count)
        rows[layer_count] = {"parameters": parameter_count(trained.model), **category_scores(scores(trained.model, preset)),
                       "final_loss": trained.summary["final_loss"]}
    frame = pd.DataFrame.from_dict(rows, orient="index").rename_axis("layers")
    metrics = {"by_layers": {str(count): row for count, row in rows.items()},
               "average_by_layers": {str(count): row["Average"] for count, row in rows.items()}}
    return Scaling(frame, metrics)
