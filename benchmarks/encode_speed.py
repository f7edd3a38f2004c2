"""Encode speed: Instructor.encode vs SentenceTransformer.encode(prompt=...) with Pooling(include_prompt=False).

Same weights (the default all-MiniLM-L6-v2), the same 2,000 real instruction/text pairs of mixed length
(STSBenchmark sentences, Banking77 queries, SciFact abstracts; three official INSTRUCTOR instructions),
runs alternated in one process. Prints texts/s, the speed ratios and the agreement of the embeddings.

Each row also reports achieved matmul FLOP/s (texts at their own token lengths, see flops.py) as a fraction of
this machine's measured GEMM peak in the row's precision (measured before and after the timed runs, the higher
taken). Where bf16 is emulated (AVX2-only CPUs), the bfloat16 rows run on a small subset, since they are ~100x
slower.

Goals: float32 >= 1.0x sentence-transformers float32 with max abs diff <= 1e-5; auto >= 1.0x
sentence-transformers float32 on every machine; where bf16 is native, auto (= bfloat16) >= 2.5x, mean
cosine >= 0.999 to our float32.

    python benchmarks/encode_speed.py [--pairs 2000] [--rounds 3] [--batch-size 32]
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from flops import forward_flops, gemm_peak
from instructor_lib import Instructor, readers
from instructor_lib.config import data_dir
from instructor_lib.provenance import cpu_name, library_versions
from instructor_lib.weights import default_model_path
from instructor_lib.precision import precision_record, resolve_precision

INSTRUCTIONS = {
    "sts": "Represent the statement: ",
    "banking": "Represent the bank purpose for classification: ",
    "scifact": "represent the Scientific passage for retrieval; ",
}


def load_groups(n_pairs: int) -> dict[str, list[str]]:
    """Real texts grouped by instruction: short sentences, short queries and long abstracts, in equal thirds."""
    root = data_dir() / "eval"
    per_group = n_pairs // 3
    sts = [first for first, _, _ in readers.stsbenchmark_pairs(root / "STSBenchmark" / "sts-test.csv")][:per_group]
    banking = [text for text, _ in readers.banking77_records(root / "Banking77Classification" / "test.csv")][:per_group]
    corpus = readers.scifact_corpus(root / "SciFact" / "corpus_train.csv.gz")[:n_pairs - 2 * per_group]
    return {"sts": sts, "banking": banking, "scifact": [f"{title} {text}" for _, title, text in corpus]}


def timed(encode, groups) -> tuple[float, np.ndarray]:
    start = time.perf_counter()
    outputs = [encode(texts, INSTRUCTIONS[name]) for name, texts in groups.items()]
    return time.perf_counter() - start, np.concatenate(outputs)


def useful_flops(model, groups) -> float:
    """Matmul FLOPs of embedding every text at its own token length (instruction included, no padding)."""
    return sum(forward_flops(model, 1, len(ids)) for name, texts in groups.items()
               for ids in model.token_ids([(INSTRUCTIONS[name], text) for text in texts]))


def subset(groups: dict[str, list[str]], total: int) -> dict[str, list[str]]:
    """The first texts of each group, `total` in all (for runs that are too slow for the whole set)."""
    return {name: texts[:max(1, total // len(groups))] for name, texts in groups.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--emulated-bf16-pairs", type=int, default=150,
                        help="texts for the bfloat16 runs where this CPU emulates bf16 (they run ~100x slower)")
    args = parser.parse_args()
    from sentence_transformers import SentenceTransformer

    groups = load_groups(args.pairs)
    ours = Instructor.from_pretrained()
    auto = resolve_precision("auto")
    bf16_groups = groups if auto == "bfloat16" else subset(groups, args.emulated_bf16_pairs)
    reference = SentenceTransformer(str(default_model_path()), device="cpu")
    reference[1].include_prompt = False
    reference_bf16 = SentenceTransformer(str(default_model_path()), device="cpu").to(torch.bfloat16)
    reference_bf16[1].include_prompt = False
    bs = args.batch_size
    runners = {  # name -> (encode, inputs, precision of its matmuls)
        "instructor float32": (lambda t, i: ours.encode(t, instruction=i, batch_size=bs, precision="float32"), groups, "float32"),
        f"instructor auto ({auto})": (lambda t, i: ours.encode(t, instruction=i, batch_size=bs), groups, auto),
        "instructor bfloat16": (lambda t, i: ours.encode(t, instruction=i, batch_size=bs, precision="bfloat16"), bf16_groups, "bfloat16"),
        "sentence-transformers float32": (lambda t, i: reference.encode(t, prompt=i, batch_size=bs, normalize_embeddings=True), groups, "float32"),
        "sentence-transformers bfloat16": (lambda t, i: reference_bf16.encode(t, prompt=i, batch_size=bs, normalize_embeddings=True).astype(np.float32),
                                           bf16_groups, "bfloat16"),
    }
    peaks = {"float32": gemm_peak(torch.float32), "bfloat16": gemm_peak(torch.bfloat16)}
    flops = {id(inputs): useful_flops(ours, inputs) for _, inputs, _ in runners.values()}
    for encode, _, _ in runners.values():  # warm-up: thread pools, oneDNN kernels
        encode(groups["sts"][:8], INSTRUCTIONS["sts"])
    seconds = {name: [] for name in runners}
    embeddings = {}
    for _ in range(args.rounds):
        for name, (encode, inputs, _) in runners.items():
            elapsed, embeddings[name] = timed(encode, inputs)
            seconds[name].append(elapsed)
    # a peak measured once on a shared machine can come out low: take the faster of before and after
    peaks = {dtype: max(peak, gemm_peak(getattr(torch, dtype))) for dtype, peak in peaks.items()}
    rows = {}
    for name, (_, inputs, precision) in runners.items():
        best = min(seconds[name])
        rows[name] = {"texts": sum(map(len, inputs.values())), "texts_per_s": sum(map(len, inputs.values())) / best,
                      "gflop_per_s": flops[id(inputs)] / best / 1e9, "fraction_of_peak": flops[id(inputs)] / best / peaks[precision],
                      "precision": precision}
    base = rows["sentence-transformers float32"]["texts_per_s"]
    exact = embeddings["instructor float32"]
    bf16_exact = exact if bf16_groups is groups else ours.encode(
        [[INSTRUCTIONS[name], text] for name, texts in bf16_groups.items() for text in texts], precision="float32")
    report = {
        "cpu": cpu_name(), "threads": torch.get_num_threads(), "batch_size": bs, "rounds": args.rounds,
        "auto_precision": precision_record(), "gemm_peak_gflop_per_s": {k: round(v / 1e9, 1) for k, v in peaks.items()},
        "rows": {name: {key: round(value, 3) if isinstance(value, float) else value for key, value in row.items()}
                 | {"ratio_vs_st_float32": round(row["texts_per_s"] / base, 2)} for name, row in rows.items()},
        "max_abs_diff_float32_vs_st": float(np.abs(exact - embeddings["sentence-transformers float32"]).max()),
        "mean_cosine_bf16_vs_our_float32": float((embeddings["instructor bfloat16"] * bf16_exact).sum(axis=1).mean()),
        "bf16_texts": rows["instructor bfloat16"]["texts"],
        "versions": library_versions(),
    }
    print(f"{cpu_name()}, {torch.get_num_threads()} threads; GEMM peak float32 {peaks['float32'] / 1e9:.1f} GFLOP/s, "
          f"bfloat16 {peaks['bfloat16'] / 1e9:.1f} GFLOP/s; auto -> {auto}")
    print(f"{'runner':34s} {'texts':>6s} {'texts/s':>8s} {'vs ST fp32':>10s} {'GFLOP/s':>8s} {'of peak':>8s}")
    for name, row in rows.items():
        print(f"{name:34s} {row['texts']:6d} {row['texts_per_s']:8.1f} {row['texts_per_s'] / base:9.2f}x "
              f"{row['gflop_per_s']:8.1f} {row['fraction_of_peak']:8.1%}")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
