"""ONNX encode speed: our onnxruntime paths (float32, dynamic int8) against our torch float32 path and against
sentence-transformers' own ONNX backend.

Same weights (the default all-MiniLM-L6-v2), the same 2,000 real instruction/text pairs as
benchmarks/encode_speed.py (its functions are imported), runs alternated in one process, onnxruntime with
torch's thread count. Prints texts/s, the ratios to our torch float32 path and the agreement of the embeddings.
sentence-transformers' ONNX backend needs optimum-onnx, whose latest release (0.1.0) requires
transformers<4.58 (we pin 5.23.0); where it cannot load, the table says why.

    python benchmarks/onnx_speed.py [--pairs 2000] [--rounds 3] [--batch-size 32]
"""
from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
import torch

from encode_speed import INSTRUCTIONS, load_groups, timed
from instructor_lib import Instructor
from instructor_lib.onnx import export_onnx, load_onnx
from instructor_lib.provenance import library_versions
from instructor_lib.weights import default_model_path

BASE = "instructor torch float32"


def sentence_transformers_onnx(batch_size: int):
    """An encode function for SentenceTransformer(folder, backend="onnx") with the prompt excluded from pooling,
    or the reason it cannot be built here."""
    from sentence_transformers import SentenceTransformer

    try:
        reference = SentenceTransformer(str(default_model_path()), device="cpu", backend="onnx")
    except Exception as err:  # it raises a bare Exception when optimum is missing
        return None, f"{type(err).__name__}: {err}".splitlines()[0]
    reference[1].include_prompt = False
    return (lambda t, i: reference.encode(t, prompt=i, batch_size=batch_size, normalize_embeddings=True)), None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()

    groups = load_groups(args.pairs)
    n = sum(len(texts) for texts in groups.values())
    bs = args.batch_size
    ours = Instructor.from_pretrained()
    with tempfile.TemporaryDirectory() as tmp:
        graphs = {name: load_onnx(export_onnx(ours, Path(tmp) / name, quantize=quantize))
                  for name, quantize in (("float32", None), ("int8", "int8"))}
        runners = {
            BASE: lambda t, i: ours.encode(t, instruction=i, batch_size=bs, precision="float32", show_progress_bar=False),
            "instructor onnx float32": lambda t, i: graphs["float32"].encode(t, instruction=i, batch_size=bs, show_progress_bar=False),
            "instructor onnx int8": lambda t, i: graphs["int8"].encode(t, instruction=i, batch_size=bs, show_progress_bar=False),
        }
        reference, unavailable = sentence_transformers_onnx(bs)
        if reference is not None:
            runners["sentence-transformers onnx"] = reference
        for runner in runners.values():  # warm-up: thread pools, kernels
            runner(groups["sts"][:64], INSTRUCTIONS["sts"])
        seconds = {name: [] for name in runners}
        embeddings = {}
        for _ in range(args.rounds):
            for name, runner in runners.items():
                elapsed, embeddings[name] = timed(runner, groups)
                seconds[name].append(elapsed)
    speed = {name: n / min(times) for name, times in seconds.items()}
    exact = embeddings[BASE]
    report = {
        "pairs": n, "batch_size": bs, "rounds": args.rounds, "threads": torch.get_num_threads(),
        "texts_per_s": {name: round(value, 1) for name, value in speed.items()},
        "ratio_vs_torch_float32": {name: round(value / speed[BASE], 2) for name, value in speed.items()},
        "max_abs_diff_onnx_float32_vs_torch": float(np.abs(embeddings["instructor onnx float32"] - exact).max()),
        "mean_cosine_onnx_int8_vs_torch_float32": float((embeddings["instructor onnx int8"] * exact).sum(axis=1).mean()),
        "sentence_transformers_onnx": "ran" if reference is not None else f"unavailable ({unavailable})",
        "versions": library_versions(),
    }
    if reference is not None:
        report["max_abs_diff_st_onnx_vs_torch"] = float(np.abs(embeddings["sentence-transformers onnx"] - exact).max())
    print(f"| {'path':28s} | texts/s | vs torch float32 |\n|---|---|---|")
    for name in runners:
        print(f"| {name:28s} | {speed[name]:7.1f} | {speed[name] / speed[BASE]:5.2f}x |")
    if reference is None:
        print(f"| {'sentence-transformers onnx':28s} | unavailable: {unavailable} | |")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
