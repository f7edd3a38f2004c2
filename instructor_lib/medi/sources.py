"""Readers for the MEDI sources as they are stored under `<data_dir>/train/` (see each folder's SOURCE.md).

Every embedding-dataset reader returns a `SourceData`: (query, positive) `Pair`s plus `notes`, counts of what
was read but not turned into pairs and why (nothing is dropped silently). Malformed rows raise ValueError
naming the file, the line (or record) and the field. The super-NI reader returns `SuperniTask`s.
"""
from __future__ import annotations

import ast
import gzip
import json
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache, partial
from pathlib import Path

from .. import readers


@dataclass(frozen=True)
class Pair:
    """A (query, positive) training pair of an embedding dataset.

    Args:
        query: the query text (for a symmetric dataset, one of the two similar texts).
        pos: the positive text.
        neg: a hard negative given by the data itself (the NLI contradiction), or None to mine one.
        group: pairs that share a group (captions of one image, questions on one sentence) never
            serve as each other's negative.
        where: "file:line" of the source row, for messages.
    """

    query: str
    pos: str
    neg: str | None = None
    group: str = ""
    where: str = ""


@dataclass
class SourceData:
    """What a reader produced: the pairs, the files read, and counts of rows not used (with the reason)."""

    pairs: list[Pair]
    files: list[Path]
    notes: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class SuperniTask:
    """One super-NaturalInstructions task: its Definition and its (input, first output) instances."""

    name: str
    definition: str
    domains: tuple[str, ...]
    categories: tuple[str, ...]
    sources: tuple[str, ...]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    files: tuple[Path, ...]


# ------------------------------------------------------------------------------------------ file helpers
def _json(path: Path):
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8") as handle:
            return json.load(handle)
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: invalid JSON at line {err.lineno}, column {err.colno}: {err.msg}") from err


def _field(row, key: str, where: str, kind=str):
    if not isinstance(row, dict) or key not in row:
        raise ValueError(f"{where}: missing field '{key}'")
    if not isinstance(row[key], kind):
        raise ValueError(f"{where}: field '{key}' must be {kind.__name__}, got {type(row[key]).__name__}")
    return row[key]


def _aligned(*paths: Path) -> list[list[str]]:
    """Line-aligned files read together; their line counts must match."""
    columns = [readers.lines(path) for path in paths]
    counts = {str(path): len(lines) for path, lines in zip(paths, columns)}
    if len(set(counts.values())) != 1:
        raise ValueError(f"line-aligned files have different line counts: {counts}")
    return columns


def _strip_prefix(text: str, prefix: str, where: str, name: str) -> str:
    if not text.startswith(prefix):
        raise ValueError(f"{where}: field '{name}' should start with {prefix!r}, got {text[:60]!r}")
    return text[len(prefix):]


# ------------------------------------------------------------------------------------------------ readers
def read_nli(train_dir: Path) -> SourceData:
    """AllNLI from SNLI (dev+test, line-aligned) and MNLI (O-LoRA packed): premise -> entailed hypothesis.

    The hard negative is a contradiction of the same premise when the data has one (as in
    sentence-transformers' AllNLI triplets that MEDI used), else it is mined later.
    """
    by_premise: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    first_seen: dict[str, str] = {}
    files = []
    for split in ("dev", "test"):
        paths = [train_dir / "snli_esnli" / f"{name}.{split}" for name in ("s1", "s2", "labels")]
        files += paths
        for number, (premise, hypothesis, label) in enumerate(zip(*_aligned(*paths)), start=1):
            where = f"{paths[2]}:{number}"
            if label not in ("entailment", "neutral", "contradiction"):
                raise ValueError(f"{where}: label {label!r} is not entailment/neutral/contradiction")
            by_premise[premise.strip()][label].append(hypothesis.strip())
            first_seen.setdefault(premise.strip(), where)
    for split in ("train", "dev"):
        path = train_dir / "mnli_olora" / f"{split}.json"
        files.append(path)
        for number, row in enumerate(_json(path)):
            where = f"{path}: record {number}"
            label = _field(row, "label", where)
            packed = _strip_prefix(_field(row, "sentence", where), "sentence 1: ", where, "sentence")
            if "\nsentence 2: " not in packed:
                raise ValueError(f"{where}: field 'sentence' has no '\\nsentence 2: ' part")
            premise, hypothesis = packed.split("\nsentence 2: ", 1)
            by_premise[premise.strip()][label].append(hypothesis.strip())
            first_seen.setdefault(premise.strip(), where)
    pairs, without_entailment = [], 0
    for premise, labels in by_premise.items():
        if not labels["entailment"]:
            without_entailment += 1
            continue
        contradictions = labels["contradiction"]
        for index, hypothesis in enumerate(labels["entailment"]):
            neg = contradictions[index % len(contradictions)] if contradictions else None
            pairs.append(Pair(premise, hypothesis, neg, group=premise, where=first_seen[premise]))
    return SourceData(pairs, files, {"premises_without_entailment": without_entailment})


def read_squad(train_dir: Path) -> SourceData:
    """SQuAD (Du et al. split): question -> the answer-bearing sentence (tokenised, lower-cased)."""
    pairs, files = [], []
    for split in ("dev", "test"):
        src, tgt = train_dir / "squad_nqg" / f"src-{split}.txt", train_dir / "squad_nqg" / f"tgt-{split}.txt"
        files += [src, tgt]
        for number, (sentence, question) in enumerate(zip(*_aligned(src, tgt)), start=1):
            if not sentence.strip() or not question.strip():
                raise ValueError(f"{tgt}:{number}: empty sentence or question")
            pairs.append(Pair(question.strip(), sentence.strip(), group=sentence.strip(), where=f"{tgt}:{number}"))
    return SourceData(pairs, files)


def read_nq(train_dir: Path) -> SourceData:
    """NQ-open: question -> its first short answer (a substitute for MEDI's question -> passage)."""
    pairs, files = [], []
    for name in ("NQ-open.dev.jsonl", "NQ-open.efficientqa.dev.1.1.jsonl", "NQ-open.efficientqa.test.1.1.jsonl"):
        path = train_dir / "nq_open" / name
        files.append(path)
        for number, line in enumerate(readers.lines(path), start=1):
            where = f"{path}:{number}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f"{where}: invalid JSON ({err.msg})") from err
            answers = _field(row, "answer", where, list)
            if not answers or not all(isinstance(a, str) for a in answers):
                raise ValueError(f"{where}: field 'answer' must be a non-empty list of strings")
            pairs.append(Pair(_field(row, "question", where), answers[0], where=where))
    return SourceData(pairs, files)


def _wiki_title(title: str) -> str:
    return title.replace("_", " ").replace("-LRB-", "(").replace("-RRB-", ")").replace("-COLON-", ":")


def read_fever(train_dir: Path) -> SourceData:
    """FEVER labelled dev: claim -> its evidence page titles (no evidence text in this copy)."""
    path = train_dir / "fever_labelled_dev" / "fever_labelled_dev.json"
    pairs, without_evidence = [], 0
    for number, row in enumerate(_json(path)):
        where = f"{path}: record {number}"
        claim = _field(row, "claim", where)
        pages = _field(row, "evidence_pages", where, list)
        if not pages:  # NOT ENOUGH INFO claims have no evidence to retrieve
            without_evidence += 1
            continue
        titles = list(dict.fromkeys(_wiki_title(page) for page in pages))
        pairs.append(Pair(claim, "; ".join(titles), where=where))
    return SourceData(pairs, [path], {"claims_without_evidence": without_evidence})


def read_pubmedqa(train_dir: Path) -> SourceData:
    """PubMedQA PQA-L: question (usually the title) -> the abstract's context sections, joined."""
    path = train_dir / "pubmedqa" / "ori_pqal.json"
    pairs = []
    for pmid, row in _json(path).items():
        where = f"{path}: PMID {pmid}"
        contexts = _field(row, "CONTEXTS", where, (list, str))
        if isinstance(contexts, str):  # some copies store the list as its Python repr
            contexts = ast.literal_eval(contexts)
        pairs.append(Pair(_field(row, "QUESTION", where), " ".join(contexts), where=where))
    return SourceData(pairs, [path])


def read_olora_title_text(train_dir: Path, folder: str) -> SourceData:
    """AG News / Amazon reviews (O-LoRA copies in `train_dir/folder`): "Title: <title>\\nText: <body>" -> title -> body."""
    pairs, files, empty = [], [], 0
    for split in ("train", "dev"):
        path = train_dir / folder / f"{split}.json"
        files.append(path)
        for number, row in enumerate(_json(path)):
            where = f"{path}: record {number}"
            packed = _strip_prefix(_field(row, "sentence", where), "Title: ", where, "sentence")
            if "\nText: " not in packed:
                raise ValueError(f"{where}: field 'sentence' has no '\\nText: ' part")
            title, body = (part.strip() for part in packed.split("\nText: ", 1))
            if not title or not body:
                empty += 1
                continue
            pairs.append(Pair(title, body, where=where))
    return SourceData(pairs, files, {"empty_title_or_text": empty})


def read_codesearch(train_dir: Path) -> SourceData:
    """CoSQA dev: web query -> Python function, for the pairs labelled 1 (the code answers the query).

    `test_webquery.json` is not used: its relevance labels are not in the snapshot.
    """
    path = train_dir / "codesearch_cosqa_webquery" / "cosqa-dev.json"
    pairs, negative_labels = [], 0
    for number, row in enumerate(_json(path)):
        where = f"{path}: record {number}"
        label = _field(row, "label", where, int)
        if label != 1:
            negative_labels += 1
            continue
        pairs.append(Pair(_field(row, "doc", where), _field(row, "code", where), where=where))
    return SourceData(pairs, [path], {"label_0_pairs": negative_labels})


def read_simplewiki(train_dir: Path) -> SourceData:
    """TurkCorpus: English Wikipedia sentence -> its Simple English Wikipedia version (line-aligned)."""
    pairs, files, identical = [], [], 0
    for split in ("tune", "test"):
        norm = train_dir / "simplewiki_turkcorpus" / f"{split}.8turkers.tok.norm"
        simp = train_dir / "simplewiki_turkcorpus" / f"{split}.8turkers.tok.simp"
        files += [norm, simp]
        for number, (original, simple) in enumerate(zip(*_aligned(norm, simp)), start=1):
            if original.strip() == simple.strip():
                identical += 1
                continue
            pairs.append(Pair(original.strip(), simple.strip(), where=f"{norm}:{number}"))
    return SourceData(pairs, files, {"identical_pairs": identical})


def read_flickr(train_dir: Path, per_image: int = 5) -> SourceData:
    """Flickr30k captions: each caption -> the next caption of the same image (5 consecutive lines per image)."""
    pairs, files = [], []
    for split in ("dev", "test"):
        path = train_dir / "flickr30k_captions" / f"{split}_caps.txt"
        files.append(path)
        lines = readers.lines(path)
        if len(lines) % per_image:
            raise ValueError(f"{path}: {len(lines)} lines is not a multiple of {per_image} captions per image")
        for start in range(0, len(lines), per_image):
            captions = [line.strip() for line in lines[start:start + per_image]]
            for offset, caption in enumerate(captions):
                if not caption:
                    raise ValueError(f"{path}:{start + offset + 1}: empty caption")
                pairs.append(Pair(caption, captions[(offset + 1) % per_image], group=f"{path.name}#{start}",
                                  where=f"{path}:{start + offset + 1}"))
    return SourceData(pairs, files)


def read_quora(train_dir: Path) -> SourceData:
    """Quora Question Pairs: question1 -> question2 for duplicates (label 1).

    A few rows hold bytes that are not UTF-8 (as upstream): they are decoded with U+FFFD replacement and
    counted in notes["invalid_utf8_lines"].
    """
    pairs, files, invalid, not_duplicate = [], [], 0, 0
    for split in ("dev", "test"):
        path = train_dir / "quora_duplicates" / f"{split}.tsv"
        files.append(path)
        for number, raw in enumerate(path.read_bytes().splitlines(), start=1):
            where = f"{path}:{number}"
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                line = raw.decode("utf-8", errors="replace")
                invalid += 1
            columns = line.split("\t")
            if len(columns) != 4:
                raise ValueError(f"{where}: expected 4 tab-separated fields (label, question1, question2, id), got {len(columns)}")
            label, first, second, _ = columns
            if label not in ("0", "1"):
                raise ValueError(f"{where}: field 'label' must be 0 or 1, got {label!r}")
            if label == "0":
                not_duplicate += 1
                continue
            pairs.append(Pair(first.strip(), second.strip(), where=where))
    return SourceData(pairs, files, {"invalid_utf8_lines": invalid, "non_duplicate_pairs": not_duplicate})


def _paper_titles(folder: Path) -> dict[str, dict]:
    papers = {}
    for name in ("metadata.json", "sample-metadata.json"):
        for paper_id, row in _json(folder / name).items():
            papers[paper_id] = row
    return papers


def read_specter(train_dir: Path) -> SourceData:
    """SPECTER triples: query paper title -> directly cited paper title (count 5); count 1 gives the negative.

    Only relations whose two papers have metadata become pairs; the sample has almost none (notes say how many).
    """
    folder = train_dir / "specter_sample"
    papers = _paper_titles(folder)
    pairs, missing = [], 0
    for query_id, cited in _json(folder / "data.json").items():
        direct = [pid for pid, info in cited.items() if info.get("count") == 5 and pid in papers]
        indirect = [pid for pid, info in cited.items() if info.get("count") == 1 and pid in papers]
        missing += sum(query_id not in papers or pid not in papers for pid in cited)
        if query_id not in papers:
            continue
        for index, paper_id in enumerate(direct):
            neg = papers[indirect[index % len(indirect)]]["title"] if indirect else None
            pairs.append(Pair(papers[query_id]["title"], papers[paper_id]["title"], neg, where=f"data.json:{query_id}"))
    return SourceData(pairs, [folder / "data.json", folder / "metadata.json", folder / "sample-metadata.json"],
                      {"relations_without_metadata": missing})


def read_s2orc(train_dir: Path) -> SourceData:
    """S2ORC title -> abstract stand-in: the SPECTER sample's paper metadata."""
    folder = train_dir / "specter_sample"
    pairs, incomplete = [], 0
    for paper_id, row in _paper_titles(folder).items():
        if not row.get("title") or not row.get("abstract"):
            incomplete += 1
            continue
        pairs.append(Pair(row["title"].strip(), row["abstract"].strip(), where=f"{folder}: paper {paper_id}"))
    return SourceData(pairs, [folder / "metadata.json", folder / "sample-metadata.json"], {"without_title_or_abstract": incomplete})


def read_xsum(train_dir: Path) -> SourceData:
    """XSum (super-NI task1290 via SAPT): one-sentence summary -> article."""
    task = read_superni_task(train_dir / "superni" / "supplement_sapt" / "task1290_xsum_summarization")
    pairs = [Pair(summary, article, where=f"{task.name}: instance {index}")
             for index, (article, summary) in enumerate(zip(task.inputs, task.outputs))]
    return SourceData(pairs, list(task.files))


# ---------------------------------------------------------------------------------------------- super-NI
def read_superni_task(path: Path) -> SuperniTask:
    """Read one super-NI task: `tasks/<name>.json[.gz]`, or a SAPT folder holding train/dev `.json.gz` parts.

    Each instance keeps its first output (super-NI lists reference outputs; the first is the canonical one).
    """
    path = Path(path)
    files = sorted(path.glob("*.json*"), key=lambda p: (p.name != "train.json.gz", p.name)) if path.is_dir() else [path]
    if not files:
        raise FileNotFoundError(f"{path}: no task json files")
    name = path.name.split(".")[0]
    inputs, outputs, meta = [], [], None
    for file in files:
        task = _json(file)
        meta = meta or task
        for number, instance in enumerate(_field(task, "Instances", str(file), list)):
            where = f"{file}: Instances[{number}]"
            outs = _field(instance, "output", where, list)
            if not outs or not isinstance(outs[0], str):
                raise ValueError(f"{where}: field 'output' must be a non-empty list of strings")
            inputs.append(_field(instance, "input", where))
            outputs.append(outs[0])
    where = str(files[0])
    definition = _field(meta, "Definition", where, list)
    if not definition or not isinstance(definition[0], str):
        raise ValueError(f"{where}: field 'Definition' must be a non-empty list of strings")
    return SuperniTask(name, definition[0], tuple(meta.get("Domains", [])), tuple(meta.get("Categories", [])),
                       tuple(meta.get("Source", [])), tuple(inputs), tuple(outputs), tuple(files))


def superni_task_paths(train_dir: Path) -> dict[str, Path]:
    """Every stored super-NI train task, name -> path (tasks/*.json.gz and the SAPT supplement folders)."""
    root = train_dir / "superni"
    paths = {p.name.split(".")[0]: p for p in sorted((root / "tasks").glob("*.json*"))}
    paths.update({p.name: p for p in sorted((root / "supplement_sapt").iterdir()) if p.is_dir()})
    return dict(sorted(paths.items()))


def read_superni_manifest(train_dir: Path) -> list[dict]:
    """`superni/manifest.jsonl`: one row per stored task (categories, domains, source, instance counts)."""
    path = train_dir / "superni" / "manifest.jsonl"
    rows = []
    for number, line in enumerate(readers.lines(path), start=1):
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as err:
            raise ValueError(f"{path}:{number}: invalid JSON ({err.msg})") from err
        _field(rows[-1], "task", f"{path}:{number}")
    return rows


# MEDI dataset name -> (reader over `<data_dir>/train`, the data folders it reads, shown in the stats table).
EMBEDDING_SOURCES = {
    "AllNLI": (read_nli, ("snli_esnli", "mnli_olora")),
    "squad_pairs": (read_squad, ("squad_nqg",)),
    "NQ": (read_nq, ("nq_open",)),
    "fever": (read_fever, ("fever_labelled_dev",)),
    "pubmed": (read_pubmedqa, ("pubmedqa",)),
    "agnews": (partial(read_olora_title_text, folder="agnews_olora"), ("agnews_olora",)),
    "amazon_review_2018": (partial(read_olora_title_text, folder="amazon_reviews_olora"), ("amazon_reviews_olora",)),
    "code_search": (read_codesearch, ("codesearch_cosqa_webquery",)),
    "simple_wiki": (read_simplewiki, ("simplewiki_turkcorpus",)),
    "flickr30k_captions": (read_flickr, ("flickr30k_captions",)),
    "quora_duplicates": (read_quora, ("quora_duplicates",)),
    "specter_train_triples": (read_specter, ("specter_sample",)),
    "S2ORC_title_abstract": (read_s2orc, ("specter_sample",)),
    "xsum": (read_xsum, ("superni/supplement_sapt/task1290_xsum_summarization",)),
}


def read_source(name: str, train_dir: Path) -> SourceData:
    """Read the embedding dataset `name` (a key of EMBEDDING_SOURCES) from `train_dir`.

    Results are cached per process (the data is read-only), so building several variants reads each file once.
    """
    if name not in EMBEDDING_SOURCES:
        raise KeyError(f"unknown MEDI source {name!r}; known: {sorted(EMBEDDING_SOURCES)}")
    return _read_source_cached(name, Path(train_dir).resolve())


@lru_cache(maxsize=None)
def _read_source_cached(name: str, train_dir: Path) -> SourceData:
    return EMBEDDING_SOURCES[name][0](train_dir)
