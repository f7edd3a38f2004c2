"""How long `make reproduce` will take on this machine, said before it starts (a cold cpu run takes about 80 minutes
on the 2-core AVX-512 EPYC of the committed reports and hours on a 2-core AVX2-only one).

Per notebook that would run (a cached one counts 0): its last wall time on this machine (same CPU, threads and
resolved precision) when its run record has one; otherwise its recorded wall time from another machine, scaled by
a short calibration measured here (`calibrate`: a few training steps of the preset's training config on synthetic
records, one encode pass) against the same calibration of the machine that made the reports (`summary.json`'s
`calibration`, written with the index), or, before any run recorded one, against `REFERENCE`. Each notebook's time
is split into training and the rest (encoding: evaluation, mining, maps) by `TRAIN_SHARE`, and each part scales
with its own throughput. A notebook without any record is not counted, and the line says so.
"""
from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import random
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ...provenance import cpu_name


@dataclass(frozen=True)
class Calibration:
    """Throughputs of the calibration on one machine: training pairs (records) per second, encoded texts per second."""
    cpu: str
    threads: int
    train_pairs_per_s: float
    encode_texts_per_s: float

    def record(self) -> dict:
        """As `summary.json` stores it."""
        return dataclasses.asdict(self)

    @classmethod
    def from_record(cls, record: dict) -> Calibration:
        return cls(**{field.name: record[field.name] for field in dataclasses.fields(cls)})


# Until the committed summary records a calibration: the committed reports' machine, a 2-core AMD EPYC with AVX-512
# BF16 (bf16 training). Training: the cpu preset's step on the train benchmark's synthetic batch, which is what
# `calibrate` trains on (docs/benchmarks.md, "Training on the AVX-512 BF16 EPYC", 2026-12-06: 23.73 pairs/s; real
# MEDI batches ran 12-24 pairs/s there, the committed train report 15.2; a 2-core Zen-1 EPYC, AVX2, float32, trains
# the real ones 5.1 pairs/s). Encoding: on the same machine kind (2026-12-07, niced beside a cold run, so only the
# ratio counts) `calibrate`'s encode pass ran 12x its training pairs/s (median of 4 alternated rounds, 9.7-18;
# one whole calibration 13.9): 12 x 23.7.
REFERENCE = Calibration(cpu="AMD EPYC (AVX-512 BF16)", threads=2, train_pairs_per_s=23.7, encode_texts_per_s=285.0)

# Share of each notebook's wall time spent training, from the committed cpu run (2026-12-06; 15.2 pairs/s, so
# 4.2 s a MiniLM step of 64 pairs, ~4.8x that for mpnet): train 65 steps (273 of 306 s); main_table seeds 2-5 x 65
# steps (seed 1 is train's run; 1,092 of 1,376 s); data_ablation 6 configurations x 3 seeds x 10 steps (756 of
# 1,052 s); robustness 3 runs (126 of 556 s, the rest five paraphrases scored per model); instruction_detail 2 new
# levels x 3 seeds (252 of 339 s); scaling mpnet 3 x 10 steps and the cut backbone (~650 of 1,018 s); the pilot
# ~0.6 (400-660 steps of its 4,660 s); build_medi (mining), ablation (every run reused), embedding_viz, playground
# encode only. A notebook not listed takes DEFAULT_TRAIN_SHARE.
TRAIN_SHARE = {"build_medi": 0.0, "train": 0.9, "main_table": 0.8, "pilot": 0.6, "data_ablation": 0.7,
               "robustness": 0.25, "instruction_detail": 0.75, "ablation": 0.0, "scaling": 0.65,
               "embedding_viz": 0.0, "playground": 0.0}
DEFAULT_TRAIN_SHARE = 0.5

# The synthetic records: the train benchmark's texts (benchmarks/train_speed.py), 1 to 80 words of this vocabulary
WORDS = ("the a model text query document retrieval science news review question answer sentence passage "
         "embedding dog cat food city river music history energy market policy health").split()
INSTRUCTION = "Represent the document for retrieval: "
MAX_WORDS = 80


@dataclass(frozen=True)
class Machine:
    """What makes two runs comparable in time: CPU model, threads, and the precision "auto" resolves to."""
    cpu: str
    threads: int
    precision: str

    def ran(self, record: dict | None) -> bool:
        """Whether a run record is a finished run of this machine (its wall time then is this machine's)."""
        return bool(record and record.get("status") == "ok" and not record.get("cached")
                    and record.get("cpu") == self.cpu and record.get("threads") == self.threads
                    and record.get("precision", {}).get("resolved") == self.precision)


@dataclass(frozen=True)
class Part:
    """One notebook in the estimate: its seconds (None: nothing recorded) and what they rest on."""
    name: str
    seconds: float | None
    basis: str  # "cached", "this machine", "scaled", "no record"


def scaled_seconds(wall_s: float, train_share: float, there: Calibration, here: Calibration) -> float:
    """A wall time measured `there`, on this machine: its training part scaled by the ratio of training
    throughputs, the rest by that of encoding throughputs."""
    return wall_s * (train_share * there.train_pairs_per_s / here.train_pairs_per_s
                     + (1 - train_share) * there.encode_texts_per_s / here.encode_texts_per_s)


def needs_calibration(names: list[str], records: dict[str, dict | None], cached: set[str], machine: Machine) -> bool:
    """Whether some notebook that would run has only another machine's record to go by."""
    return any(name not in cached and records.get(name) and not machine.ran(records[name])
               and records[name].get("status") == "ok" for name in names)


def parts(names: list[str], records: dict[str, dict | None], cached: set[str], machine: Machine,
          there: Calibration, here: Calibration | None) -> list[Part]:
    """Each notebook's share of the estimate (`here` None: no calibration, so other machines' times count as none)."""
    rows = []
    for name in names:
        record = records.get(name)
        if name in cached:
            rows.append(Part(name, 0.0, "cached"))
        elif machine.ran(record):
            rows.append(Part(name, record["wall_s"], "this machine"))
        elif record and record.get("status") == "ok" and here is not None:
            rows.append(Part(name, scaled_seconds(record["wall_s"], TRAIN_SHARE.get(name, DEFAULT_TRAIN_SHARE), there, here),
                             "scaled"))
        else:
            rows.append(Part(name, None, "no record"))
    return rows


def hours(seconds: float) -> str:
    """`2 h 40 min`, `35 min` or `40 s`."""
    minutes = round(seconds / 60)
    if seconds < 60:
        return f"{round(seconds)} s"
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"


def estimate_line(rows: list[Part], machine: Machine, there: Calibration, here: Calibration | None,
                  calibration_s: float | None) -> str:
    """The one line `make reproduce` prints first: the total and what it rests on."""
    total = sum(row.seconds for row in rows if row.seconds is not None)
    counts = {basis: sum(row.basis == basis for row in rows) for basis in ("cached", "this machine", "scaled", "no record")}
    if counts["cached"] == len(rows):
        return f"estimate: nothing to run, all {len(rows)} notebooks are cached"
    line = f"estimate: {hours(total)} on this {machine.cpu} ({machine.threads} threads): "
    if counts["scaled"] and here is not None:
        line += (f"training {here.train_pairs_per_s:.1f} pairs/s vs {there.train_pairs_per_s:.1f}, encoding "
                 f"{here.encode_texts_per_s:.0f} texts/s vs {there.encode_texts_per_s:.0f} on the committed run's CPU "
                 f"({there.cpu}, {there.threads} threads; calibrated in {calibration_s:.0f} s)")
        if counts["this machine"]:
            line += f"; {counts['this machine']} notebooks from their last run here"
    else:
        line += f"the last run's wall times on this machine ({counts['this machine']} notebooks)"
    if counts["cached"]:
        line += f"; {counts['cached']} cached"
    if counts["no record"]:
        missing = ", ".join(row.name for row in rows if row.basis == "no record")
        line += f"; not counted, no record to go by: {missing}"
    return line


def synthetic_records(count: int, seed: int = 0) -> list[dict]:
    """`count` one-task MEDI records of 1 to `MAX_WORDS` random words per text (the train benchmark's texts)."""
    rng = random.Random(seed)

    def text() -> list[str]:
        return [INSTRUCTION, " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, MAX_WORDS)))]
    return [{"query": text(), "pos": text(), "neg": text(), "task_name": "calibration"} for _ in range(count)]


def calibrate(config, model=None, steps: int = 3, texts: int = 300) -> Calibration:
    """Measure this machine: `steps` training steps of `config` (a `TrainConfig`; one more first, untimed, to warm
    up) on synthetic records, median pairs/s; then one encode pass of `texts` texts in the config's precision,
    batches of 64 as the evaluation's. `model`: the starting model (None: `config.model`, loaded)."""
    import torch

    from ... import training

    config = dataclasses.replace(config, steps=steps + 1, checkpoint_every=steps + 1)
    model = training.load_model(config, model)
    pairs_per_s = []
    with tempfile.TemporaryDirectory(prefix="instructor-calibration-") as run_dir, \
            contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        training.train(config, synthetic_records(config.batch_size * config.steps), run_dir=run_dir, model=model,
                       on_step=lambda step, metrics: pairs_per_s.append(metrics["pairs_per_s"]) if step > 1 else None)
    inputs = [record["query"] for record in synthetic_records(texts, seed=1)]
    model.encode(inputs[:64], batch_size=64, precision=config.precision)  # warm-up: the inference copy, kernels
    started = time.perf_counter()
    model.encode(inputs, batch_size=64, precision=config.precision)
    return Calibration(cpu_name(), torch.get_num_threads(), round(statistics.median(pairs_per_s), 2),
                       round(texts / (time.perf_counter() - started), 1))


def this_machine() -> Machine:
    """This machine as the run records describe theirs (`run._execute`: CPU, torch threads, "auto" resolved)."""
    import torch

    from ...precision import precision_record

    return Machine(cpu_name(), torch.get_num_threads(), precision_record()["resolved"])


def committed_calibration(summary_path) -> Calibration:
    """The calibration the reports' summary recorded, else `REFERENCE`."""
    try:
        return Calibration.from_record(json.loads(Path(summary_path).read_text())["calibration"])
    except (OSError, ValueError, KeyError, TypeError):
        return REFERENCE


def announce(preset: str, names: list[str], records: dict[str, dict | None], cached: set[str], summary_path,
             log) -> Calibration | None:
    """`log` the estimate of running `names` (`records`: each one's last run record; `cached`: those that would not
    run), calibrating this machine first when some notebook has only another machine's time to go by.
    Returns the calibration measured, for the summary (None when none was needed)."""
    from ... import training

    machine, there = this_machine(), committed_calibration(summary_path)
    here, seconds = None, None
    if needs_calibration(names, records, cached, machine):
        log("estimate: calibrating this machine (a few training steps and an encode pass; --no-estimate skips it)")
        started = time.perf_counter()
        here = calibrate(training.preset(preset))
        seconds = time.perf_counter() - started
    log(estimate_line(parts(names, records, cached, machine, there, here), machine, there, here, seconds))
    return here
