"""Finetuning on your own data: `finetune(data, query_instruction, ...)` (driver.py) reads and checks the file
(data.py), splits it by text hash with no text in two splits (split.py), mines hard negatives with the starting
model (mining.py), trains each seed with `instructor_lib.training`, scores before and after on the test split
(scoring.py) and writes the model folder, its card and the metrics (output.py). `example_data` (example.py)
writes an example file in the format it reads."""
from .data import DataError, read_pairs
from .driver import FinetuneResult, finetune
from .example import example_data
from .split import split_data

__all__ = ["DataError", "FinetuneResult", "example_data", "finetune", "read_pairs", "split_data"]
