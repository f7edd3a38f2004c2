"""`python -m instructor_lib`: embed instruction/text pairs with the default model and print their similarities."""
from __future__ import annotations

import argparse

from . import Instructor

TEXTS = [
    "The stock market fell sharply after the central bank raised interest rates.",
    "Shares tumbled as borrowing costs went up.",
    "I loved this film, the acting was wonderful.",
    "What a terrible, boring movie.",
]
INSTRUCTIONS = {
    "topic": "Represent the news sentence for retrieving documents on the same topic: ",
    "sentiment": "Represent the review sentence for classifying its sentiment as positive or negative: ",
}


def similarity_table(model: Instructor, texts: list[str], instruction: str) -> str:
    embeddings = model.encode(texts, instruction=instruction)
    matrix = model.similarity(embeddings, embeddings)
    header = "      " + "".join(f"  t{j}  " for j in range(len(texts)))
    rows = [f"  t{i}  " + "".join(f"{value:6.3f} " for value in row) for i, row in enumerate(matrix)]
    return "\n".join([header, *rows])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default=None, help="model folder or hub id (default: all-MiniLM-L6-v2 from PyPI)")
    args = parser.parse_args()
    model = Instructor.from_pretrained(args.model)
    print(f"model: {model.name_or_path}  dim={model.embedding_dim}  max_seq_length={model.max_seq_length}")
    for i, text in enumerate(TEXTS):
        print(f"  t{i}: {text}")
    for name, instruction in {"no instruction": "", **INSTRUCTIONS}.items():
        print(f"\n[{name}] instruction={instruction!r}\n{similarity_table(model, TEXTS, instruction)}")


if __name__ == "__main__":
    main()
