"""Helpers shared by several test modules: toy training records, one torch thread, toy notebooks."""
import random

import nbformat
import pytest
import torch
from nbformat.v4 import new_code_cell, new_notebook

# instruction/text pairs covering the pooling cases: a plain one, stripped text, no instruction, a long text
INSTRUCTION = "Represent the statement: "
PAIRS = [
    [INSTRUCTION, "A man is eating food."],
    ["Represent the question for retrieving supporting documents: ", "  who wrote the iliad?  "],
    ["", "a dog"],
    [INSTRUCTION, "The cat sat on the mat while the dog slept by the fire, and nobody said a word."],
    ["Represent the news title for classification: ", "Stocks rally"],
]
WORDS = "the man woman dog cat eating food news science review question document sentence statement query passage".split()


def make_records(tasks=2, per_task=16, seed=0):
    """Records whose positive shares words with the query (learnable) and texts of varied lengths."""
    rng, records = random.Random(seed), []
    for task in range(tasks):
        for _ in range(per_task):
            topic = rng.sample(WORDS, rng.randint(1, 4))
            records.append({"query": [f"Represent the task {task} query: ", " ".join(topic)],
                            "pos": [f"Represent the task {task} document: ", " ".join(topic + rng.sample(WORDS, 2))],
                            "neg": [f"Represent the task {task} document: ", " ".join(rng.sample(WORDS, 5))],
                            "task_name": f"task{task}"})
    return records


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """One intra-op thread: tiny models on a shared 2-core machine run ~20x faster than with spinning OMP threads."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def write_notebook(path, body):
    """A toy notebook: a documented parameters cell (preset, value, metrics_path), then `body`."""
    notebook = new_notebook(cells=[new_code_cell('preset: str = "cpu"  # smoke | cpu | paper\nvalue: int = 1  # a number\n'
                                                 'metrics_path: str = ""  # where to write the metrics'), new_code_cell(body)])
    notebook.cells[0].metadata["tags"] = ["parameters"]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, path)
