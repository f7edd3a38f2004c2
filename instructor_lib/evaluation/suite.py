"""Local MTEB tasks: mteb's official task objects with their data read from `<data_dir>/eval/<folder>/`.

Each `TaskSpec` names the official mteb task (its metadata, evaluator and main score are used unchanged)
and a reader that lays out the rows of the local copy (parsed by `instructor_lib.readers`; see `eval/INDEX.md`
and each folder's `SOURCE.md`) in the dataset layout that task expects. Exact and subset copies keep the
official name; substitutes (a different dataset of the same shape) are renamed `<official>-local` so their
numbers are never mistaken for leaderboard numbers.

Subsampling is deterministic (`subsample.py`): `Subsample(max_test=..., max_train=..., max_corpus=...)` keeps
a seeded random subset (rows in their original order); the sizes actually used are returned with the tasks and
recorded in the results. Named suites (`SUITES`) pair task names with subsample limits.

With internet, `build_suite(..., source="hub")` runs the same suite on mteb's own downloaded data by
official name; `hub_loader` replaces the downloader (tests use a stub).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from .. import readers
from ..config import data_dir as resolve_data_dir
from ..presets import FULL, PRESETS, Subsample
from ..provenance import folder_hash
from .subsample import example_keys, part_split, subsample_dataset

LOCAL_SUFFIX = "-local"


# ------------------------------------------------------------------------------ reader rows -> datasets
# The files are parsed by `instructor_lib.readers`; this section only lays their rows out as mteb expects.
STS_COLUMNS = ("sentence1", "sentence2", "score")
PAIR_COLUMNS = ("sentence1", "sentence2", "labels")
LABELLED_COLUMNS = ("text", "label")


def _columns(rows: list[tuple], names: tuple[str, ...]) -> dict:
    """Reader rows (tuples) as dataset columns named `names`, in row order."""
    return {name: [row[index] for row in rows] for index, name in enumerate(names)}


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
    pairs = [pair for subset in STS_SUBSETS[task]
             for pair in readers.sts_pairs(folder / f"{prefix}.input.{subset}.txt", folder / f"{prefix}.gs.{subset}.txt")]
    return _dataset_dict({"test": _columns(pairs, STS_COLUMNS)})


def read_stsbenchmark(folder: Path):
    return _dataset_dict({split: _columns(readers.stsbenchmark_pairs(folder / f"sts-{file}.csv"), STS_COLUMNS)
                          for split, file in (("test", "test"), ("validation", "dev"))})


def read_sick_r(folder: Path):
    files = ("SICK_train.txt", "SICK_trial.txt", "SICK_test_annotated.txt")  # MTEB test = all three
    pairs = [pair for name in files for pair in readers.sick_pairs(folder / name)]
    return _dataset_dict({"test": _columns(pairs, STS_COLUMNS)})


def read_biosses(folder: Path):
    return _dataset_dict({"test": _columns(readers.biosses_pairs(folder / "all.tsv"), STS_COLUMNS)})


# ------------------------------------------------------------------------------- classification readers
def _labelled(records: list[tuple], label_id=lambda label: label) -> dict:
    """(text, label) records as the text/label columns, each label mapped by `label_id`."""
    return _columns([(text, label_id(label)) for text, label in records], LABELLED_COLUMNS)


def read_banking77(folder: Path):
    return _dataset_dict({split: _labelled(readers.banking77_records(folder / f"{split}.csv")) for split in ("train", "test")})


def read_emotion(folder: Path):
    files = (("train", "train.txt"), ("validation", "val.txt"), ("test", "test.txt"))
    return _dataset_dict({split: _labelled(readers.emotion_records(folder / file), readers.EMOTION_LABELS.index)
                          for split, file in files})


def read_amazon_counterfactual(folder: Path):
    splits = (("train", "train"), ("validation", "valid"), ("test", "test"))
    return {subset: _dataset_dict({split: _labelled(readers.amazon_counterfactual_records(folder / f"{prefix}_{suffix}.tsv"))
                                   for split, suffix in splits})
            for subset, prefix in (("en-ext", "EN-ext"), ("en", "EN"))}


def read_tweet_sentiment(folder: Path):
    return _dataset_dict({split: _labelled(readers.tweet_sentiment_records(folder / f"{split}.csv"),
                                           readers.TWEET_SENTIMENTS.index) for split in ("train", "test")})


def read_imdb(folder: Path):
    files = (("train", "train"), ("validation", "dev"), ("test", "test"))
    return _dataset_dict({split: _labelled(readers.imdb_records(folder / f"orig_{file}.tsv"),
                                           lambda sentiment: int(sentiment == "Positive")) for split, file in files})


def read_slurp(folder: Path, label_field: str):
    """SLURP (MASSIVE en-US source) as a MASSIVE stand-in: `devel` is the training pool, `test` the test set."""
    files = (("train", "slurp_devel.jsonl.gz"), ("test", "slurp_test.jsonl.gz"))
    return {"en": _dataset_dict({split: _labelled(readers.slurp_records(folder / file, label_field)) for split, file in files})}


# ---------------------------------------------------------------------------- pair classification readers
def read_twitter_semeval(folder: Path):
    """Official SemEval-2015 PIT test pairs with a binary label; debatable pairs (`----`) are left out as in the task."""
    pairs = readers.twitter_semeval_pairs(folder / "test.data", folder / "test.label")
    return _dataset_dict({"test": _columns(pairs, PAIR_COLUMNS)})


def read_twitter_url(folder: Path):
    return _dataset_dict({"test": _columns(readers.twitter_url_pairs(folder / "Twitter_URL_Corpus_test.txt"), PAIR_COLUMNS)})


# ------------------------------------------------------------------------------------ clustering readers
def _cluster_sets(texts: list[str], labels: list[str], n_sets: int, set_size: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    size = min(set_size, len(texts))
    picks = [np.sort(rng.choice(len(texts), size, replace=False)) for _ in range(n_sets)]
    return {"sentences": [[texts[i] for i in pick] for pick in picks], "labels": [[labels[i] for i in pick] for pick in picks]}


def read_twenty_newsgroups(folder: Path):
    """10 seeded sets of 2,000 subject lines from 20news-19997, clustered by newsgroup (mimics MTEB's 10 sets)."""
    subjects = readers.newsgroup_subjects(folder / "20news-19997_subjects.jsonl")
    texts, labels = [subject for subject, _ in subjects], [group for _, group in subjects]
    return _dataset_dict({"test": _cluster_sets(texts, labels, n_sets=10, set_size=2000, seed=0)})


def read_arxiv_titles(folder: Path):
    """ArXiv titles clustered by first category: one set of all 1,000 papers (a weak S2S stand-in)."""
    titles = readers.arxiv_titles(folder / "arxiv_data.csv")
    return _dataset_dict({"test": {"sentences": [[title for title, _ in titles]], "labels": [[label for _, label in titles]]}})


# ------------------------------------------------------------------------- retrieval / reranking readers
def read_scifact(folder: Path):
    """BEIR SciFact test: 300 dev-set claims, qrels from `cited_doc_ids`, corpus of 5,183 abstracts (see SOURCE.md)."""
    from datasets import Dataset

    corpus = Dataset.from_dict(_columns(readers.scifact_corpus(folder / "corpus_train.csv.gz"), ("id", "title", "text")))
    queries, qrels = {}, {}
    for claim_id, claim, doc_ids in readers.scifact_claims(folder / "claims_validation.csv"):
        queries.setdefault(claim_id, claim)  # one row per (claim, evidence document)
        for doc_id in doc_ids:
            qrels.setdefault(claim_id, {})[doc_id] = 1
    query_ids = sorted(queries, key=int)
    return {"default": {"test": {"corpus": corpus, "relevant_docs": qrels, "top_ranked": None,
                                 "queries": Dataset.from_dict({"id": query_ids, "text": [queries[q] for q in query_ids]})}}}


def read_semeval_cqa(folder: Path):
    """SemEval-2016 Task 3 subtask B (dev + train part 2) as duplicate-question reranking: query = subject + body,
    candidates = the 10 related questions, positives = PerfectMatch/Relevant."""
    from datasets import Dataset

    queries, corpus, qrels, top_ranked = {}, {}, {}, {}
    for file in ("semeval2016_task3_ql_dev_subtaskB.jsonl", "semeval2016_task3_ql_train_part2_subtaskB.jsonl"):
        for query_id, query, candidates in readers.semeval_cqa_questions(folder / file):
            queries[query_id] = query
            top_ranked[query_id] = [doc_id for doc_id, _, _ in candidates]
            for doc_id, text, duplicate in candidates:
                corpus[doc_id] = text
                qrels.setdefault(query_id, {})[doc_id] = duplicate
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
        eval_splits: the splits evaluated (the test part).
        published_subset: the subset whose score the leaderboard reports as the task score.
        dev_split: the local validation split a dev part is drawn from (None: the test data the claims' test
            subsamples leave; `evaluation.subsample`).
    """

    official: str
    folder: str
    status: str
    read: Callable[[Path], object]
    hf_subsets: tuple[str, ...] = ("default",)
    eval_splits: tuple[str, ...] = ("test",)
    published_subset: str = "default"
    dev_split: str | None = None

    @property
    def name(self) -> str:
        return self.official + LOCAL_SUFFIX if self.status == "substitute" else self.official


def _specs() -> dict[str, TaskSpec]:
    sts = [TaskSpec(task, task, "exact", lambda folder, task=task: read_semeval_sts(folder, task)) for task in STS_SUBSETS]
    specs = sts + [
        TaskSpec("STSBenchmark", "STSBenchmark", "exact", read_stsbenchmark, dev_split="validation"),
        TaskSpec("SICK-R", "SICK-R", "exact", read_sick_r),
        TaskSpec("BIOSSES", "BIOSSES", "exact", read_biosses),
        TaskSpec("Banking77Classification", "Banking77Classification", "exact", read_banking77),
        TaskSpec("EmotionClassification", "EmotionClassification", "exact", read_emotion, dev_split="validation"),
        TaskSpec("AmazonCounterfactualClassification", "AmazonCounterfactualClassification", "exact",
                 read_amazon_counterfactual, hf_subsets=("en", "en-ext"), published_subset="en", dev_split="validation"),
        TaskSpec("TweetSentimentExtractionClassification", "TweetSentimentExtractionClassification", "exact", read_tweet_sentiment),
        TaskSpec("SciFact", "SciFact", "exact", read_scifact),
        TaskSpec("TwitterURLCorpus", "TwitterURLCorpus", "subset", read_twitter_url),
        TaskSpec("ImdbClassification", "ImdbClassification", "substitute", read_imdb, dev_split="validation"),
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
    "smoke": PRESETS["smoke"].suite, "cpu": PRESETS["cpu"].suite, "broad": BROAD,
    "exact": {name: FULL for name in EXACT_TASKS},
    "full": {name: FULL for name in TASKS},
}


# ------------------------------------------------------------------------------------------ building
@dataclass
class SuiteTask:
    """A ready-to-run task with what the results need to record about it."""

    task: object
    spec: TaskSpec
    limits: Subsample
    sizes: dict
    data_hash: str

    @property
    def split(self) -> str:
        """The split scored: the task's test split, or "dev" for a dev part."""
        return part_split(self.spec, self.limits)


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
    task.metadata = task.metadata.model_copy(update={"eval_splits": [part_split(spec, limits)]})
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
    return {name: limits.record() for name, limits in sorted(suite.items())}


def part_description(name: str, limits: Subsample) -> str:
    """Where a task's scored examples come from, in words: its test split, or its dev part's source."""
    spec = TASKS[name]
    if limits.part == "test":
        return f"test: the {spec.eval_splits[0]} split"
    held = ", ".join("all" if size is None else str(size) for size in limits.held_out) or "none"
    source = f"its local {spec.dev_split} split" if spec.dev_split else f"its {spec.eval_splits[0]} split"
    return f"dev: {source}, without any example of the claims' test subsamples (of {held} examples)"


def part_examples(suite: str | dict | list, *, seed: int = 42, data_dir: str | Path | None = None) -> dict[str, dict]:
    """Per task of a suite, the examples it scores (per subset: `example_keys`, by content), as {"texts": set of
    (subset, example)} and {"ids": set of (subset, query id)} for retrieval and reranking: what proves a dev suite
    disjoint from the claims' suites (tests/test_dev_suite.py)."""
    examples = {}
    for suite_task in build_suite(suite, seed=seed, data_dir=data_dir):
        task_type, texts, ids = suite_task.task.metadata.type, set(), set()
        for subset, splits in suite_task.task.dataset.items():
            split = splits[suite_task.split]
            if task_type == "Clustering":
                texts.update((subset, text) for texts_of_set in split["sentences"] for text in texts_of_set)
                continue
            texts.update((subset, key) for key in example_keys(split, task_type))
            if task_type in ("Retrieval", "Reranking"):
                ids.update((subset, query_id) for query_id in split["queries"]["id"])
        examples[suite_task.spec.name] = {"texts": texts, "ids": ids}
    return examples
