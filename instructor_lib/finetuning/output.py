"""What a finetuning run leaves in its output folder: the metrics (`finetune.metrics.json`), the model folder with
its prompts and model card, and optionally its ONNX export. The model folder is written beside its final name
and renamed into place, so an interrupted write never leaves half a model where a finished one was."""
from __future__ import annotations

import math
import shutil
from pathlib import Path

from ..files import atomic_write_json
from ..stats import Interval, paired_difference

METRICS_FILE = "finetune.metrics.json"
MODEL_DIR = "model"
ONNX_DIR = "onnx"
HEADLINE = "ndcg@10"  # the score whose gain is `gain` (the others are under `gains`)


def gain_record(interval: Interval) -> dict:
    """{"ours", "ci_low", "ci_high", "n"} of a paired gain; undefined bounds (one seed) are None (JSON null)."""
    bound = (lambda value: float(value) if interval.defined else None)
    return {"ours": float(interval.mean), "ci_low": bound(interval.low), "ci_high": bound(interval.high), "n": interval.n}


def gains(before: dict[int, dict], after: dict[int, dict]) -> dict[str, dict]:
    """Per score, the gain after minus before, paired by seed, with its 95% t-interval (`stats.paired_difference`)."""
    seeds = sorted(after)
    return {metric: gain_record(paired_difference([after[seed][metric] for seed in seeds],
                                                  [before[seed][metric] for seed in seeds]))
            for metric in after[seeds[0]]}


def interval_text(entry: dict) -> str:
    """"+1.23 [0.45, 2.01]" (or "+1.23, one seed: no interval")."""
    if entry["ci_low"] is None:
        return f"{entry['ours']:+.2f} (one seed: no interval)"
    return f"{entry['ours']:+.2f} [{entry['ci_low']:+.2f}, {entry['ci_high']:+.2f}]"


def card_text(metrics: dict) -> str:
    """The model card's account of the run: data, instructions, training, scores before and after with intervals."""
    mean = (lambda per_seed, metric: sum(scores[metric] for scores in per_seed.values()) / len(per_seed))
    lines = ["## Finetuning", "",
             f"Finetuned by `instructor_lib.finetune` from `{metrics['model']}` (preset {metrics['preset']}): "
             f"{metrics['steps']} steps of {metrics['batch_size']} pairs, seeds {', '.join(map(str, metrics['seeds']))}; "
             f"this folder holds seed {metrics['saved_seed']}, the best on the dev split.", "",
             f"- data: `{metrics['data']}`, sha256 `{metrics['data_sha256']}`, {metrics['rows']} rows ({metrics['kind']}); "
             f"split by text hash, no text in two splits: {metrics['splits']}; {metrics['mined_negatives']} hard "
             "negatives mined with the starting model",
             f"- query instruction: `{metrics['instructions']['query']!r}`",
             f"- document instruction: `{metrics['instructions']['document']!r}`", "",
             "| test score | before | after | gain, paired by seed (95% interval) |", "|---|---|---|---|"]
    for metric, entry in metrics["gains"].items():
        lines.append(f"| {metric} | {mean(metrics['before'], metric):.2f} | {mean(metrics['after'], metric):.2f} | "
                     f"{interval_text(entry)} |")
    return "\n".join(lines)


def write_model(model, output_dir: Path, instructions: dict[str, str], card: str) -> Path:
    """Save `model` as `output_dir/model` (prompts `instructions`, the model card with `card`), replacing any old one."""
    final, staging = output_dir / MODEL_DIR, output_dir / f".{MODEL_DIR}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    model.save_pretrained(staging, instructions=instructions, model_card_extra=card)
    if final.exists():
        shutil.rmtree(final)
    staging.rename(final)
    return final


def write_onnx(model, output_dir: Path) -> Path:
    """The ONNX export of `model` into `output_dir/onnx` (`instructor_lib.onnx.export_onnx`)."""
    from ..onnx import export_onnx

    return export_onnx(model, output_dir / ONNX_DIR)


def write_metrics(metrics: dict, output_dir: Path) -> Path:
    """`output_dir/finetune.metrics.json`; seeds become strings (JSON keys), nan never appears (None instead)."""
    def clean(value):
        if isinstance(value, dict):
            return {str(key): clean(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [clean(item) for item in value]
        return None if isinstance(value, float) and not math.isfinite(value) else value

    return atomic_write_json(output_dir / METRICS_FILE, clean(metrics))
