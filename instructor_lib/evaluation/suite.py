"""Local MTEB tasks: mteb's official task objects with their data read from `<data_dir>/eval/<folder>/`.

Each `TaskSpec` names the official mteb task (its metadata, evaluator and main score are used unchanged)
and a reader that turns the local copy (see `eval/INDEX.md` and each folder's `SOURCE.md`) into the
dataset layout that task expects. Exact and subset copies keep the official name; substitutes (a different
dataset of the same shape) are renamed `<official>-local` so their numbers are never mistaken for
leaderboard numbers.

Subsampling is deterministic: `Subsample(max_test=..., max_train=..., max_corpus=...)` keeps a seeded
random subset (rows in their original order); the sizes actually used are returned with the tasks and
recorded in the results. Named suites (`SUITES`) pair task names with subsample limits.

With internet, `build_suite(..., source="hub")` runs the same suite on mteb's own downloaded data by
official name; `hub_loader` replaces the downloader (tests use a stub).
"""
from __future__ import annotations

import ast
import csv
import gzip
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from ..config import data_dir as resolve_data_dir
from ..presets import FULL, PRESETS, Subsample
from ..provenance import folder_hash

LOCAL_SUFFIX = "-local"


class DataFormatError(ValueError):
    """A local data file does not have the documented format; the message names the file and line."""


# --------------------------------------------------------------------------------------- file readers
def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def _fields(path: Path, line_no: int, line: str, count: int) -> list[str]:
    fields = line.split("\t")
    if len(fields) < count:
        raise DataFormatError(f"{path}:{line_no}: expected at least {count} TAB-separated fields, got {len(fields)}")
    return fields


def _score(path: Path, line_no: int, value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise DataFormatError(f"{path}:{line_no}: score {value!r} is not a number") from None


def _sts_pairs(folder: Path, prefix: str, subsets: list[str]) -> dict:
    """SemEval STS release files: `<prefix>.input.<s>.txt` (TAB pairs) + `<prefix>.gs.<s>.txt` (scores, blank = unscored)."""
    rows = {"sentence1": [], "sentence2": [], "score": []}
    for subset in subsets:
        inputs, golds = folder / f"{prefix}.input.{subset}.txt", folder / f"{prefix}.gs.{subset}.txt"
        input_lines, gold_lines = _lines(inputs), _lines(golds)
        if len(gold_lines) > len(input_lines):
            raise DataFormatError(f"{golds}: {len(gold_lines)} scores for {len(input_lines)} pairs in {inputs}")
        for line_no, (pair, gold) in enumerate(zip(input_lines, gold_lines), start=1):
            if not gold.strip():
                continue  # unscored pair (STS15/16 releases), documented in SOURCE.md
            first, second = _fields(inputs, line_no, pair, 2)[:2]
            rows["sentence1"].append(first)
            rows["sentence2"].append(second)
            rows["score"].append(_score(golds, line_no, gold.strip()))
    return rows


def _tsv_rows(path: Path) -> list[dict]:
    """Rows of a plain TAB-separated file with a header line (no quoting); each row has its `_line` number."""
    lines = _lines(path)
    names = lines[0].rstrip("\r").split("\t")
    rows = []
    for line_no, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = _fields(path, line_no, line.rstrip("\r"), len(names))
        rows.append({"_line": line_no, **dict(zip(names, fields))})
    return rows


def _csv_rows(path: Path, required: list[str]) -> list[dict]:
    with (gzip.open(path, "rt", encoding="utf-8", newline="") if path.suffix == ".gz"
          else path.open(encoding="utf-8", newline="")) as handle:
        reader = csv.DictReader(handle)
        missing = set(required) - set(reader.fieldnames or [])
        if missing:
            raise DataFormatError(f"{path}: header lacks column(s) {sorted(missing)}")
        rows = []
        for row in reader:
            for name in required:
                if row[name] is None:
                    raise DataFormatError(f"{path}:{reader.line_num}: field {name!r} is missing")
            rows.append(row)
        return rows


def _split(rows: dict):
    from datasets import Dataset

    return Dataset.from_dict(rows)


def _dataset_dict(splits: dict[str, dict]):
    from datasets import DatasetDict

    return DatasetDict({name: _split(rows) for name, rows in splits.items()})


# ------------------------------------------------------------------------------------------ STS readers
STS_SUBSETS = {
    "STS12": ["MSRpar", "MSRvid", "SMTeuroparl", "surprise.OnWN", "surprise.SMTnews"],
    "STS13": ["FNWN", "OnWN", "headlines"],
    "STS14": ["deft-forum", "deft-news", "headlines", "images", "OnWN", "tweet-news"],
    "STS15": ["answers-forums", "answers-students", "belief", "headlines", "images"],
    "STS16": ["answer-answer", "headlines", "plagiarism", "postediting", "question-question"],
}


def read_semeval_sts(folder: Path, task: str):
    prefix = "STS2016" if task == "STS16" else "STS"
    return _dataset_dict({"test": _sts_pairs(folder, prefix, STS_SUBSETS[task])})


def read_stsbenchmark(folder: Path):
    path = folder / "sts-test.csv"
    rows = {"sentence1": [], "sentence2": [], "score": []}
    for line_no, line in enumerate(_lines(path), start=1):
        fields = _fields(path, line_no, line, 7)
        rows["score"].append(_score(path, line_no, fields[4]))
        rows["sentence1"].append(fields[5])
        rows["sentence2"].append(fields[6])
    return _dataset_dict({"test": rows})


def read_sick_r(folder: Path):
    rows = {"sentence1": [], "sentence2": [], "score": []}
    for name in ("SICK_train.txt", "SICK_trial.txt", "SICK_test_annotated.txt"):  # MTEB test = all three
        for row in _tsv_rows(folder / name):
            rows["sentence1"].append(row["sentence_A"])
            rows["sentence2"].append(row["sentence_B"])
            rows["score"].append(_score(folder / name, row["_line"], row["relatedness_score"]))
    return _dataset_dict({"test": rows})


def read_biosses(folder: Path):
    path, rows = folder / "all.tsv", {"sentence1": [], "sentence2": [], "score": []}
    with path.open(encoding="utf-8", newline="") as handle:  # CSV quoting: one quoted sentence holds a TAB
        for row in csv.DictReader(handle, delimiter="\t"):
            rows["sentence1"].append(row["sentence1"])
            rows["sentence2"].append(row["sentence2"])
            rows["score"].append(_score(path, row["index"], row["score"]))
    return _dataset_dict({"test": rows})


# ------------------------------------------------------------------------------- classification readers
def _labelled(pairs: list[tuple[str, str]]) -> dict:
    return {"text": [text for text, _ in pairs], "label": [label for _, label in pairs]}


def read_banking77(folder: Path):
    return _dataset_dict({split: _labelled([(r["text"], r["category"]) for r in _csv_rows(folder / f"{split}.csv", ["text", "category"])])
                          for split in ("train", "test")})


def read_emotion(folder: Path):
    names = ["sadness", "joy", "love", "anger", "fear", "surprise"]  # HF ids 0..5
    splits = {}
    for split, file in (("train", "train.txt"), ("test", "test.txt")):
        path, pairs = folder / file, []
        for line_no, line in enumerate(_lines(path)[1:], start=2):  # line 1 is a header added by the vendoring repo
            text, sep, label = line.rpartition(";")
            if not sep or label not in names:
                raise DataFormatError(f"{path}:{line_no}: expected 'text;label' with label in {names}, got {line!r}")
            pairs.append((text, names.index(label)))
        splits[split] = _labelled(pairs)
    return _dataset_dict(splits)


def read_amazon_counterfactual(folder: Path):
    subsets = {}
    for subset, prefix in (("en-ext", "EN-ext"), ("en", "EN")):
        splits = {}
        for split, suffix in (("train", "train"), ("validation", "valid"), ("test", "test")):
            path = folder / f"{prefix}_{suffix}.tsv"
            with path.open(encoding="utf-8", newline="") as handle:  # CSV quoting ("""...""") inside the TSV
                rows = list(csv.DictReader(handle, delimiter="\t"))
            bad = [i for i, r in enumerate(rows, start=2) if r["is_counterfactual"] not in ("0", "1")]
            if bad:
                raise DataFormatError(f"{path}:{bad[0]}: is_counterfactual must be 0 or 1")
            splits[split] = _labelled([(r["sentence"], int(r["is_counterfactual"])) for r in rows])
        subsets[subset] = _dataset_dict(splits)
    return subsets


def read_tweet_sentiment(folder: Path):
    ids = {"negative": 0, "neutral": 1, "positive": 2}
    splits = {}
    for split in ("train", "test"):
        path = folder / f"{split}.csv"
        rows = _csv_rows(path, ["text", "sentiment"])
        bad = [r["sentiment"] for r in rows if r["sentiment"] not in ids]
        if bad:
            raise DataFormatError(f"{path}: unknown sentiment label(s) {sorted(set(bad))[:5]}")
        splits[split] = _labelled([(r["text"], ids[r["sentiment"]]) for r in rows])
    return _dataset_dict(splits)


def read_imdb(folder: Path):
    splits = {}
    for split in ("train", "test"):
        rows = _tsv_rows(folder / f"orig_{split}.tsv")
        splits[split] = _labelled([(r["Text"], int(r["Sentiment"] == "Positive")) for r in rows])
    return _dataset_dict(splits)


def read_slurp(folder: Path, label_field: str):
    """SLURP (MASSIVE en-US source) as a MASSIVE stand-in: `devel` is the training pool, `test` the test set."""
    splits = {}
    for split, file in (("train", "slurp_devel.jsonl.gz"), ("test", "slurp_test.jsonl.gz")):
        path, pairs = folder / file, []
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for line_no, line in enumerate(handle, start=1):
                record = json.loads(line)
                if "sentence" not in record or label_field not in record:
                    raise DataFormatError(f"{path}:{line_no}: record lacks 'sentence' or {label_field!r}")
                pairs.append((record["sentence"], record[label_field]))
        splits[split] = _labelled(pairs)
    return {"en": _dataset_dict(splits)}


# ---------------------------------------------------------------------------- pair classification readers
def read_twitter_semeval(folder: Path):
    """Official SemEval-2015 PIT test pairs with a binary label; debatable pairs (`----`) are left out as in the task."""
    data, labels = _lines(folder / "test.data"), _lines(folder / "test.label")
    if len(data) != len(labels):
        raise DataFormatError(f"{folder / 'test.label'}: {len(labels)} labels for {len(data)} pairs in test.data")
    rows = {"sentence1": [], "sentence2": [], "labels": []}
    for line_no, (line, label_line) in enumerate(zip(data, labels), start=1):
        fields = _fields(folder / "test.data", line_no, line, 4)
        binary = label_line.split("\t")[0]
        if binary == "----":
            continue
        if binary not in ("true", "false"):
            raise DataFormatError(f"{folder / 'test.label'}:{line_no}: label {binary!r} is not true/false/----")
        rows["sentence1"].append(fields[2])
        rows["sentence2"].append(fields[3])
        rows["labels"].append(int(binary == "true"))
    return _dataset_dict({"test": rows})


def read_twitter_url(folder: Path):
    path = folder / "Twitter_URL_Corpus_test.txt"
    rows = {"sentence1": [], "sentence2": [], "labels": []}
    for line_no, line in enumerate(_lines(path), start=1):
        if not line.strip():
            continue
        fields = line.split("\t")
        votes = re.fullmatch(r"\((\d),6\)", fields[2] if len(fields) > 2 else "")
        if len(fields) < 4 or not votes:
            raise DataFormatError(f"{path}:{line_no}: expected 'sentence1<TAB>sentence2<TAB>(n,6)<TAB>url'")
        positive = int(votes.group(1))
        if positive == 3:
            continue  # undecided pairs are not labelled in the corpus
        rows["sentence1"].append(fields[0])
        rows["sentence2"].append(fields[1])
        rows["labels"].append(int(positive >= 4))
    return _dataset_dict({"test": rows})


# ------------------------------------------------------------------------------------ clustering readers
def _cluster_sets(texts: list[str], labels: list[str], n_sets: int, set_size: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    size = min(set_size, len(texts))
    picks = [np.sort(rng.choice(len(texts), size, replace=False)) for _ in range(n_sets)]
    return {"sentences": [[texts[i] for i in pick] for pick in picks], "labels": [[labels[i] for i in pick] for pick in picks]}


def read_twenty_newsgroups(folder: Path):
    """10 seeded sets of 2,000 subject lines from 20news-19997, clustered by newsgroup (mimics MTEB's 10 sets)."""
    path = folder / "20news-19997_subjects.jsonl"
    texts, labels = [], []
    for line_no, line in enumerate(_lines(path), start=1):
        record = json.loads(line)
        if "subject" not in record or "newsgroup" not in record:
            raise DataFormatError(f"{path}:{line_no}: record lacks 'subject' or 'newsgroup'")
        texts.append(record["subject"])
        labels.append(record["newsgroup"])
    return _dataset_dict({"test": _cluster_sets(texts, labels, n_sets=10, set_size=2000, seed=0)})


def read_arxiv_titles(folder: Path):
    """ArXiv titles clustered by first category: one set of all 1,000 papers (a weak S2S stand-in)."""
    path = folder / "arxiv_data.csv"
    texts, labels = [], []
    for row in _csv_rows(path, ["titles", "terms"]):
        terms = ast.literal_eval(row["terms"])
        if not terms:
            raise DataFormatError(f"{path}: paper {row['titles'][:60]!r} has no category")
        texts.append(row["titles"])
        labels.append(terms[0])
    return _dataset_dict({"test": {"sentences": [texts], "labels": [labels]}})


# ------------------------------------------------------------------------- retrieval / reranking readers
_PY_STRING = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"", re.S)


def _numpy_string_list(text: str) -> list[str]:
    """Parse a numpy-array repr of strings (`['a.'\\n 'b.']`, no commas) into a list of strings."""
    return [ast.literal_eval(literal) for literal in _PY_STRING.findall(text)]


def read_scifact(folder: Path):
    """BEIR SciFact test: 300 dev-set claims, qrels from `cited_doc_ids`, corpus of 5,183 abstracts (see SOURCE.md)."""
    from datasets import Dataset

    corpus_rows = _csv_rows(folder / "corpus_train.csv.gz", ["doc_id", "title", "abstract"])
    corpus = Dataset.from_dict({"id": [r["doc_id"] for r in corpus_rows], "title": [r["title"] for r in corpus_rows],
                                "text": [" ".join(_numpy_string_list(r["abstract"])) for r in corpus_rows]})
    queries, qrels = {}, {}
    for row in _csv_rows(folder / "claims_validation.csv", ["id", "claim", "cited_doc_ids"]):
        queries.setdefault(row["id"], row["claim"])
        for doc_id in re.findall(r"\d+", row["cited_doc_ids"]):
            qrels.setdefault(row["id"], {})[doc_id] = 1
    query_ids = sorted(queries, key=int)
    return {"default": {"test": {"corpus": corpus, "relevant_docs": qrels, "top_ranked": None,
                                 "queries": Dataset.from_dict({"id": query_ids, "text": [queries[q] for q in query_ids]})}}}


def read_semeval_cqa(folder: Path):
    """SemEval-2016 Task 3 subtask B (dev + train part 2) as duplicate-question reranking: query = subject + body,
    candidates = the 10 related questions, positives = PerfectMatch/Relevant."""
    from datasets import Dataset

    queries, corpus, qrels, top_ranked = {}, {}, {}, {}
    for file in ("semeval2016_task3_ql_dev_subtaskB.jsonl", "semeval2016_task3_ql_train_part2_subtaskB.jsonl"):
        path = folder / file
        for line_no, line in enumerate(_lines(path), start=1):
            record = json.loads(line)
            try:
                query_id = record["orgq_id"]
                queries[query_id] = f"{record['orgq_subject']} {record['orgq_body']}".strip()
                top_ranked[query_id] = []
                for candidate in record["candidates"]:
                    doc_id = candidate["relq_id"]
                    corpus[doc_id] = f"{candidate['relq_subject']} {candidate['relq_body']}".strip()
                    top_ranked[query_id].append(doc_id)
                    qrels.setdefault(query_id, {})[doc_id] = int(candidate["relevance2orgq"] in ("PerfectMatch", "Relevant"))
            except KeyError as err:
                raise DataFormatError(f"{path}:{line_no}: missing field {err}") from None
    return {"default": {"test": {
        "queries": Dataset.from_dict({"id": list(queries), "text": list(queries.values())}),
        "corpus": Dataset.from_dict({"id": list(corpus), "text": list(corpus.values())}),
        "relevant_docs": qrels, "top_ranked": top_ranked}}}


# ---------------------------------------------------------------------------------------------- specs
@dataclass(frozen=True)
class TaskSpec:
    """A local evaluation task: official mteb task, local folder, status and reader.

    Args:
        official: mteb task name whose object (metadata, evaluator, main score) is used.
        folder: folder under `<data_dir>/eval/`.
        status: "exact", "subset" or "substitute" (as in eval/INDEX.md); substitutes are renamed `-local`.
        read: function(folder) -> the dataset in the layout the mteb task expects.
        hf_subsets: the subsets evaluated (multilingual tasks keep only the English ones held locally).
        eval_splits: the splits evaluated.
        published_subset: the subset whose score the leaderboard reports as the task score.
    """

    official: str
    folder: str
    status: str
    read: Callable[[Path], object]
    hf_subsets: tuple[str, ...] = ("default",)
    eval_splits: tuple[str, ...] = ("test",)
    published_subset: str = "default"

    @property
    def name(self) -> str:
        return self.official + LOCAL_SUFFIX if self.status == "substitute" else self.official


def _specs() -> dict[str, TaskSpec]:
    sts = [TaskSpec(task, task, "exact", lambda folder, task=task: read_semeval_sts(folder, task)) for task in STS_SUBSETS]
    specs = sts + [
        TaskSpec("STSBenchmark", "STSBenchmark", "exact", read_stsbenchmark),
        TaskSpec("SICK-R", "SICK-R", "exact", read_sick_r),
        TaskSpec("BIOSSES", "BIOSSES", "exact", read_biosses),
        TaskSpec("Banking77Classification", "Banking77Classification", "exact", read_banking77),
        TaskSpec("EmotionClassification", "EmotionClassification", "exact", read_emotion),
        TaskSpec("AmazonCounterfactualClassification", "AmazonCounterfactualClassification", "exact",
                 read_amazon_counterfactual, hf_subsets=("en", "en-ext"), published_subset="en"),
        TaskSpec("TweetSentimentExtractionClassification", "TweetSentimentExtractionClassification", "exact", read_tweet_sentiment),
        TaskSpec("SciFact", "SciFact", "exact", read_scifact),
        TaskSpec("TwitterURLCorpus", "TwitterURLCorpus", "subset", read_twitter_url),
        TaskSpec("ImdbClassification", "ImdbClassification", "substitute", read_imdb),
        TaskSpec("MassiveIntentClassification", "MassiveIntentClassification", "substitute",
                 lambda folder: read_slurp(folder, "intent"), hf_subsets=("en",), published_subset="en"),
        TaskSpec("MassiveScenarioClassification", "MassiveIntentClassification", "substitute",
                 lambda folder: read_slurp(folder, "scenario"), hf_subsets=("en",), published_subset="en"),
        TaskSpec("TwitterSemEval2015", "TwitterSemEval2015", "substitute", read_twitter_semeval),
        TaskSpec("TwentyNewsgroupsClustering", "TwentyNewsgroupsClustering", "substitute", read_twenty_newsgroups),
        TaskSpec("ArxivClusteringS2S", "ArxivClustering", "substitute", read_arxiv_titles),
        TaskSpec("AskUbuntuDupQuestions", "SemEval2016CQAReranking", "substitute", read_semeval_cqa),
    ]
    return {spec.name: spec for spec in specs}


TASKS: dict[str, TaskSpec] = _specs()
EXACT_TASKS = [name for name, spec in TASKS.items() if spec.status == "exact"]


BROAD = {  # every local category, wider than the cpu preset's suite: one MiniLM-L6-class model in ~5-10 minutes
    "STS12": Subsample(400), "STS13": Subsample(400), "STS14": Subsample(400), "STS15": Subsample(400),
    "STS16": Subsample(400), "STSBenchmark": Subsample(400), "SICK-R": Subsample(400), "BIOSSES": FULL,
    "Banking77Classification": Subsample(500, 1000), "EmotionClassification": Subsample(500, 1000),
    "AmazonCounterfactualClassification": Subsample(400, 1000),
    "TweetSentimentExtractionClassification": Subsample(500, 1000),
    "SciFact": Subsample(max_test=100, max_corpus=600), "TwitterURLCorpus": Subsample(600),
    # MassiveIntent is left out: its official instruction (316 tokens) fills the whole window of the CPU models
    # (256 tokens for MiniLM, 128 after cpu training), so its score would measure truncation, not embeddings.
    "ImdbClassification-local": Subsample(200, 400), "MassiveScenarioClassification-local": Subsample(500, 800), "TwitterSemEval2015-local": Subsample(600),
    "TwentyNewsgroupsClustering-local": Subsample(300), "ArxivClusteringS2S-local": FULL,
    "AskUbuntuDupQuestions-local": FULL,
}
# Named suites: the smoke and cpu presets' own (`instructor_lib.presets`), the broad one, and every task in full.
SUITES: dict[str, dict[str, Subsample]] = {
    "smoke": PRESETS["smoke"]["suite"], "cpu": PRESETS["cpu"]["suite"], "broad": BROAD,
    "exact": {name: FULL for name in EXACT_TASKS},
    "full": {name: FULL for name in TASKS},
}


# --------------------------------------------------------------------------------------- subsampling
def _pick(n: int, limit: int | None, seed: int) -> list[int] | None:
    """Seeded choice of `limit` of `n` row indices, in their original order; None when nothing is dropped."""
    if limit is None or limit >= n:
        return None
    return sorted(np.random.default_rng(seed).choice(n, size=limit, replace=False).tolist())


def _subsample_split(split, task_type: str, limits: Subsample, seed: int, sizes: dict, split_name: str):
    if task_type in ("Retrieval", "Reranking"):
        return _subsample_retrieval(split, limits, seed, sizes, split_name)
    if task_type == "Clustering":
        return _subsample_clusters(split, limits, seed, sizes, split_name)
    keep = _pick(len(split), limits.max_test, seed)
    split = split if keep is None else split.select(keep)
    sizes[split_name] = len(split)
    return split


def _subsample_clusters(split, limits: Subsample, seed: int, sizes: dict, split_name: str):
    from datasets import Dataset

    sets = {"sentences": [], "labels": []}
    for index, (texts, labels) in enumerate(zip(split["sentences"], split["labels"])):
        keep = _pick(len(texts), limits.max_test, seed + index)
        keep = range(len(texts)) if keep is None else keep
        sets["sentences"].append([texts[i] for i in keep])
        sets["labels"].append([labels[i] for i in keep])
    sizes[split_name] = [len(texts) for texts in sets["sentences"]]
    return Dataset.from_dict(sets)


def _subsample_retrieval(split: dict, limits: Subsample, seed: int, sizes: dict, split_name: str) -> dict:
    queries, corpus = split["queries"], split["corpus"]
    keep = _pick(len(queries), limits.max_test, seed)
    if keep is not None:
        queries = queries.select(keep)
    kept_ids = set(queries["id"])
    qrels = {q: docs for q, docs in split["relevant_docs"].items() if q in kept_ids}
    top_ranked = split["top_ranked"] and {q: docs for q, docs in split["top_ranked"].items() if q in kept_ids}
    needed = {doc for docs in qrels.values() for doc in docs} | {doc for docs in (top_ranked or {}).values() for doc in docs}
    if top_ranked or (limits.max_corpus is not None and limits.max_corpus < len(corpus)):
        ids = corpus["id"]
        required = [i for i, doc in enumerate(ids) if doc in needed]
        others = [i for i, doc in enumerate(ids) if doc not in needed]
        room = 0 if top_ranked else max(0, limits.max_corpus - len(required))
        extra = _pick(len(others), room, seed)
        extra = range(len(others)) if extra is None else extra
        corpus = corpus.select(sorted(required + [others[i] for i in extra]))
    sizes[split_name] = {"queries": len(queries), "corpus": len(corpus)}
    return {**split, "queries": queries, "corpus": corpus, "relevant_docs": qrels, "top_ranked": top_ranked}


def subsample_dataset(dataset: dict, spec: TaskSpec, task_type: str, train_split: str | None, limits: Subsample,
                      seed: int) -> tuple[dict, dict]:
    """Apply `limits` to a task's dataset {subset: {split: data}}; return it and the sizes used per subset/split."""
    result, sizes = {}, {}
    for subset in spec.hf_subsets:
        if subset not in dataset:
            raise KeyError(f"{spec.name}: subset {subset!r} is not in the data (has {sorted(dataset)})")
        splits, subset_sizes = dict(dataset[subset]), {}
        for split_name in spec.eval_splits:
            splits[split_name] = _subsample_split(splits[split_name], task_type, limits, seed, subset_sizes, split_name)
        if train_split is not None:
            keep = _pick(len(splits[train_split]), limits.max_train, seed)
            splits[train_split] = splits[train_split] if keep is None else splits[train_split].select(keep)
            subset_sizes[train_split] = len(splits[train_split])
        result[subset] = _as_dataset_dict(splits)
        sizes[subset] = subset_sizes
    return result, sizes


def _as_dataset_dict(splits: dict):
    from datasets import Dataset, DatasetDict

    if all(isinstance(value, Dataset) for value in splits.values()):
        return DatasetDict(splits)
    return splits


# ------------------------------------------------------------------------------------------ building
@dataclass
class SuiteTask:
    """A ready-to-run task with what the results need to record about it."""

    task: object
    spec: TaskSpec
    limits: Subsample
    sizes: dict
    data_hash: str


def resolve_suite(suite: str | dict[str, Subsample] | list[str]) -> dict[str, Subsample]:
    """A suite name, a list of task names (full size) or a {task name: Subsample} dict -> {task name: Subsample}."""
    if isinstance(suite, str):
        if suite not in SUITES:
            raise KeyError(f"unknown suite {suite!r}; choose one of {sorted(SUITES)} or pass task names")
        return dict(SUITES[suite])
    if not isinstance(suite, (list, tuple, dict)):
        raise TypeError(f"suite must be a suite name, a list of task names or a {{task: Subsample}} dict, "
                        f"got {type(suite).__name__}")
    mapping = {name: FULL for name in suite} if isinstance(suite, (list, tuple)) else dict(suite)
    if not mapping:
        raise ValueError(f"the suite is empty: name at least one task (local tasks are {sorted(TASKS)})")
    unknown = sorted(set(mapping) - set(TASKS))
    if unknown:
        raise KeyError(f"unknown task(s) {unknown}; local tasks are {sorted(TASKS)}")
    for name, limits in mapping.items():
        if not isinstance(limits, Subsample):
            raise TypeError(f"suite[{name!r}] must be a Subsample (e.g. Subsample(max_test=100)) or FULL, "
                            f"got {type(limits).__name__} {limits!r}")
    return mapping


def _load_local(spec: TaskSpec, eval_dir: Path):
    folder = eval_dir / spec.folder
    if not folder.is_dir():
        raise FileNotFoundError(f"{spec.name}: local copy {folder} is missing (see eval/INDEX.md)")
    return spec.read(folder), folder_hash(folder)


def _default_hub_loader(task) -> None:
    task.load_data()


def build_task(name: str, limits: Subsample = FULL, *, seed: int = 42, data_dir: str | Path | None = None,
               source: str = "local", hub_loader: Callable | None = None) -> SuiteTask:
    """The mteb task object for `name` with its data injected (local) or loaded by mteb (hub), then subsampled.

    Args:
        name: a key of `TASKS` (official name, or `<official>-local` for substitutes).
        limits: subsample limits for this task.
        seed: seed of the subsampling (and of mteb's own few-shot sampling).
        data_dir: data folder holding `eval/` (default: `instructor_lib.config.data_dir()`).
        source: "local" (the copies under eval/) or "hub" (mteb downloads its own data; substitutes then
            become their official task, since the real data is available).
        hub_loader: function(task) that fills `task.dataset` in hub mode (default: `task.load_data()`).
    """
    import mteb

    if source not in ("local", "hub"):
        raise ValueError(f"source must be 'local' or 'hub', got {source!r}")
    spec = TASKS[name]
    task = mteb.get_task(spec.official)
    if source == "local":
        dataset, data_hash = _load_local(spec, resolve_data_dir(data_dir) / "eval")
        if spec.status == "substitute":
            task.metadata = task.metadata.model_copy(update={"name": spec.name})
    else:
        (hub_loader or _default_hub_loader)(task)
        dataset, data_hash = task.dataset, f"hub:{task.metadata.dataset.get('revision')}"
    if spec.hf_subsets == ("default",) and "default" not in dataset:
        dataset = {"default": dataset}  # single-subset tasks hold {split: data}
    task.metadata = task.metadata.model_copy(update={"eval_splits": list(spec.eval_splits)})
    task.hf_subsets = list(spec.hf_subsets)
    train_split = getattr(task, "train_split", None) if task.metadata.type == "Classification" else None
    task.dataset, sizes = subsample_dataset(dataset, spec, task.metadata.type, train_split, limits, seed)
    task.seed = seed
    task.data_loaded = True
    return SuiteTask(task=task, spec=spec, limits=limits, sizes=sizes, data_hash=data_hash)


def build_suite(suite: str | dict | list = "cpu", *, seed: int = 42, data_dir: str | Path | None = None,
                source: str = "local", hub_loader: Callable | None = None) -> list[SuiteTask]:
    """All tasks of a suite, ready for `mteb.evaluate` (see `build_task` for the arguments)."""
    return [build_task(name, limits, seed=seed, data_dir=data_dir, source=source, hub_loader=hub_loader)
            for name, limits in resolve_suite(suite).items()]


def suite_fingerprint(suite: dict[str, Subsample]) -> dict:
    """JSON-able description of a resolved suite (task -> limits), used in cache keys and results."""
    return {name: asdict(limits) for name, limits in sorted(suite.items())}
