"""Training data: validated MEDI records, per-task batches (one task per global batch), and the collator.

INSTRUCTOR's in-batch negatives only make sense inside one task (a review is not a negative for a code
query), so every global batch is drawn from one task. The original code relied on a task-sorted file cut in
consecutive chunks; here the indices of each task are shuffled, cut into full batches (the incomplete
rest is dropped and counted), and the batches of all tasks are shuffled together, deterministically per
(seed, epoch). Under data parallelism each rank takes its contiguous slice of every global batch.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

from .provenance import sha256_json
from .records import validate_record


class MediDataset:
    """Training records `{"query": [instr, text], "pos": [...], "neg": [...], "task_name": str}`, validated.

    Args:
        records: a sequence of record dicts (e.g. from `instructor_lib.records.load_medi`).
        source: where they came from, named in validation errors.
    """

    def __init__(self, records, source: str = "records"):
        if len(records) == 0:
            raise ValueError(f"{source}: no training records")
        self.records = [validate_record(record, index, source) for index, record in enumerate(records)]
        self.task_names = [record["task_name"] for record in self.records]

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int) -> dict:
        return self.records[index]

    def sha256(self) -> str:
        """Hash of the records in order (canonical JSON): identifies the training data of a run."""
        return sha256_json(self.records)


class TaskBatchSampler:
    """An endless, resumable stream of single-task batches of record indices, epoch after epoch.

    Args:
        task_names: the task of every record (index i -> task_names[i]).
        batch_size: the global batch size, all ranks together; a multiple of `world_size`.
        seed: fixes the order of every epoch.
        rank, world_size: under data parallelism this rank yields `batch_size // world_size` indices, its
            contiguous slice of each global batch; all ranks walk the same global batches.
    """

    def __init__(self, task_names: list[str], batch_size: int, seed: int = 0, rank: int = 0, world_size: int = 1):
        if batch_size < 1 or batch_size % world_size:
            raise ValueError(f"batch_size ({batch_size}) must be a positive multiple of world_size ({world_size})")
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} is outside world_size {world_size}")
        self.task_names, self.batch_size, self.seed = list(task_names), batch_size, seed
        self.rank, self.world_size = rank, world_size
        self.indices_by_task: dict[str, list[int]] = {}
        for index, task in enumerate(self.task_names):
            self.indices_by_task.setdefault(task, []).append(index)
        self.batches_per_epoch = sum(len(v) // batch_size for v in self.indices_by_task.values())
        if self.batches_per_epoch == 0:
            largest = max(len(v) for v in self.indices_by_task.values())
            raise ValueError(f"no task has batch_size={batch_size} records (the largest has {largest}): "
                             "no batch can be formed")
        self.dropped_per_epoch = len(self.task_names) - self.batches_per_epoch * batch_size
        self.position = 0  # global batches handed out so far, over all epochs
        self._cached_epoch: tuple[int, list[list[int]]] | None = None

    def epoch_batches(self, epoch: int) -> list[list[int]]:
        """The global batches of `epoch`, in order: each is `batch_size` indices of one task."""
        rng = random.Random(f"{self.seed}/{epoch}")
        batches = []
        for task in sorted(self.indices_by_task):
            indices = list(self.indices_by_task[task])
            rng.shuffle(indices)
            full = len(indices) // self.batch_size * self.batch_size
            batches += [indices[start:start + self.batch_size] for start in range(0, full, self.batch_size)]
        rng.shuffle(batches)
        return batches

    def global_batch(self, position: int) -> list[int]:
        """The global batch at `position` of the endless stream (epoch = position // batches_per_epoch)."""
        epoch, offset = divmod(position, self.batches_per_epoch)
        if self._cached_epoch is None or self._cached_epoch[0] != epoch:
            self._cached_epoch = (epoch, self.epoch_batches(epoch))
        return self._cached_epoch[1][offset]

    def __iter__(self):
        share = self.batch_size // self.world_size
        while True:
            batch = self.global_batch(self.position)
            self.position += 1
            yield batch[self.rank * share:(self.rank + 1) * share]

    def state_dict(self) -> dict:
        return {"position": self.position, "seed": self.seed, "batch_size": self.batch_size}

    def load_state_dict(self, state: dict) -> None:
        if (state["seed"], state["batch_size"]) != (self.seed, self.batch_size):
            raise ValueError(f"sampler state is for seed={state['seed']}, batch_size={state['batch_size']}; "
                             f"this sampler has seed={self.seed}, batch_size={self.batch_size}")
        self.position = state["position"]


@dataclass
class TrainBatch:
    """One single-task batch as `(instruction, text)` pairs, row i of each list from record i."""
    task_name: str
    query: list[tuple[str, str]]
    pos: list[tuple[str, str]]
    neg: list[tuple[str, str]]

    def __len__(self) -> int:
        return len(self.query)


def collate(records: list[dict]) -> TrainBatch:
    """Turn validated records of one task into a `TrainBatch`; a mixed-task batch is an error."""
    task = records[0]["task_name"]
    for position, record in enumerate(records):
        if record["task_name"] != task:
            raise ValueError(f"a batch must hold one task: element 0 is {task!r}, "
                             f"element {position} is {record['task_name']!r}")
    return TrainBatch(task, *([tuple(record[field]) for record in records] for field in ("query", "pos", "neg")))
