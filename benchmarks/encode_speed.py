"""Encode speed: Instructor.encode vs SentenceTransformer.encode(prompt=...) with Pooling(include_prompt=False).

Same weights (the default all-MiniLM-L6-v2), the same 2,000 real instruction/text pairs of mixed length
(STSBenchmark sentences, Banking77 queries, SciFact abstracts; three official INSTRUCTOR instructions),
runs alternated in one process. Prints texts/s, the speed ratios and the agreement of the embeddings.

Goals: float32 >= 1.0x sentence-transformers float32 with max abs diff <= 1e-5; bfloat16 >= 3.0x
sentence-transformers float32, at least as fast as sentence-transformers' own bf16, mean cosine >= 0.999
to our float32.

    python benchmarks/encode_speed.py [--pairs 2000] [--rounds 3] [--batch-size 32]
"""
from __future__ import annotations

import argparse
import ast
import csv
import gzip
import json
import time

import numpy as np
import torch

from instructor_lib import Instructor
from instructor_lib.config import data_dir, default_model_path, library_versions

INSTRUCTIONS = {
    "sts": "Represent the statement: ",
    "banking": "Represent the bank purpose for classification: ",
    "scifact": "represent the Scientific passage for retrieval; ",
}


def load_groups(n_pairs: int) -> dict[str, list[str]]:
    """Real texts grouped by instruction: short sentences, short queries and long abstracts, in equal thirds."""
    root = data_dir() / "eval"
    per_group = n_pairs // 3
    with open(root / "STSBenchmark" / "sts-test.csv", encoding="utf-8") as handle:
        sts = [row.split("\t")[5] for row in handle][:per_group]
    with open(root / "Banking77Classification" / "test.csv", encoding="utf-8") as handle:
        banking = [row["text"] for row in csv.DictReader(handle)][:per_group]
    with gzip.open(root / "SciFact" / "corpus_train.csv.gz", "rt", encoding="utf-8") as handle:
        rows = csv.DictReader(handle)
        scifact = [row["title"] + " " + " ".join(ast.literal_eval(row["abstract"].replace("'\n '", "', '")))
                   for row, _ in zip(rows, range(n_pairs - 2 * per_group))]
    return {"sts": sts, "banking": banking, "scifact": scifact}


def timed(encode, groups) -> tuple[float, np.ndarray]:
    start = time.perf_counter()
    outputs = [encode(texts, INSTRUCTIONS[name]) for name, texts in groups.items()]
    return time.perf_counter() - start, np.concatenate(outputs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    from sentence_transformers import SentenceTransformer

    groups = load_groups(args.pairs)
    n = sum(len(texts) for texts in groups.values())
    ours = Instructor.from_pretrained()
    reference = SentenceTransformer(str(default_model_path()), device="cpu")
    reference[1].include_prompt = False
    reference_bf16 = SentenceTransformer(str(default_model_path()), device="cpu").to(torch.bfloat16)
    reference_bf16[1].include_prompt = False
    bs = args.batch_size
    runners = {
        "instructor float32": lambda t, i: ours.encode(t, instruction=i, batch_size=bs, show_progress_bar=False),
        "instructor bfloat16": lambda t, i: ours.encode(t, instruction=i, batch_size=bs, precision="bfloat16", show_progress_bar=False),
        "sentence-transformers float32": lambda t, i: reference.encode(t, prompt=i, batch_size=bs, normalize_embeddings=True),
        "sentence-transformers bfloat16": lambda t, i: reference_bf16.encode(t, prompt=i, batch_size=bs, normalize_embeddings=True).astype(np.float32),
    }
    for runner in runners.values():  # warm-up: thread pools, oneDNN kernels
        runner(groups["sts"][:64], INSTRUCTIONS["sts"])
    seconds = {name: [] for name in runners}
    embeddings = {}
    for _ in range(args.rounds):
        for name, runner in runners.items():
            elapsed, embeddings[name] = timed(runner, groups)
            seconds[name].append(elapsed)
    speed = {name: n / min(times) for name, times in seconds.items()}
    base = speed["sentence-transformers float32"]
    exact = embeddings["instructor float32"]
    report = {
        "pairs": n, "batch_size": bs, "rounds": args.rounds, "threads": torch.get_num_threads(),
        "texts_per_s": {name: round(value, 1) for name, value in speed.items()},
        "ratio_vs_st_float32": {name: round(value / base, 2) for name, value in speed.items()},
        "max_abs_diff_float32_vs_st": float(np.abs(exact - embeddings["sentence-transformers float32"]).max()),
        "mean_cosine_bf16_vs_our_float32": float((embeddings["instructor bfloat16"] * exact).sum(axis=1).mean()),
        "versions": library_versions(),
    }
    for name in runners:
        print(f"{name:32s} {speed[name]:8.1f} texts/s  {speed[name] / base:5.2f}x")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
