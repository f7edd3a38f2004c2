"""Instruction sets: which instruction each evaluation task gets, per side.

An entry is `{"text": ...}` (one instruction for every input of the task) or `{"query": ..., "document": ...}`
(retrieval and reranking). Sets:

- `paper`: the official INSTRUCTOR evaluation instructions, read at run time from
  `<data_dir>/eval/INSTRUCTIONS.json` (exact strings; instructor-large set by default, as in the original
  code; `paper:hkunlp/instructor-base` / `paper:hkunlp/instructor-xl` pick the other sets; other names are errors).
- `none`: no instruction anywhere (plain mean pooling).
- `paraphrase-1` ... `paraphrase-5`: five paraphrases per task, written here in the unified template
  ("Represent the [domain] [text type] for [objective]: "), for the robustness study (paper Table 6 / Fig. 4).
- a user dict {task: str | {"text"|"query"|"document": str}}; the key "*" is the fallback for other tasks.

Substitute tasks (`<official>-local`) use the instruction of their official task. A task that a set does not
hold (mteb has hundreds the paper never wrote instructions for) gets `generated_instruction`: the paper's
unified template filled from the task's own mteb metadata (see `InstructionSet.has_task`).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ..config import data_dir as resolve_data_dir
from ..instructions import PAPER_MODELS
from .suite import LOCAL_SUFFIX

SIDES = ("text", "query", "document")
WILDCARD = "*"


def _entry(task: str, value) -> dict[str, str]:
    """Normalise one task's instruction(s) to a dict of sides; errors name the task."""
    if isinstance(value, str):
        return {"text": value}
    if not isinstance(value, dict) or not value:
        raise TypeError(f"instruction for {task!r} must be a string or a non-empty dict of sides, got {value!r}")
    entry = {("document" if side == "corpus" else side): text for side, text in value.items()}
    for side, text in entry.items():
        if side not in SIDES:
            raise ValueError(f"instruction for {task!r}: unknown side {side!r} (use {SIDES})")
        if not isinstance(text, str):
            raise TypeError(f"instruction for {task!r} side {side!r} must be a string, got {type(text).__name__}")
    return entry


@dataclass(frozen=True)
class InstructionSet:
    """A named table task -> {side: instruction}.

    Args:
        name: recorded in results and cache keys (e.g. "paper:hkunlp/instructor-large").
        table: task name -> entry (see module docstring); "*" is the fallback entry.
        source: where the table came from (a file and its sha256, or "builtin"/"user").
    """

    name: str
    table: dict[str, dict[str, str]] = field(default_factory=dict)
    source: str = "builtin"

    def instruction(self, task: str, side: str = "text") -> str:
        """The instruction for `task` on `side` ("text", "query" or "document").

        A single-instruction entry serves every side; a query/document entry serves "text" only when both
        sides are equal. A task missing from a set without "*" is an error, never a silent empty string.
        """
        if side not in SIDES:
            raise ValueError(f"side must be one of {SIDES}, got {side!r}")
        key = task[: -len(LOCAL_SUFFIX)] if task.endswith(LOCAL_SUFFIX) else task
        entry = self.table.get(key, self.table.get(WILDCARD))
        if entry is None:
            raise KeyError(f"instruction set {self.name!r} has no instruction for task {key!r} (and no '*' fallback)")
        if side in entry:
            return entry[side]
        if side != "text" and "text" in entry:
            return entry["text"]
        if side == "text" and entry.get("query") == entry.get("document") and "query" in entry:
            return entry["query"]
        raise KeyError(f"instruction set {self.name!r}: task {key!r} has sides {sorted(entry)}, not {side!r}")

    def has_task(self, task: str) -> bool:
        """Whether the set holds `task` (substitutes count as their official task), or a "*" fallback."""
        key = task[: -len(LOCAL_SUFFIX)] if task.endswith(LOCAL_SUFFIX) else task
        return key in self.table or WILDCARD in self.table


# Unified template "Represent the (domain) text type for task objective: " per mteb task type and side:
# (text type, objective or None). Written after the paper's own instructions for each type (its STS ones name
# no objective: "Represent the statement: "); "text" serves every input of a single-instruction type.
_RETRIEVAL = {"query": ("question", "retrieving supporting documents"), "document": ("document", "retrieval")}
_RERANKING = {"query": ("query", "retrieving relevant documents"), "document": ("document", "retrieval")}
TYPE_TEMPLATES: dict[str, dict[str, tuple[str, str | None]]] = {
    "Retrieval": _RETRIEVAL, "InstructionRetrieval": _RETRIEVAL,
    "Reranking": _RERANKING, "InstructionReranking": _RERANKING,
    "Classification": {"text": ("text", "classification")},
    "MultilabelClassification": {"text": ("text", "classification")},
    "ZeroShotClassification": {"text": ("text", "classification")},
    "Clustering": {"text": ("text", "clustering")},
    "PairClassification": {"text": ("sentence", "retrieving duplicate sentences")},
    "STS": {"text": ("statement", None)},
    "Summarization": {"text": ("sentence", "retrieval")},
    "BitextMining": {"text": ("sentence", "retrieving its translation")},
    "Regression": {"text": ("text", "predicting its score")},
}
GENERIC_TEMPLATE = {"text": ("text", None)}  # task types not listed above
# mteb domains that say nothing about the text (or not of text); the others are named in lower case.
UNINFORMATIVE_DOMAINS = {"Written", "Spoken", "Constructed", "Non-fiction", "Scene", "AudioScene", "Speech"}
DOMAIN_WORDS = {"Encyclopaedic": "encyclopedia", "Reviews": "review", "Social": "social media",
                "Subtitles": "subtitle", "Sport": "sports"}


def task_domain(domains) -> str | None:
    """The first informative mteb domain of a task as a word for the template (None when there is none)."""
    for domain in domains or ():
        if domain not in UNINFORMATIVE_DOMAINS:
            return DOMAIN_WORDS.get(domain, domain.lower())
    return None


def generated_instruction(task_metadata, side: str = "text") -> str:
    """An instruction in the paper's unified template built from an mteb task's metadata.

    The task type gives the text type and objective per side ("query"/"document" for retrieval and reranking;
    other types have one instruction for every input), the first informative domain gives the domain, e.g.
    a Medical retrieval task: "Represent the medical question for retrieving supporting documents: ".
    """
    if side not in SIDES:
        raise ValueError(f"side must be one of {SIDES}, got {side!r}")
    template = TYPE_TEMPLATES.get(task_metadata.type, GENERIC_TEMPLATE)
    text_type, objective = template.get(side) or template.get("text") or template["query"]
    domain = task_domain(task_metadata.domains)
    words = ["Represent the", domain, text_type] + (["for", objective] if objective else [])
    return " ".join(word for word in words if word) + ": "


def generated_instructions(task_metadata) -> dict[str, str]:
    """Every side's generated instruction for a task: {"query": ..., "document": ...} or {"text": ...}."""
    return {side: generated_instruction(task_metadata, side) for side in TYPE_TEMPLATES.get(task_metadata.type, GENERIC_TEMPLATE)}


def paper_instructions(model: str = "hkunlp/instructor-large", data_dir: str | Path | None = None) -> InstructionSet:
    """The official evaluation instructions of `model` from `<data_dir>/eval/INSTRUCTIONS.json`.

    `model` is one of PAPER_MODELS (a misspelt name is an error, not a silent fallback to the large set).
    """
    from ..provenance import sha256_file

    path = resolve_data_dir(data_dir) / "eval" / "INSTRUCTIONS.json"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: the paper instruction set is read from it")
    sets = json.loads(path.read_text(encoding="utf-8"))["mteb"]
    if model not in PAPER_MODELS:
        raise ValueError(f"no paper instruction set for {model!r}: choose one of {', '.join(PAPER_MODELS)} "
                         "(e.g. instructions='paper:hkunlp/instructor-base')")
    key = model
    if key not in sets:
        raise KeyError(f"{path}: no 'mteb' instruction set for {key!r} (has {sorted(sets)})")
    table = {task: _entry(task, value) for task, value in sets[key].items()}
    return InstructionSet(name=f"paper:{key}", table=table, source=f"{path} sha256={sha256_file(path)}")


# Five paraphrases per evaluation task, unified template "Represent the [domain] [text type] for [objective]: ".
PARAPHRASES: dict[str, list] = {
    "STS12": ["Represent the sentence: ", "Represent the text for measuring semantic similarity: ",
              "Represent the statement for comparing its meaning: ", "Represent the English sentence for retrieving similar sentences: ",
              "Represent the sentence for semantic textual similarity: "],
    "STS13": ["Represent the sentence: ", "Represent the text for measuring semantic similarity: ",
              "Represent the headline or definition for comparing its meaning: ", "Represent the English sentence for retrieving similar sentences: ",
              "Represent the sentence for semantic textual similarity: "],
    "STS14": ["Represent the sentence: ", "Represent the text for measuring semantic similarity: ",
              "Represent the news or forum sentence for comparing its meaning: ", "Represent the English sentence for retrieving similar sentences: ",
              "Represent the sentence for semantic textual similarity: "],
    "STS15": ["Represent the sentence: ", "Represent the text for measuring semantic similarity: ",
              "Represent the answer or headline for comparing its meaning: ", "Represent the English sentence for retrieving similar sentences: ",
              "Represent the sentence for semantic textual similarity: "],
    "STS16": ["Represent the sentence: ", "Represent the text for measuring semantic similarity: ",
              "Represent the question or answer for comparing its meaning: ", "Represent the English sentence for retrieving similar sentences: ",
              "Represent the sentence for semantic textual similarity: "],
    "STSBenchmark": ["Represent the sentence: ", "Represent the text for measuring semantic similarity: ",
                     "Represent the caption or news sentence for comparing its meaning: ",
                     "Represent the English sentence for retrieving similar sentences: ",
                     "Represent the sentence for semantic textual similarity: "],
    "SICK-R": ["Represent the sentence: ", "Represent the image caption for measuring semantic relatedness: ",
               "Represent the statement for comparing its meaning: ", "Represent the English sentence for retrieving related sentences: ",
               "Represent the sentence for semantic relatedness: "],
    "BIOSSES": ["Represent the biomedical sentence: ", "Represent the biomedical text for measuring semantic similarity: ",
                "Represent the scientific statement for comparing its meaning: ",
                "Represent the Bio-medical sentence for retrieving similar sentences: ",
                "Represent the biology sentence for semantic textual similarity: "],
    "Banking77Classification": ["Represent the banking query for classifying its intent: ",
                                "Represent the customer question for classification: ",
                                "Represent the bank customer request for classifying the purpose: ",
                                "Represent the online banking message for intent classification: ",
                                "Represent the banking sentence for classifying the intent: "],
    "EmotionClassification": ["Represent the sentence for classifying its emotion: ",
                              "Represent the personal statement for emotion classification: ",
                              "Represent the emotional text for classifying the feeling: ",
                              "Represent the English sentence for classifying the emotion as sadness, joy, love, anger, fear or surprise: ",
                              "Represent the tweet for classifying the emotion: "],
    "AmazonCounterfactualClassification": ["Represent the product review sentence for classifying counterfactuals: ",
                                           "Represent the Amazon review for counterfactual classification: ",
                                           "Represent the review statement for classifying whether it is counterfactual: ",
                                           "Represent the customer review sentence for classification: ",
                                           "Represent the counterfactual statement for classification: "],
    "TweetSentimentExtractionClassification": ["Represent the tweet for classifying its sentiment: ",
                                               "Represent the Twitter post for sentiment classification: ",
                                               "Represent the tweet for classifying the sentiment as positive, negative or neutral: ",
                                               "Represent the social media post for classifying the sentiment: ",
                                               "Represent the Tweet sentence for classification: "],
    "ImdbClassification": ["Represent the movie review for classifying its sentiment: ",
                           "Represent the review for sentiment classification: ",
                           "Represent the IMDb review for classifying it as positive or negative: ",
                           "Represent the film review for classifying the opinion: ",
                           "Represent the review text for classification: "],
    "MassiveIntentClassification": ["Represent the user utterance for classifying its intent: ",
                                    "Represent the voice assistant command for intent classification: ",
                                    "Represent the spoken request for classifying the purpose: ",
                                    "Represent the utterance for classification: ",
                                    "Represent the virtual assistant query for classifying the intent: "],
    "MassiveScenarioClassification": ["Represent the user utterance for classifying its scenario: ",
                                      "Represent the voice assistant command for scenario classification: ",
                                      "Represent the spoken request for classifying the domain: ",
                                      "Represent the utterance for classifying the scene: ",
                                      "Represent the virtual assistant query for classifying the scenario: "],
    "TwitterSemEval2015": ["Represent the tweet for retrieving paraphrased tweets: ",
                           "Represent the Twitter post for finding duplicate posts: ",
                           "Represent the tweet for paraphrase identification: ",
                           "Represent the social media post for retrieving duplicate posts: ",
                           "Represent the tweet for retrieving tweets with the same meaning: "],
    "TwitterURLCorpus": ["Represent the tweet for retrieving paraphrased tweets: ",
                         "Represent the news tweet for finding duplicate posts: ",
                         "Represent the tweet for paraphrase identification: ",
                         "Represent the social media post for retrieving duplicate posts: ",
                         "Represent the tweet for retrieving tweets with the same meaning: "],
    "TwentyNewsgroupsClustering": ["Represent the news post title for clustering: ",
                                   "Represent the newsgroup subject for clustering by topic: ",
                                   "Represent the discussion title for grouping by topic: ",
                                   "Represent the news comment for clustering: ",
                                   "Represent the forum subject line for topic clustering: "],
    "ArxivClusteringS2S": ["Represent the science paper title for clustering: ",
                           "Represent the arXiv title for clustering by field: ",
                           "Represent the scientific title for grouping by research area: ",
                           "Represent the research paper title for topic clustering: ",
                           "Represent the science statement for clustering: "],
    "SciFact": [
        {"query": "Represent the scientific claim for retrieving supporting abstracts: ",
         "document": "Represent the scientific abstract for retrieval: "},
        {"query": "Represent the scientific statement for retrieving evidence: ",
         "document": "Represent the research paper abstract for retrieval: "},
        {"query": "Represent the biomedical claim for retrieving a supporting document: ",
         "document": "Represent the biomedical document for retrieval: "},
        {"query": "Represent the science claim for retrieving relevant papers: ",
         "document": "Represent the science paper for retrieval: "},
        {"query": "Represent the scientific query for retrieving a supporting passage: ",
         "document": "Represent the scientific passage for retrieval: "}],
    "AskUbuntuDupQuestions": [
        {"query": "Represent the forum question for retrieving duplicate questions: ",
         "document": "Represent the forum question for retrieving duplicate questions: "},
        {"query": "Represent the user question for reranking duplicate questions: ",
         "document": "Represent the user question for reranking duplicate questions: "},
        {"query": "Represent the community question for retrieving similar questions: ",
         "document": "Represent the community question for retrieving similar questions: "},
        {"query": "Represent the question title for finding duplicates: ",
         "document": "Represent the question title for finding duplicates: "},
        {"query": "Represent the help question for reranking: ",
         "document": "Represent the help question for reranking: "}],
}


def paraphrase_instructions(index: int) -> InstructionSet:
    """Paraphrase set number `index` (1-5): the index-th paraphrase of every task."""
    if not 1 <= index <= 5:
        raise ValueError(f"paraphrase sets are numbered 1-5, got {index}")
    table = {task: _entry(task, variants[index - 1]) for task, variants in PARAPHRASES.items()}
    return InstructionSet(name=f"paraphrase-{index}", table=table, source="builtin")


def get_instruction_set(instructions="paper", data_dir: str | Path | None = None) -> InstructionSet:
    """Resolve `instructions`: "paper", "paper:<model>", "none", "paraphrase-<1..5>", a dict, or an InstructionSet."""
    if isinstance(instructions, InstructionSet):
        return instructions
    if isinstance(instructions, dict):
        table = {task: _entry(task, value) for task, value in instructions.items()}
        return InstructionSet(name="user", table=table, source="user")
    if not isinstance(instructions, str):
        raise TypeError(f"instructions must be a name, a dict or an InstructionSet, got {type(instructions).__name__}")
    if instructions == "none":
        return InstructionSet(name="none", table={WILDCARD: {"text": ""}})
    if instructions == "paper" or instructions.startswith("paper:"):
        model = instructions.partition(":")[2] or "hkunlp/instructor-large"
        return paper_instructions(model, data_dir)
    if instructions.startswith("paraphrase-") and instructions[len("paraphrase-"):].isdigit():
        return paraphrase_instructions(int(instructions[len("paraphrase-"):]))
    raise ValueError(f"unknown instruction set {instructions!r}: use 'paper', 'paper:<model>', 'none', "
                     "'paraphrase-1'..'paraphrase-5', a dict or an InstructionSet")
