"""Readers of the evaluation data files under `<data_dir>/eval/<task>/`, one per file format (each folder's
SOURCE.md documents its format).

They return plain Python rows (lists of tuples of str, int and float), so every layer can use them:
`evaluation/suite.py` turns them into the datasets mteb expects, `viz.py` samples labelled texts, and the MEDI
leakage guard reads test files with the syntax readers (`lines`, `csv_records`, `jsonl_records`), which also
serve the MEDI sources. A malformed line raises `DataFormatError` naming the file and the line.
"""
from __future__ import annotations

import ast
import csv
import gzip
import io
import json
import re
from pathlib import Path

EMOTION_LABELS = ("sadness", "joy", "love", "anger", "fear", "surprise")  # in the order of their HF ids 0..5
TWEET_SENTIMENTS = ("negative", "neutral", "positive")  # in the order of their HF ids 0..2
IMDB_SENTIMENTS = ("Negative", "Positive")
CQA_POSITIVE = ("PerfectMatch", "Relevant")  # SemEval-2016 subtask B counts both as duplicates


class DataFormatError(ValueError):
    """A local data file does not have the documented format; the message names the file and line."""


# ------------------------------------------------------------------------------------------ syntax
def read_text(path: Path) -> str:
    """The whole file as UTF-8 text (gunzipped when its name ends in .gz), line ends as they are."""
    raw = path.read_bytes()
    try:
        return (gzip.decompress(raw) if path.suffix == ".gz" else raw).decode("utf-8")
    except UnicodeDecodeError as err:
        raise DataFormatError(f"{path}: not UTF-8 at byte {err.start} (of the decompressed text if .gz)") from None


def lines(path: Path) -> list[str]:
    """Lines of a UTF-8 text file without their line ends (a missing final newline is fine)."""
    return read_text(path).splitlines()


def jsonl_records(path: Path) -> list[tuple[int, object]]:
    """(line number, parsed value) of every non-blank line of a JSON Lines file."""
    records = []
    for line_no, line in enumerate(lines(path), start=1):
        if not line.strip():
            continue
        try:
            records.append((line_no, json.loads(line)))
        except json.JSONDecodeError as err:
            raise DataFormatError(f"{path}:{line_no}: invalid JSON ({err.msg})") from None
    return records


def csv_records(path: Path, delimiter: str = ",") -> list[tuple[int, list[str]]]:
    """(line number, fields) of every record of a file with standard CSV quoting, the header included.

    The line number is the record's last line (a quoted field can span lines).
    """
    csv.field_size_limit(1 << 30)  # Python's default (128 KiB) is smaller than a stray quote can make a field
    reader = csv.reader(io.StringIO(read_text(path)), delimiter=delimiter)
    return [(reader.line_num, fields) for fields in reader]


def csv_rows(path: Path, required: list[str], delimiter: str = ",") -> list[tuple[int, dict[str, str]]]:
    """(line number, {column: value}) of each record under the header of a CSV-quoted file (blank lines skipped).

    The header must name every `required` column, and each record must have as many fields as the header.
    """
    records = [(line_no, fields) for line_no, fields in csv_records(path, delimiter) if fields]
    if not records:
        raise DataFormatError(f"{path}: the file is empty; expected a header naming {required}")
    (header_line, names), body = records[0], records[1:]
    missing = [name for name in required if name not in names]
    if missing:
        raise DataFormatError(f"{path}:{header_line}: header lacks column(s) {missing}")
    rows = []
    for line_no, fields in body:
        if len(fields) != len(names):
            raise DataFormatError(f"{path}:{line_no}: {len(fields)} fields, the header names {len(names)}")
        rows.append((line_no, dict(zip(names, fields))))
    return rows


def _fields(path: Path, line_no: int, line: str, count: int) -> list[str]:
    fields = line.split("\t")
    if len(fields) < count:
        raise DataFormatError(f"{path}:{line_no}: expected at least {count} TAB-separated fields, got {len(fields)}")
    return fields


def tsv_rows(path: Path, required: list[str]) -> list[tuple[int, dict[str, str]]]:
    """(line number, {column: value}) of each non-blank line under the header of a TAB-separated file without
    quoting; the header must name every `required` column."""
    file_lines = lines(path)
    if not file_lines:
        raise DataFormatError(f"{path}: the file is empty; expected a header naming {required}")
    names = file_lines[0].split("\t")
    missing = [name for name in required if name not in names]
    if missing:
        raise DataFormatError(f"{path}:1: header lacks column(s) {missing}")
    return [(line_no, dict(zip(names, _fields(path, line_no, line, len(names)))))
            for line_no, line in enumerate(file_lines[1:], start=2) if line.strip()]


def _score(path: Path, line_no: int, value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise DataFormatError(f"{path}:{line_no}: score {value!r} is not a number") from None


def _one_of(path: Path, line_no: int, field: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise DataFormatError(f"{path}:{line_no}: {field} {value!r} is not one of {list(allowed)}")
    return value


def _text_and_label(path: Path, line_no: int, text: str, label: str) -> tuple[str, str]:
    if not text.strip() or not label.strip():
        raise DataFormatError(f"{path}:{line_no}: empty {'text' if not text.strip() else 'label'}")
    return text, label


# --------------------------------------------------------------------------------------------- STS
def sts_pairs(inputs: Path, golds: Path) -> list[tuple[str, str, float]]:
    """(sentence1, sentence2, score) of one SemEval STS release subset: `inputs` holds TAB-separated pairs,
    `golds` the score of the pair on the same line; a blank score line is an unscored pair, left out."""
    input_lines, gold_lines = lines(inputs), lines(golds)
    if len(gold_lines) > len(input_lines):
        raise DataFormatError(f"{golds}: {len(gold_lines)} scores for {len(input_lines)} pairs in {inputs}")
    pairs = []
    for line_no, (pair, gold) in enumerate(zip(input_lines, gold_lines), start=1):
        if not gold.strip():
            continue  # unscored pair (STS15/16 releases), documented in SOURCE.md
        first, second = _fields(inputs, line_no, pair, 2)[:2]
        pairs.append((first, second, _score(golds, line_no, gold.strip())))
    return pairs


def stsbenchmark_pairs(path: Path) -> list[tuple[str, str, float]]:
    """(sentence1, sentence2, score) of STS-B: `genre file year id score sentence1 sentence2 [...]`, TAB, no quoting."""
    pairs = []
    for line_no, line in enumerate(lines(path), start=1):
        fields = _fields(path, line_no, line, 7)
        pairs.append((fields[5], fields[6], _score(path, line_no, fields[4])))
    return pairs


def sick_pairs(path: Path) -> list[tuple[str, str, float]]:
    """(sentence_A, sentence_B, relatedness_score) of a SICK release file (TAB, header)."""
    return [(row["sentence_A"], row["sentence_B"], _score(path, line_no, row["relatedness_score"]))
            for line_no, row in tsv_rows(path, ["sentence_A", "sentence_B", "relatedness_score"])]


def biosses_pairs(path: Path) -> list[tuple[str, str, float]]:
    """(sentence1, sentence2, score) of BIOSSES `all.tsv` (TAB with CSV quoting: one quoted sentence holds a TAB)."""
    return [(row["sentence1"], row["sentence2"], _score(path, line_no, row["score"]))
            for line_no, row in csv_rows(path, ["sentence1", "sentence2", "score"], delimiter="\t")]


# ---------------------------------------------------------------------------------- classification
def emotion_records(path: Path) -> list[tuple[str, str]]:
    """(text, label name) of a dair-ai Emotion file: a `text;label_name` header, then one `text;label` per line."""
    file_lines = lines(path)
    if not file_lines or file_lines[0] != "text;label_name":
        raise DataFormatError(f"{path}:1: expected the header 'text;label_name'")
    records = []
    for line_no, line in enumerate(file_lines[1:], start=2):
        text, separator, label = line.rpartition(";")
        if not separator:
            raise DataFormatError(f"{path}:{line_no}: expected 2 fields 'text;label', got {line!r}")
        _text_and_label(path, line_no, text, label)
        records.append((text, _one_of(path, line_no, "label", label, EMOTION_LABELS)))
    return records


def banking77_records(path: Path) -> list[tuple[str, str]]:
    """(text, category) of a Banking77 CSV file (header `text,category`)."""
    return [_text_and_label(path, line_no, row["text"], row["category"])
            for line_no, row in csv_rows(path, ["text", "category"])]


def amazon_counterfactual_records(path: Path) -> list[tuple[str, int]]:
    """(sentence, is_counterfactual 0/1) of an Amazon counterfactual file (TAB with CSV quoting, header)."""
    return [(row["sentence"], int(_one_of(path, line_no, "is_counterfactual", row["is_counterfactual"], ("0", "1"))))
            for line_no, row in csv_rows(path, ["sentence", "is_counterfactual"], delimiter="\t")]


def tweet_sentiment_records(path: Path) -> list[tuple[str, str]]:
    """(text, sentiment) of a Tweet Sentiment Extraction CSV file (texts keep their leading spaces)."""
    return [(row["text"], _one_of(path, line_no, "sentiment", row["sentiment"], TWEET_SENTIMENTS))
            for line_no, row in csv_rows(path, ["text", "sentiment"])]


def imdb_records(path: Path) -> list[tuple[str, str]]:
    """(text, sentiment) of an IMDb file of Kaushik et al. (TAB, header `Sentiment<TAB>Text`)."""
    return [(row["Text"], _one_of(path, line_no, "Sentiment", row["Sentiment"], IMDB_SENTIMENTS))
            for line_no, row in tsv_rows(path, ["Sentiment", "Text"])]


def slurp_records(path: Path, label_field: str) -> list[tuple[str, str]]:
    """(sentence, label) of a SLURP JSON Lines file; `label_field` is "intent" or "scenario"."""
    records = []
    for line_no, record in jsonl_records(path):
        if not isinstance(record, dict) or "sentence" not in record or label_field not in record:
            raise DataFormatError(f"{path}:{line_no}: record lacks 'sentence' or {label_field!r}")
        records.append((record["sentence"], record[label_field]))
    return records


# ----------------------------------------------------------------------------- pair classification
def twitter_semeval_pairs(data: Path, labels: Path) -> list[tuple[str, str, int]]:
    """(sentence1, sentence2, paraphrase 0/1) of the SemEval-2015 PIT test: `data` (TAB, 7 columns) with its
    line-aligned `labels` (`binary<TAB>score`); debatable pairs (`----`) are left out, as in the task."""
    data_lines, label_lines = lines(data), lines(labels)
    if len(data_lines) != len(label_lines):
        raise DataFormatError(f"{labels}: {len(label_lines)} labels for {len(data_lines)} pairs in {data}")
    pairs = []
    for line_no, (line, label_line) in enumerate(zip(data_lines, label_lines), start=1):
        fields = _fields(data, line_no, line, 4)
        binary = _one_of(labels, line_no, "label", label_line.split("\t")[0], ("true", "false", "----"))
        if binary != "----":
            pairs.append((fields[2], fields[3], int(binary == "true")))
    return pairs


def twitter_url_pairs(path: Path) -> list[tuple[str, str, int]]:
    """(sentence1, sentence2, paraphrase 0/1) of the Twitter URL corpus: `sentence1<TAB>sentence2<TAB>(n,6)<TAB>url`;
    blank lines and undecided pairs (n = 3) are left out, n >= 4 is a paraphrase."""
    pairs = []
    for line_no, line in enumerate(lines(path), start=1):
        if not line.strip():
            continue
        fields = line.split("\t")
        votes = re.fullmatch(r"\((\d),6\)", fields[2] if len(fields) > 2 else "")
        if len(fields) < 4 or not votes:
            raise DataFormatError(f"{path}:{line_no}: expected 'sentence1<TAB>sentence2<TAB>(n,6)<TAB>url'")
        positive = int(votes.group(1))
        if positive != 3:  # undecided pairs are not labelled in the corpus
            pairs.append((fields[0], fields[1], int(positive >= 4)))
    return pairs


# -------------------------------------------------------------------------------------- clustering
def newsgroup_subjects(path: Path) -> list[tuple[str, str]]:
    """(subject, newsgroup) of each message of `20news-19997_subjects.jsonl`."""
    subjects = []
    for line_no, record in jsonl_records(path):
        if not isinstance(record, dict) or "subject" not in record or "newsgroup" not in record:
            raise DataFormatError(f"{path}:{line_no}: record lacks 'subject' or 'newsgroup'")
        subjects.append((record["subject"], record["newsgroup"]))
    return subjects


def arxiv_titles(path: Path) -> list[tuple[str, str]]:
    """(title, first arXiv category) of each paper of `arxiv_data.csv` (`terms` is a Python list repr)."""
    titles = []
    for line_no, row in csv_rows(path, ["titles", "terms"]):
        try:
            terms = ast.literal_eval(row["terms"])
        except (ValueError, SyntaxError):
            raise DataFormatError(f"{path}:{line_no}: terms {row['terms'][:60]!r} is not a Python list") from None
        if not isinstance(terms, list) or not terms:
            raise DataFormatError(f"{path}:{line_no}: paper {row['titles'][:60]!r} has no category")
        titles.append((row["titles"], terms[0]))
    return titles


# ------------------------------------------------------------------------------ retrieval / reranking
_PY_STRING = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"", re.S)


def _numpy_string_list(text: str) -> list[str]:
    """Parse a numpy-array repr of strings (`['a.'\\n 'b.']`, no commas) into a list of strings."""
    return [ast.literal_eval(literal) for literal in _PY_STRING.findall(text)]


def scifact_corpus(path: Path) -> list[tuple[str, str, str]]:
    """(doc_id, title, text) of the SciFact corpus CSV; text = the abstract's sentences joined by a space."""
    return [(row["doc_id"], row["title"], " ".join(_numpy_string_list(row["abstract"])))
            for _, row in csv_rows(path, ["doc_id", "title", "abstract"])]


def scifact_claims(path: Path) -> list[tuple[str, str, list[str]]]:
    """(claim id, claim, cited doc ids) of each row of a SciFact claims CSV (one row per claim and evidence)."""
    return [(row["id"], row["claim"], re.findall(r"\d+", row["cited_doc_ids"]))
            for _, row in csv_rows(path, ["id", "claim", "cited_doc_ids"])]


def semeval_cqa_questions(path: Path) -> list[tuple[str, str, list[tuple[str, str, int]]]]:
    """(query id, subject + body, [(candidate id, subject + body, duplicate 0/1)]) of each original question of a
    SemEval-2016 Task 3 subtask B JSON Lines file."""
    questions = []
    for line_no, record in jsonl_records(path):
        try:
            candidates = [(candidate["relq_id"], f"{candidate['relq_subject']} {candidate['relq_body']}".strip(),
                           int(candidate["relevance2orgq"] in CQA_POSITIVE)) for candidate in record["candidates"]]
            questions.append((record["orgq_id"], f"{record['orgq_subject']} {record['orgq_body']}".strip(), candidates))
        except KeyError as err:
            raise DataFormatError(f"{path}:{line_no}: missing field {err}") from None
    return questions
