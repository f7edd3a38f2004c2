"""`python -m instructor_lib.training --preset cpu --data medi.json`: one training run from the command line
(`torchrun --nproc_per_node=N -m instructor_lib.training ...` for data parallel).

The model is `config.model` (a folder or hub id; `--config` a JSON of TrainConfig fields can replace it): the
smoke preset's random "tiny-bert" is built in-process by the workbench, not from here.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import sys

from .. import presets
from ..files import RunLockedError, read_json
from .config import TrainConfig, preset
from .loop import check_inputs, train


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m instructor_lib.training",
                                     description="Train an INSTRUCTOR embedder (see instructor_lib.training.TrainConfig).")
    parser.add_argument("--preset", default="cpu", choices=presets.NAMES,
                        help="starting configuration (smoke: give its model as a folder with --config)")
    parser.add_argument("--config", help="a JSON file of TrainConfig fields, applied over the preset")
    parser.add_argument("--data", help="a MEDI json file (overrides the config)")
    parser.add_argument("--steps", type=int, help="optimizer steps (overrides the config)")
    parser.add_argument("--run-dir", help="output folder (default runs/<name>)")
    args = parser.parse_args(argv)
    try:
        overrides = read_json(args.config, "fix the JSON of TrainConfig fields") if args.config else {}
    except (OSError, ValueError) as err:
        parser.error(f"--config: {err}")
    if not isinstance(overrides, dict):
        parser.error(f"{args.config}: expected a JSON object of TrainConfig fields, got {type(overrides).__name__}")
    unknown = set(overrides) - {f.name for f in dataclasses.fields(TrainConfig)}
    if unknown:
        parser.error(f"{args.config}: unknown TrainConfig fields {sorted(unknown)}")
    overrides.update({k: v for k, v in (("data", args.data), ("steps", args.steps)) if v is not None})
    try:
        config = preset(args.preset, **overrides)
    except (TypeError, ValueError) as err:
        parser.error(f"{args.config or 'the arguments'}: {err}")
    try:  # the inputs first: an unreachable model or a missing data file fails here, before any work
        check_inputs(config)
    except (OSError, ValueError) as err:
        sys.exit(f"error: {err}")
    try:
        result = train(config, run_dir=args.run_dir)
    except RunLockedError as err:
        sys.exit(f"error: {err}")
    if int(os.environ.get("RANK", "0")) == 0:
        print(f"model: {result.model_path}\nmetrics: {result.metrics_path}\nfinal loss: {result.final_loss:.4f}")


if __name__ == "__main__":
    main()
