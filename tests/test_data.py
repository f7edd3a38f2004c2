"""Per-task batches: one task per global batch, shuffled across tasks, deterministic, resumable, sharded."""
from collections import Counter

import pytest

from instructor_lib.data import MediDataset, TaskBatchSampler, collate


def record(task, k):
    return {"query": ["Represent the query: ", f"q{k}"], "pos": ["Represent the doc: ", f"p{k}"],
            "neg": ["Represent the doc: ", f"n{k}"], "task_name": task}


TASK_SIZES = {"agnews": 23, "nq": 9, "snli": 16, "tiny": 3}
TASKS = [task for task, size in TASK_SIZES.items() for _ in range(size)]


def test_every_batch_is_one_task_and_an_epoch_uses_each_index_at_most_once():
    sampler = TaskBatchSampler(TASKS, batch_size=4, seed=0)
    batches = sampler.epoch_batches(0)
    assert all(len(batch) == 4 and len({TASKS[i] for i in batch}) == 1 for batch in batches)
    used = [i for batch in batches for i in batch]
    assert len(used) == len(set(used))
    # full batches per task: 23 -> 5, 9 -> 2, 16 -> 4, 3 -> 0; the rest is dropped and counted
    assert Counter(TASKS[batch[0]] for batch in batches) == {"agnews": 5, "nq": 2, "snli": 4}
    assert sampler.batches_per_epoch == 11
    assert sampler.dropped_per_epoch == len(TASKS) - 44


def test_batches_are_shuffled_across_tasks_and_deterministic_per_seed_and_epoch():
    sequence = lambda seed, epoch: [tuple(b) for b in TaskBatchSampler(TASKS, 4, seed).epoch_batches(epoch)]  # noqa: E731
    assert sequence(0, 0) == sequence(0, 0)
    assert sequence(0, 0) != sequence(1, 0)
    assert sequence(0, 0) != sequence(0, 1)
    tasks_in_order = [TASKS[batch[0]] for batch in sequence(0, 0)]
    runs = sum(1 for a, b in zip(tasks_in_order, tasks_in_order[1:]) if a != b) + 1
    assert runs > len(set(tasks_in_order))  # the tasks interleave rather than come in blocks


def test_the_stream_crosses_epochs_and_resumes_from_its_state():
    sampler = TaskBatchSampler(TASKS, 4, seed=3)
    stream = iter(sampler)
    first = [next(stream) for _ in range(15)]  # 11 batches per epoch: crosses into epoch 1
    assert first[:11] == sampler.epoch_batches(0) and first[11:] == sampler.epoch_batches(1)[:4]
    resumed = TaskBatchSampler(TASKS, 4, seed=3)
    resumed.load_state_dict(TaskBatchSampler(TASKS, 4, seed=3).state_dict() | {"position": 7})
    again = iter(resumed)
    assert [next(again) for _ in range(8)] == first[7:15]
    with pytest.raises(ValueError, match="seed"):
        TaskBatchSampler(TASKS, 4, seed=4).load_state_dict(sampler.state_dict())


def test_ranks_split_each_global_batch_into_disjoint_contiguous_slices():
    global_stream = iter(TaskBatchSampler(TASKS, 4, seed=5))
    rank_streams = [iter(TaskBatchSampler(TASKS, 4, seed=5, rank=r, world_size=2)) for r in range(2)]
    for _ in range(12):
        assert next(rank_streams[0]) + next(rank_streams[1]) == next(global_stream)


def test_impossible_batching_is_an_error():
    with pytest.raises(ValueError, match="multiple of world_size"):
        TaskBatchSampler(TASKS, 5, world_size=2)
    with pytest.raises(ValueError, match="no task has batch_size=30"):
        TaskBatchSampler(TASKS, 30)


def test_dataset_validates_records_naming_the_index_and_field():
    records = [record("nq", 0), record("nq", 1)]
    records[1]["pos"] = ["only one element"]
    with pytest.raises(ValueError, match=r"record 1 field 'pos'"):
        MediDataset(records)
    with pytest.raises(ValueError, match="no training records"):
        MediDataset([])


def test_data_hash_changes_with_content_and_order():
    records = [record("nq", k) for k in range(3)]
    base = MediDataset(records).sha256()
    assert base == MediDataset([dict(r) for r in records]).sha256()
    assert base != MediDataset(records[::-1]).sha256()
    changed = [dict(r) for r in records]
    changed[2] = record("nq", 99)
    assert base != MediDataset(changed).sha256()


def test_collate_keeps_row_alignment_and_rejects_mixed_tasks():
    batch = collate([record("nq", 0), record("nq", 1)])
    assert batch.task_name == "nq" and len(batch) == 2
    assert batch.query[1] == ("Represent the query: ", "q1") and batch.neg[0] == ("Represent the doc: ", "n0")
    with pytest.raises(ValueError, match="element 1 is 'snli'"):
        collate([record("nq", 0), record("snli", 1)])
