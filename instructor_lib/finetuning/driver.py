"""`finetune(data, query_instruction, ...)`: an INSTRUCTOR embedder finetuned on the user's own pairs, scored
before and after on a held-out split, with the gain paired by seed and its 95% interval.

The run: every input is checked before anything is written (the file, the parameters, the starting model);
the file is split by text hash (split.py), the training pairs without a negative get one mined with the
starting model (mining.py), each seed trains with `instructor_lib.training.train` into
`output_dir/runs/seed-<seed>-<hash>/` and is scored on the test and dev splits (scoring.py); the seed best on
dev is saved as `output_dir/model/` (output.py). A killed run called again resumes: a finished seed (its scores
file written) is not trained again, an interrupted one resumes from its training checkpoint.
"""
from __future__ import annotations

import copy
import json
import time
from dataclasses import dataclass
from pathlib import Path

from .. import presets, tiny, training
from ..config import runs_root
from ..data import MediDataset
from ..files import atomic_write_json, read_json
from ..model import Instructor
from ..provenance import sha256_file, sha256_json
from .data import Example, read_pairs
from .mining import with_negatives
from .output import HEADLINE, card_text, gains, write_metrics, write_model, write_onnx
from .scoring import score_split
from .split import Split, split_data

TASK_NAME = "finetune"  # the one task of the training records (batches are single-task)
SCORES_FILE = "finetune.scores.json"  # written into a seed's run directory once it is trained and scored


@dataclass
class FinetuneResult:
    """Where a finetuning run put things, its metrics (as in `finetune.metrics.json`) and its settings."""
    output_dir: Path
    model_path: Path
    metrics: dict
    config: dict

    def table(self):
        """Scores before and after (mean over seeds, 95% t-interval) and the gain paired by seed, one row per score."""
        import pandas as pd

        from ..stats import t_interval

        rows = {}
        for metric, gain in self.metrics["gains"].items():
            row = {}
            for column in ("before", "after"):
                interval = t_interval([scores[metric] for scores in self.metrics[column].values()])
                row |= {column: interval.mean, f"{column} low": interval.low, f"{column} high": interval.high}
            rows[metric] = row | {"gain": gain["ours"], "gain low": gain["ci_low"], "gain high": gain["ci_high"]}
        return pd.DataFrame(rows).T.astype(float)


def check_parameters(query_instruction, document_instruction, preset, steps, seeds) -> tuple[int, ...]:
    """The seeds to train (the preset's when None); a wrong parameter is an error before any work."""
    chosen = presets.preset(preset)
    for name, value in (("query_instruction", query_instruction), ("document_instruction", document_instruction)):
        if not isinstance(value, str):
            raise TypeError(f"{name} must be a string, got {type(value).__name__}")
    if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int) or steps < 1):
        raise ValueError(f"steps must be a positive integer or None (the preset's), got {steps!r}")
    if isinstance(seeds, str):  # "1,2,3", as a notebook parameter gives them
        try:
            seeds = tuple(int(seed) for seed in seeds.split(",") if seed.strip())
        except ValueError:
            raise ValueError(f"seeds must be comma-separated integers, got {seeds!r}") from None
    seeds = chosen.seeds if seeds is None else tuple(seeds)
    if not seeds or any(isinstance(seed, bool) or not isinstance(seed, int) for seed in seeds) or len(set(seeds)) < len(seeds):
        raise ValueError(f"seeds must be distinct integers (None: the preset's), got {seeds!r}")
    return seeds


def starting_model(model: str | None, preset: str):
    """(label, a function seed -> a fresh starting model): `model` (a folder or hub id, read now so a damaged
    folder fails before any work), or the preset's backbone (the default backbone; smoke: a tiny random BERT)."""
    label = model if model is not None else presets.preset(preset).train.model
    if label in tiny.BY_LABEL:
        return label, lambda seed: tiny.BY_LABEL[label](seed=seed)
    loaded = Instructor.from_pretrained(label)
    return loaded.name_or_path if model is None else str(model), lambda seed: copy.deepcopy(loaded)


def records_of(pairs: list[Example], query_instruction: str, document_instruction: str) -> list[dict]:
    """MEDI training records of the training pairs (one task: every batch mixes all of them)."""
    return [{"query": [query_instruction, pair.query], "pos": [document_instruction, pair.positive],
             "neg": [document_instruction, pair.negative], "task_name": TASK_NAME} for pair in pairs]


def train_seed(config: training.TrainConfig, records: list[dict], start, run_dir: Path, split: Split,
               instructions: tuple[str, str]) -> dict:
    """One seed: its scores before training (test), after (test and dev); trained and scored once, then read."""
    done = run_dir / SCORES_FILE
    if done.exists():
        return read_json(done, f"delete {run_dir} to train this seed again")
    model = training.load_model(config, start).eval()  # the truncation training uses, for a like-for-like before
    before = score_split(model, split, "test", *instructions)
    result = training.train(config, records, run_dir=run_dir, model=model)
    tuned = Instructor.from_pretrained(result.model_path)
    scores = {"before": before, "after": score_split(tuned, split, "test", *instructions),
              "dev": score_split(tuned, split, "dev", *instructions), "final_loss": result.final_loss}
    atomic_write_json(done, scores)
    return scores


def finetune(data: str | Path, query_instruction: str, document_instruction: str = "", model: str | None = None,
             preset: str = "cpu", steps: int | None = None, seeds=None, output_dir: str | Path | None = None,
             onnx: bool = False) -> FinetuneResult:
    """Finetune an embedder on your own data and score it before and after on a held-out split.

    Args:
        data: a .csv, .jsonl or .parquet file with columns query, positive (optional negative), or text, label
            (each text then paired with another of its label). See `instructor_lib.finetuning.data`.
        query_instruction: the instruction of queries, e.g. "Represent the question for retrieving answers: ".
        document_instruction: the instruction of documents; "" uses the query's (symmetric data).
        model: the starting model (a folder or hub id); None: the preset's backbone (all-MiniLM-L6-v2 for cpu,
            the embedded offline copy; smoke: a tiny random BERT).
        preset: "smoke", "cpu" or "paper": steps, batch size (cut to the training pairs when fewer),
            precision and truncation of the training run (`instructor_lib.presets`).
        steps: training steps (None: the preset's).
        seeds: training seeds, a list or comma-separated text (None: the preset's); the gain's interval is over them.
        output_dir: where everything goes (None: `runs/finetune-<preset>` under the runs root).
        onnx: also export the saved model as ONNX into `output_dir/onnx`.
    Returns a `FinetuneResult`; writes `output_dir/model/` (a sentence-transformers folder whose prompts
    "query" and "document" hold the instructions), `finetune.metrics.json` and the per-seed runs.
    """
    started = time.time()
    seeds = check_parameters(query_instruction, document_instruction, preset, steps, seeds)
    instructions = (query_instruction, document_instruction or query_instruction)
    user = read_pairs(data)
    split = split_data(user)
    label, fresh = starting_model(model, preset)
    output_dir = Path(output_dir) if output_dir else runs_root() / f"finetune-{preset}"

    miner = fresh(seeds[0])
    miner.max_seq_length = min(miner.max_seq_length, presets.preset(preset).train.max_seq_length or miner.max_seq_length)
    train_pairs, mined = with_negatives(split.pairs["train"], miner)
    records = records_of(train_pairs, *instructions)
    batch_size = min(presets.preset(preset).train.batch_size, len(records))
    data_sha256 = sha256_file(user.path)
    per_seed, run_dirs = {}, {}
    for seed in seeds:
        config = training.preset(preset, name=f"finetune-s{seed}", model=label, seed=seed, batch_size=batch_size,
                                 **({"steps": steps} if steps is not None else {}))
        key = sha256_json({"train": config.hash(), "records": MediDataset(records).sha256(), "split": split.sizes()})[:16]
        run_dirs[seed] = output_dir / "runs" / f"seed-{seed}-{key}"  # changed data or settings: another run
        per_seed[seed] = train_seed(config, records, fresh(seed), run_dirs[seed], split, instructions)

    saved_seed = max(seeds, key=lambda seed: (per_seed[seed]["dev"][HEADLINE], -seed))
    before = {seed: per_seed[seed]["before"] for seed in seeds}
    after = {seed: per_seed[seed]["after"] for seed in seeds}
    gain_table = gains(before, after)
    metrics = {"before": before, "after": after, "dev": {seed: per_seed[seed]["dev"] for seed in seeds},
               "gain": {key: value for key, value in gain_table[HEADLINE].items() if key != "n"}, "gains": gain_table,
               "splits": split.sizes(), "data": str(user.path), "data_sha256": data_sha256, "rows": len(user.examples),
               "kind": user.kind, "mined_negatives": mined,
               "instructions": {"query": instructions[0], "document": instructions[1]}, "model": label,
               "preset": preset, "steps": config.steps, "batch_size": batch_size, "seeds": list(seeds),
               "saved_seed": saved_seed, "final_loss": {seed: per_seed[seed]["final_loss"] for seed in seeds}}
    best = Instructor.from_pretrained(run_dirs[saved_seed] / "model")
    model_path = write_model(best, output_dir, {"query": instructions[0], "document": instructions[1]}, card_text(metrics))
    if onnx:
        metrics["onnx"] = str(write_onnx(best, output_dir))
    metrics["wall_seconds"] = round(time.time() - started, 1)
    metrics = json.loads(write_metrics(metrics, output_dir).read_text())  # as written: seeds as strings, no nan
    config_record = {"data": str(user.path), "query_instruction": query_instruction,
                     "document_instruction": document_instruction, "model": label, "preset": preset, "steps": steps,
                     "seeds": list(seeds), "output_dir": str(output_dir), "onnx": onnx}
    return FinetuneResult(output_dir, model_path, metrics, config_record)
