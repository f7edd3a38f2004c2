"""Training speed and memory: our step vs a sentence-transformers step with CachedMultipleNegativesRankingLoss.

Both sides train the same model (all-MiniLM-L6-v2) on the same (query, positive, negative) batch, the same
token lengths, the same chunk ("mini batch") size and AdamW; both do two forward passes and one backward
pass per text (gradient caching). We chunk the 3B texts sorted by length; sentence-transformers chunks each
column in order, so with --varied-lengths we pad less. Reported: pairs (records) per second, median over the
timed steps, in float32 and under bfloat16 autocast, as a ratio ours / sentence-transformers measured in one
process with the runs interleaved. Then the peak memory of one step at batch 256 with and without gradient
caching, each in a fresh subprocess (Linux: resident-set high-water mark, reset before the step).

    python benchmarks/train_speed.py [--batch 32 --chunk 32 --words 40 --steps 3 --memory-batch 256]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

from instructor_lib.config import default_model_path, library_versions
from instructor_lib.data import collate
from instructor_lib.loss import instructor_loss
from instructor_lib.model import Instructor
from instructor_lib.train import loss_and_backward

WORDS = ("the a model text query document retrieval science news review question answer sentence passage "
         "embedding dog cat food city river music history energy market policy health").split()
INSTRUCTION = "Represent the document for retrieval: "


def make_batch(batch_size: int, words: int, seed: int = 0, varied: bool = False):
    """A one-task batch of texts of `words` words, or with `varied` of 1 to 2 * words words (like real data)."""
    rng = random.Random(seed)
    text = lambda: " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 2 * words) if varied else words))  # noqa: E731
    return collate([{"query": [INSTRUCTION, text()], "pos": [INSTRUCTION, text()], "neg": [INSTRUCTION, text()],
                     "task_name": "bench"} for _ in range(batch_size)])


def ours(max_seq_length: int, chunk: int | None):
    """A step function of our trainer (gradient caching with `chunk` texts per pass)."""
    model = Instructor.from_pretrained().train()
    model.max_seq_length = max_seq_length
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-5)

    def step(batch, bf16: bool):
        optimizer.zero_grad(set_to_none=True)
        loss_and_backward(model, batch, instructor_loss, 0.01, chunk_size=chunk, bf16=bf16)
        optimizer.step()
    return step


def sentence_transformers_step(max_seq_length: int, chunk: int):
    """The same step through sentence-transformers: SentenceTransformer + CachedMultipleNegativesRankingLoss."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.losses import CachedMultipleNegativesRankingLoss

    model = SentenceTransformer(str(default_model_path()), device="cpu").train()
    model.max_seq_length = max_seq_length
    loss_fn = CachedMultipleNegativesRankingLoss(model, mini_batch_size=chunk)
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-5)

    def step(batch, bf16: bool):
        optimizer.zero_grad(set_to_none=True)
        features = [model.preprocess([instruction + text for instruction, text in column])
                    for column in (batch.query, batch.pos, batch.neg)]
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):  # the cached loss re-embeds in backward
            loss = loss_fn(features, None)
            loss.backward()
        optimizer.step()
    return step


def speed(args) -> list[dict]:
    batch = make_batch(args.batch, args.words, varied=args.varied_lengths)
    steps = {"ours": ours(args.max_seq_length, args.chunk),
             "sentence-transformers": sentence_transformers_step(args.max_seq_length, args.chunk)}
    rows = []
    for precision in ("float32", "bfloat16"):
        seconds = {name: [] for name in steps}
        for name, step in steps.items():  # warm-up
            step(batch, precision == "bfloat16")
        for _ in range(args.steps):  # interleaved, so load from other processes hits both alike
            for name, step in steps.items():
                started = time.perf_counter()
                step(batch, precision == "bfloat16")
                seconds[name].append(time.perf_counter() - started)
        pairs = {name: args.batch / statistics.median(values) for name, values in seconds.items()}
        rows.append({"precision": precision, "ours_pairs_per_s": pairs["ours"],
                     "st_pairs_per_s": pairs["sentence-transformers"],
                     "ratio_ours_over_st": pairs["ours"] / pairs["sentence-transformers"]})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def peak_memory_child(batch_size: int, chunk: int | None, max_seq_length: int, words: int) -> None:
    """Run one float32 step and print the resident-memory high-water mark it added (MiB)."""
    step, batch = ours(max_seq_length, chunk), make_batch(batch_size, words)
    step(make_batch(chunk or 8, words, seed=1), False)  # allocate optimizer state and warm up
    Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
    before = _status_kib("VmHWM")
    step(batch, False)
    print(json.dumps({"peak_step_mib": (_status_kib("VmHWM") - before) / 1024}))


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field} (the memory measurement needs Linux)")


def memory(args) -> list[dict]:
    rows = []
    for chunk in (args.chunk, None):
        command = [sys.executable, __file__, "--memory-child", str(chunk or 0), "--memory-batch", str(args.memory_batch),
                   "--max-seq-length", str(args.max_seq_length), "--words", str(args.words)]
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
        rows.append({"batch": args.memory_batch, "chunk": chunk, **json.loads(output)})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=32, help="records per step for the speed comparison")
    parser.add_argument("--chunk", type=int, default=32, help="texts per pass (ST: mini_batch_size per column)")
    parser.add_argument("--words", type=int, default=40, help="words per text (all texts reach similar lengths)")
    parser.add_argument("--varied-lengths", action="store_true", help="1 to 2 x words words per text")
    parser.add_argument("--max-seq-length", type=int, default=64)
    parser.add_argument("--steps", type=int, default=3, help="timed steps per side and precision")
    parser.add_argument("--memory-batch", type=int, default=256, help="records per step for the memory comparison")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", default="runs/bench/train_speed.json")
    args = parser.parse_args()
    if args.memory_child is not None:
        return peak_memory_child(args.memory_batch, args.memory_child or None, args.max_seq_length, args.words)
    result = {"args": vars(args), "cpu": platform.processor() or platform.machine(), "threads": torch.get_num_threads(),
              "cpu_count": os.cpu_count(), "versions": library_versions(), "speed": speed(args),
              "memory": [] if args.skip_memory else memory(args)}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
