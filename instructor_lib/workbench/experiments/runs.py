"""The cache of trained models: every experiment config is trained once, into `runs/experiments/<name>-<hash>/`,
and a finished run is loaded instead of trained again; the backbones and the model a notebook shows.

A run's hash covers `experiment_config` and the hash of its MEDI records, so a changed mixture is a new run.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from ... import presets, tiny, training
from ...config import runs_root
from ...files import atomic_write_json, read_json
from ...medi import canonical_variant
from ...model import Instructor
from ...data import MediDataset
from ...provenance import config_hash
from .backbones import truncate_layers
from .configs import check_parameters, experiment_config, overrides, seeds
from .custom import apply_pooling, custom_records
from .mixture import mixture_sha256, training_records

FINISHED = "experiment.json"  # written into a run directory once its model is saved


def default_runs_dir() -> Path:
    """The experiments' runs: `runs_root()/experiments`."""
    return runs_root() / "experiments"


def run_dir_for(config: dict, runs_dir: str | Path | None = None) -> Path:
    """`runs_dir/<train name>-<hash of config>` (default runs_dir: `default_runs_dir()`): one folder per experiment config."""
    return Path(runs_dir or default_runs_dir()) / f"{config['train']['name']}-{config_hash(config)}"


@dataclass
class TrainedModel:
    """A finetuned model of an experiment, with its config, run directory and training summary."""
    model: Instructor
    config: dict
    run_dir: Path
    summary: dict


def trained_model(preset: str = "cpu", variant: str = "full", layers: int | None = None,
                  runs_dir: str | Path | None = None, seed: int | None = None, size: str | None = None,
                  scale: str | None = None, figure: bool = False, custom: dict | None = None) -> TrainedModel:
    """The model finetuned on MEDI `variant` from the preset's backbone (cut to `layers` layers when given, or
    the backbone of one of the preset's `size`s), with training seed `seed` (default: the preset's first), at
    the preset's scale, the figures' (`figure`) or that of its pilot candidate `scale`; `custom`: your own
    variant's settings (`custom.custom_variant`: data selection, training instructions, pooling) applied on top.

    Trains once per config hash (`experiment_config` plus the hash of the MEDI records, so a changed mixture is
    trained again); a finished run is loaded, an interrupted one resumes.
    """
    check_parameters(preset, variant, layers)
    variant = canonical_variant(variant)
    records = (lambda: custom_records(training_records(preset, variant), custom)) if custom else \
        (lambda: training_records(preset, variant))
    data_sha256 = MediDataset(records()).sha256() if custom else mixture_sha256(preset, variant)
    config = {**experiment_config(preset, variant, layers, seed, size, scale, figure, custom), "data_sha256": data_sha256}
    run_dir = run_dir_for(config, runs_dir)
    finished = run_dir / FINISHED
    if not finished.exists():
        train_config = training.TrainConfig(**config["train"])
        if layers is not None:  # the cut backbone is saved once and trained from its folder
            backbone_dir = run_dir / "backbone"
            if not (backbone_dir / "modules.json").exists():
                truncate_layers(training.load_model(train_config, starting_model(train_config)), layers).save_pretrained(backbone_dir)
            train_config = dataclasses.replace(train_config, model=str(backbone_dir))
        start = starting_model(train_config)
        if custom:  # the pooling is the model's: a custom one needs the model object, loaded here
            start = apply_pooling(start or training.load_model(train_config), custom)
        result = training.train(train_config, records=records(), run_dir=run_dir, model=start)
        atomic_write_json(finished, {"config": config, "config_hash": config_hash(config),
                                     "final_loss": result.final_loss}, indent=1)
    return TrainedModel(Instructor.from_pretrained(run_dir / "model"), config, run_dir, run_summary(run_dir))


def run_summary(run_dir: Path) -> dict:
    """What a finished run recorded: its config hashes, final loss, steps, records and batches."""
    advice = f"delete {run_dir} to train this model again"
    run = read_json(run_dir / "run.json", advice)
    # records_dropped_per_epoch: tasks with fewer records than a batch never train (see data.TaskBatchSampler)
    summary = {key: read_json(run_dir / FINISHED, advice).get(key) for key in ("config_hash", "final_loss")}
    return summary | {"steps": run["config"]["steps"], **{key: run[key] for key in (
        "records", "tasks", "batches_per_epoch", "records_dropped_per_epoch", "data_hash")}, "train_config_hash": run["config_hash"]}


def finished_model(preset: str = "cpu", variant: str = "full", runs_dir: str | Path | None = None) -> Instructor | None:
    """The newest finished run of `experiment_config(preset, variant)` (on any MEDI build), or None: no training
    and no mixture building, so that it answers at once."""
    wanted = experiment_config(preset, variant)
    runs = []
    for marker in Path(runs_dir or default_runs_dir()).glob(f"{wanted['train']['name']}-*/{FINISHED}"):
        config = read_json(marker, f"delete {marker.parent} to train this model again")["config"]
        if {key: value for key, value in config.items() if key != "data_sha256"} == wanted:
            runs.append(marker)
    if not runs:
        return None
    return Instructor.from_pretrained(max(runs, key=lambda marker: marker.stat().st_mtime).parent / "model")


def base_model(preset: str = "cpu", layers: int | None = None, seed: int | None = None, size: str | None = None) -> Instructor:
    """The preset's backbone (or that of one of its `size`s) before finetuning (cut to `layers` layers when
    given), in eval mode: the model the run of training seed `seed` starts from (a pretrained backbone is the
    same for every seed; a tiny random model is initialised by the seed)."""
    settings = {"seed": seeds(preset)[0] if seed is None else seed, **overrides(preset, size)}
    config = training.preset(preset, **settings)
    model = training.load_model(config, starting_model(config)).eval()
    return truncate_layers(model, layers) if layers else model


def starting_model(config: training.TrainConfig) -> Instructor | None:
    """The model a training config starts from when its `model` labels a random test model of `instructor_lib.tiny`
    (the smoke preset's "tiny-bert", "tiny-t5"), initialised by the config's seed; None for a folder or hub id,
    which training loads itself."""
    build = tiny.BY_LABEL.get(config.model)
    return build(seed=config.seed) if build else None


def model_description(model: Instructor) -> str:
    """Which model a report embedded, in words that hold on any machine: a trained run by its run directory's name
    (and the config that names it), anything else by its name or path."""
    path = Path(str(model.name_or_path))
    run_dir = path.parent if path.name == "model" else path
    if (run_dir / FINISHED).exists():
        config = read_json(run_dir / FINISHED, f"delete {run_dir} to train this model again")["config"]
        return (f"run {run_dir.name}: {config['train'].get('model') or 'the preset backbone'} finetuned on MEDI "
                f"variant {config['variant']} for {config['train']['steps']} steps, seed {config['train']['seed']}")
    return str(model.name_or_path)


def notebook_model(model_path: str = "", preset: str = "cpu") -> Instructor:
    """The model a notebook shows: `model_path` when given, else the preset's (`Preset.notebook_model`).

    smoke: a tiny random BERT; cpu: our instruction-finetuned all-MiniLM-L6-v2 once the train notebook (or
    `make reproduce`) has trained it, else the backbone itself, at once and saying so (never a training run);
    paper: hkunlp/instructor-large (a local copy, or the hub when online).
    """
    if model_path:
        return Instructor.from_pretrained(model_path)
    chosen = presets.preset(preset).notebook_model
    if chosen == "tiny-bert":
        return tiny.tiny_bert(seed=0)
    if chosen != "trained":
        return Instructor.from_pretrained(chosen)
    trained = finished_model(preset)
    if trained is None:
        print(f"No finished {preset} training run under {default_runs_dir()}: showing the untrained backbone. Run the train "
              "notebook (or `make reproduce`) for the instruction-finetuned model.", flush=True)
        return base_model(preset)
    return trained
