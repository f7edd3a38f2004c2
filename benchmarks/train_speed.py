"""Training speed and memory: our step (the cpu preset's and the gradient-caching one) vs sentence-transformers.

All sides train the same model (all-MiniLM-L6-v2) on the same (query, positive, negative) batch with AdamW:
- "ours": the cpu preset's step: the 3B texts in chunks of similar token length (--chunk), every chunk's
  autograd graph kept, one backward (one forward per text);
- "ours, torch's dropout": the same step with torch's dropout masks (`bernoulli_`) instead of the trainer's
  cheaper CPU masks (instructor_lib/dropout.py): the step before them;
- "ours, gradient caching": GradCache with chunks of --cache-chunk texts (two forwards per text, the memory of
  one chunk): the cpu preset's step before, kept for batches that do not fit memory;
- "sentence-transformers": CachedMultipleNegativesRankingLoss with mini_batch_size --cache-chunk (it chunks each
  column in order; two forwards per text).
Reported per precision ("auto" as resolved here; bfloat16 too where it is native): pairs (records) per second,
median over the timed steps, runs interleaved in one process; the ratio to sentence-transformers; achieved
matmul FLOP/s as a fraction of the measured GEMM peak of that precision (see flops.py; measured before and after
the timed steps, the higher taken), both for the FLOPs
executed (padded chunks, the second forward of gradient caching included) and the useful ones (each text at its
own length, forward + backward once). Then the peak memory of one step at --memory-batch, with and without
gradient caching, each in a fresh subprocess (Linux: resident-set high-water mark, reset before the step).

    python benchmarks/train_speed.py [--batch 64 --chunk 32 --cache-chunk 64 --words 40 --steps 3]
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock

import torch

from flops import forward_flops, gemm_peak, padded_forward_flops
from instructor_lib.provenance import cpu_name, library_versions
from instructor_lib.weights import default_model_path
from instructor_lib.data import collate
from instructor_lib.loss import instructor_loss
from instructor_lib.model import Instructor
from instructor_lib.precision import precision_record, resolve_precision
from instructor_lib.training import length_chunks, loss_and_backward, step as training_step

WORDS = ("the a model text query document retrieval science news review question answer sentence passage "
         "embedding dog cat food city river music history energy market policy health").split()
INSTRUCTION = "Represent the document for retrieval: "


def make_batch(batch_size: int, words: int, seed: int = 0, varied: bool = False):
    """A one-task batch of texts of `words` words, or with `varied` of 1 to 2 * words words (like real data)."""
    rng = random.Random(seed)
    text = lambda: " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 2 * words) if varied else words))  # noqa: E731
    return collate([{"query": [INSTRUCTION, text()], "pos": [INSTRUCTION, text()], "neg": [INSTRUCTION, text()],
                     "task_name": "bench"} for _ in range(batch_size)])


def ours(max_seq_length: int, chunk: int | None, gradient_caching: bool, torch_dropout: bool = False):
    """A step function of our trainer, and its model. `torch_dropout`: torch's own dropout masks instead of the
    trainer's cheaper CPU ones (instructor_lib/dropout.py), the step as it was before them."""
    model = Instructor.from_pretrained().train()
    model.max_seq_length = max_seq_length
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-5, fused=True)  # as instructor_lib.training

    def step(batch, precision: str):
        optimizer.zero_grad(set_to_none=True)
        with (mock.patch.object(training_step, "cpu_dropout", contextlib.nullcontext) if torch_dropout
              else contextlib.nullcontext()):
            loss_and_backward(model, batch, instructor_loss, 0.01, chunk_size=chunk,
                              gradient_caching=gradient_caching, precision=precision)
        optimizer.step()
    return step, model


def sentence_transformers_step(max_seq_length: int, chunk: int):
    """The same step through sentence-transformers: SentenceTransformer + CachedMultipleNegativesRankingLoss."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.losses import CachedMultipleNegativesRankingLoss

    model = SentenceTransformer(str(default_model_path()), device="cpu").train()
    model.max_seq_length = max_seq_length
    loss_fn = CachedMultipleNegativesRankingLoss(model, mini_batch_size=chunk)
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-5)

    def step(batch, precision: str):
        optimizer.zero_grad(set_to_none=True)
        features = [model.preprocess([instruction + text for instruction, text in column])
                    for column in (batch.query, batch.pos, batch.neg)]
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bfloat16"):  # the cached loss re-embeds in backward
            loss = loss_fn(features, None)
            loss.backward()
        optimizer.step()
    return step


def step_flops(model, batch, chunk: int | None, gradient_caching: bool) -> tuple[float, float]:
    """(executed, useful) matmul FLOPs of one training step of our trainer on `batch`."""
    pairs = batch.query + batch.pos + batch.neg
    chunks = length_chunks(model, pairs, chunk)
    passes = 4 if gradient_caching and len(chunks) > 1 else 3  # forward + backward (2x), + the re-embedding forward
    executed = passes * padded_forward_flops(model, [features for _, features in chunks])
    useful = 3 * sum(forward_flops(model, 1, len(ids)) for ids in model.token_ids(pairs))
    return executed, useful


def speed(args) -> list[dict]:
    batch = make_batch(args.batch, args.words, varied=not args.uniform_lengths)
    ours_step, model = ours(args.max_seq_length, args.chunk, False)
    cached_step, _ = ours(args.max_seq_length, args.cache_chunk, True)
    torch_dropout_step, _ = ours(args.max_seq_length, args.chunk, False, torch_dropout=True)
    flops = step_flops(model, batch, args.chunk, False)  # the same step either way: only the masks differ
    steps = {"ours": (ours_step, flops), "ours, torch's dropout": (torch_dropout_step, flops),
             "ours, gradient caching": (cached_step, step_flops(model, batch, args.cache_chunk, True)),
             "sentence-transformers": (sentence_transformers_step(args.max_seq_length, args.cache_chunk), None)}
    useful = steps["ours"][1][1]
    auto = resolve_precision("auto")
    rows = []
    for precision in ("float32", "bfloat16") if auto == "bfloat16" else ("float32",):
        dtype = torch.float32 if precision == "float32" else torch.bfloat16
        peak_before = gemm_peak(dtype)
        seconds = {name: [] for name in steps}
        for name, (step, _) in steps.items():  # warm-up
            step(batch, precision)
        for _ in range(args.steps):  # interleaved, so load from other processes hits both alike
            for name, (step, _) in steps.items():
                started = time.perf_counter()
                step(batch, precision)
                seconds[name].append(time.perf_counter() - started)
        # a peak measured once on a shared machine can come out low: take the faster of before and after
        peak = max(peak_before, gemm_peak(dtype))
        st_pairs = args.batch / statistics.median(seconds["sentence-transformers"])
        for name, (_, flops) in steps.items():
            median = statistics.median(seconds[name])
            row = {"precision": precision, "runner": name, "pairs_per_s": round(args.batch / median, 2),
                   "ratio_vs_st": round(args.batch / median / st_pairs, 2), "gemm_peak_gflop_per_s": round(peak / 1e9, 1),
                   "useful_fraction_of_peak": round(useful / median / peak, 3)}
            if flops is not None:
                row["executed_fraction_of_peak"] = round(flops[0] / median / peak, 3)
                row["padding_and_recompute_overhead"] = round(flops[0] / flops[1] - 1, 3)
            rows.append(row)
            print(json.dumps(row), flush=True)
    if auto == "float32":
        print("bfloat16 not timed: this CPU emulates it (auto resolved to float32: "
              f"{precision_record()['reason']})", flush=True)
    return rows


def peak_memory_child(batch_size: int, chunk: int, gradient_caching: bool, max_seq_length: int, words: int) -> None:
    """Run one float32 step and print the resident-memory high-water mark it added (MiB)."""
    (step, _), batch = ours(max_seq_length, chunk, gradient_caching), make_batch(batch_size, words)
    step(make_batch(8, words, seed=1), "float32")  # allocate optimizer state and warm up
    Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
    before = _status_kib("VmHWM")
    step(batch, "float32")
    print(json.dumps({"peak_step_mib": (_status_kib("VmHWM") - before) / 1024}))


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field} (the memory measurement needs Linux)")


def memory(args) -> list[dict]:
    rows = []
    for chunk, caching in ((args.cache_chunk, True), (args.chunk, False)):
        command = [sys.executable, __file__, "--memory-child", str(chunk), "--memory-batch", str(args.memory_batch),
                   "--max-seq-length", str(args.max_seq_length), "--words", str(args.words)]
        command += ["--memory-child-caching"] if caching else []
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
        rows.append({"batch": args.memory_batch, "chunk": chunk, "gradient_caching": caching, **json.loads(output)})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=64, help="records per step (the cpu preset's)")
    parser.add_argument("--chunk", type=int, default=32, help="texts per pass of our step (the cpu preset's)")
    parser.add_argument("--cache-chunk", type=int, default=64,
                        help="texts per pass with gradient caching (ST: mini_batch_size per column)")
    parser.add_argument("--words", type=int, default=40, help="texts have 1 to 2 x words words (like real data)")
    parser.add_argument("--uniform-lengths", action="store_true", help="every text has exactly --words words")
    parser.add_argument("--max-seq-length", type=int, default=128)
    parser.add_argument("--steps", type=int, default=3, help="timed steps per side and precision")
    parser.add_argument("--memory-batch", type=int, default=256, help="records per step for the memory comparison")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--memory-child-caching", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", default="runs/bench/train_speed.json")
    args = parser.parse_args()
    if args.memory_child is not None:
        return peak_memory_child(args.memory_batch, args.memory_child, args.memory_child_caching, args.max_seq_length,
                                 args.words)
    result = {"args": vars(args), "cpu": cpu_name(), "threads": torch.get_num_threads(), "precision": precision_record(),
              "cpu_count": os.cpu_count(), "versions": library_versions(), "speed": speed(args),
              "memory": [] if args.skip_memory else memory(args)}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
