"""Training an INSTRUCTOR embedder on MEDI records: `train(preset("cpu"), records) -> TrainResult`.

Rooms: `config` (TrainConfig, its checks and hash, `preset`), `step` (one step's loss and gradients: length
chunks, gradient caching, the DDP gather), `checkpoint` (the resumable checkpoint and the metrics file), `loop`
(the run: model and records, optimizer, distributed set-up, saving), `__main__` (the command line).
"""
from .checkpoint import read_metrics
from .config import TrainConfig, preset
from .loop import TrainResult, check_inputs, load_model, load_records, train
from .step import length_chunks, loss_and_backward

__all__ = ["TrainConfig", "TrainResult", "check_inputs", "length_chunks", "load_model", "load_records",
           "loss_and_backward", "preset", "read_metrics", "train"]
