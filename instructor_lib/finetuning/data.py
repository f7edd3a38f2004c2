"""The user's file, read and checked: `.csv`, `.jsonl` or `.parquet` rows of `query`, `positive` and an optional
`negative`, or of `text` and `label` (turned into pairs of the same label after the split, see `split.py`).

Every error names the file, the row (1-based, the header not counted) and the column, and is raised before
anything is written. Texts are kept as given (the embedder strips them); a text that is empty after
stripping is an error, never a silent skip.
"""
from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

FORMATS = (".csv", ".jsonl", ".parquet")
PAIR_COLUMNS = ("query", "positive")
LABEL_COLUMNS = ("text", "label")
OPTIONAL = "negative"


class DataError(ValueError):
    """A problem with the user's data file; the message names the file, the row and the column."""


@dataclass(frozen=True)
class Example:
    """One validated row: a (query, positive[, negative]) pair, or a labelled text (`query` = the text,
    `positive` = None until the split pairs it with another text of its label)."""
    row: int
    query: str
    positive: str | None = None
    negative: str | None = None
    label: str | None = None

    def texts(self) -> list[str]:
        """Every text of the row (a text shared by two rows ties them to one split)."""
        return [text for text in (self.query, self.positive, self.negative) if text is not None]


@dataclass(frozen=True)
class UserData:
    """The examples of one file and its kind: "pairs" (query, positive[, negative]) or "labels" (text, label)."""
    path: Path
    kind: str
    examples: tuple[Example, ...]


def read_rows(path: Path) -> list[dict]:
    """The rows of `path` as dicts of column -> value, by its suffix; an unreadable file is an error naming it."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise DataError(f"{path}: unsupported file type {suffix or '(none)'!r}; use one of {', '.join(FORMATS)}")
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    if suffix == ".csv":
        with open(path, newline="", encoding="utf-8-sig") as handle:
            return list(csv.DictReader(handle))
    if suffix == ".jsonl":
        rows = []
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                raise DataError(f"{path}: row {len(rows) + 1} (line {number}) is not valid JSON ({err.msg})") from None
            if not isinstance(row, dict):
                raise DataError(f"{path}: row {len(rows) + 1} (line {number}) must be a JSON object, got {type(row).__name__}")
            rows.append(row)
        return rows
    import pandas as pd

    try:
        frame = pd.read_parquet(path)
    except Exception as err:  # pyarrow's errors name no file
        raise DataError(f"{path}: cannot be read as parquet ({type(err).__name__}: {err})") from None
    return frame.to_dict(orient="records")


def kind_of(path: Path, rows: list[dict]) -> str:
    """"pairs" or "labels", from the columns of the first row; neither is an error naming the columns found."""
    columns = set(rows[0])
    if all(column in columns for column in PAIR_COLUMNS):
        return "pairs"
    if all(column in columns for column in LABEL_COLUMNS):
        return "labels"
    wanted = PAIR_COLUMNS if columns & set(PAIR_COLUMNS) or not columns & set(LABEL_COLUMNS) else LABEL_COLUMNS
    missing = [column for column in wanted if column not in columns]
    raise DataError(f"{path}: row 1 has no column {missing[0]!r} (columns: {', '.join(map(str, rows[0]))}); the file "
                    f"needs columns {', '.join(PAIR_COLUMNS)} (and optionally {OPTIONAL}), or {', '.join(LABEL_COLUMNS)}")


def text_value(path: Path, number: int, row: dict, column: str, optional: bool = False) -> str | None:
    """The text in `column` of a row: a non-empty string (a number label is written as text); an empty
    optional value is None."""
    if column not in row:
        if optional:
            return None
        raise DataError(f"{path}: row {number} has no column {column!r}")
    value = row[column]
    if value is None or (isinstance(value, float) and value != value):  # None, or a missing parquet/pandas cell
        value = ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise DataError(f"{path}: row {number} column {column!r} must be text, got {type(value).__name__}")
    if column == "label" and not isinstance(value, str):
        value = str(value)
    if not isinstance(value, str):
        raise DataError(f"{path}: row {number} column {column!r} must be text, got {type(value).__name__} {value!r}")
    if not value.strip():
        if optional:
            return None
        raise DataError(f"{path}: row {number} column {column!r} is empty")
    return value


def read_pairs(path: str | Path) -> UserData:
    """Read and validate the user's file (see the module docstring); raises DataError naming file, row and column."""
    path = Path(path).resolve()
    rows = read_rows(path)
    if not rows:
        raise DataError(f"{path}: the file has no rows (row 1 missing); it needs columns "
                        f"{', '.join(PAIR_COLUMNS)} or {', '.join(LABEL_COLUMNS)}")
    kind = kind_of(path, rows)
    examples = []
    for number, row in enumerate(rows, start=1):
        if kind == "pairs":
            examples.append(Example(number, text_value(path, number, row, "query"), text_value(path, number, row, "positive"),
                                    text_value(path, number, row, OPTIONAL, optional=True)))
        else:
            examples.append(Example(number, text_value(path, number, row, "text"), label=text_value(path, number, row, "label")))
    if kind == "labels" and len({example.label for example in examples}) < 2:
        raise DataError(f"{path}: column 'label' holds one label in all {len(rows)} rows; same-label pairs need "
                        "at least two labels to tell apart")
    return UserData(path, kind, tuple(examples))
