"""The converter that writes eval/INSTRUCTIONS.json from files of the official INSTRUCTOR repository
(xlang-ai/instructor-embedding, `upstream.INSTRUCTOR_EMBEDDING`).

Every instruction string is read as data (`ast`) from those files; the tables below are the hand-written rest: the
model order, the files cited, and the curators' notes on the prompt-retrieval tasks, the defaults and the key
mapping (eval/INSTRUCTIONS.md in the data directory).
"""
from __future__ import annotations

import ast
import json

from ..instructions import PAPER_MODELS
from .converters import unbundle

MTEB_EVALUATORS = "evaluation/MTEB/mteb/evaluation/evaluators/"
# MTEB task type -> the file whose `DEFINITIONS` dict holds its instructions ({model: {task: instruction}})
MTEB_DEFINITIONS = {"Retrieval": "evaluation/MTEB/mteb/abstasks/AbsTaskRetrieval.py",
                    **{kind: f"{MTEB_EVALUATORS}{kind}Evaluator.py" for kind in (
                        "Classification", "Clustering", "PairClassification", "Reranking", "STS", "Summarization")}}
BILLBOARD_DEFINITIONS = "evaluation/text_evaluation/main.py"  # `definitions`: {model: {mscoco|cnndm|mt: instruction}}
PROMPT_RETRIEVAL = "evaluation/prompt_retrieval/"
INSTRUCTIONS_CITED = (  # the JSON's "source.files": the files read here, and those the curators' notes rest on
    *MTEB_DEFINITIONS.values(), "evaluation/MTEB/mteb/evaluation/MTEB.py", "evaluation/MTEB/examples/evaluate_model.py",
    BILLBOARD_DEFINITIONS, *(PROMPT_RETRIEVAL + name for name in (
        "utils.py", "get_task.py", "main_amazon.py", "main_civil.py", "main_geo.py", "main_coda_title_gen.py",
        "main_answerbility.py", "main_mwoz.py")))
_NO_DEFINITION = "task exists in get_task.py but utils.definitions has no entry (KeyError if --add_prompt)"
_MAIN = [PROMPT_RETRIEVAL + "main.py"]
# (task, file, where its instruction is read, what text it is put in front of, used_by): "definitions" = the
# `definitions` dict of utils.py, "inline" = the `[instruction, text, 0]` list of the file's
# calculate_sentence_transformer_embedding, None = no instruction upstream (null)
PROMPT_RETRIEVAL_TASKS = (
    ("hellaswag", "utils.py", "definitions",
     "'The topic is {activity_label}. {ctx_a} {ctx_b} | {endings[0]} | {endings[1]} | {endings[2]} | {endings[3]}'",
     _MAIN),
    ("rte", "utils.py", "definitions", "sentence1 + '.\\nquestion: ' + sentence2", _MAIN),
    ("sst5", "utils.py", "definitions", "text", _MAIN),
    ("mrpc", "utils.py", "definitions", "sentence1 + '.\\n' + sentence2", _MAIN),
    ("amazon", "main_amazon.py", "inline", "review text", None),
    ("civil_comments", "main_civil.py", "inline", "comment text", None),
    ("geoquery", "main_geo.py", "inline", "seq_in (natural-language question)", None),
    ("coda19_title_generation", "main_coda_title_gen.py", "inline", "text", None),
    ("multirc_answerability", "main_answerbility.py", "inline", "sentence + '\\n' + question", None),
    ("multiwoz", "main_mwoz.py", None,
     "dialogue history; encoded WITHOUT any instruction (no --add_prompt option in this script)", None),
    *((task, "get_task.py", None, _NO_DEFINITION, None) for task in ("mnli", "dbpedia_14", "xsum", "nq")),
)
INSTRUCTIONS_DEFAULTS = {
    "mteb": "hkunlp/instructor-large (MTEB.run: prompt := --prompt or --model_name; anything other than "
            "hkunlp/instructor-xl / hkunlp/instructor-base becomes hkunlp/instructor-large)",
    "billboard": "hkunlp/instructor-large (argparse default of --prompt; '--prompt no' disables instructions; "
                 "no fallback for other names)",
    "prompt_retrieval": "one instruction per task, independent of model; used only with --add_prompt"}
INSTRUCTIONS_KEY_MAPPING = ("retrieval/reranking 'document' = source key 'corpus'; 'text' = single instruction "
                            "applied to every input of the task")
# the files downloaded for INSTRUCTIONS.json: those its instructions are read from
INSTRUCTIONS_SOURCES = (*MTEB_DEFINITIONS.values(), BILLBOARD_DEFINITIONS, *dict.fromkeys(
    PROMPT_RETRIEVAL + file for _, file, reads, _, _ in PROMPT_RETRIEVAL_TASKS if reads))


def _literal_assignment(source: str, name: str, path: str):
    """The literal assigned to `name` in a Python file, evaluated as data (implicit concatenation as Python does)."""
    values = [node.value for node in ast.walk(ast.parse(source, filename=path)) if isinstance(node, ast.Assign)
              and any(isinstance(target, ast.Name) and target.id == name for target in node.targets)]
    if len(values) != 1:
        raise ValueError(f"{path}: {len(values)} assignments to {name!r} (expected 1)")
    return ast.literal_eval(values[0])


def _inline_instruction(source: str, path: str) -> str:
    """The instruction of a prompt-retrieval script: the first item of the `[instruction, text, 0]` inputs built
    by its calculate_sentence_transformer_embedding."""
    functions = [node for node in ast.walk(ast.parse(source, filename=path))
                 if isinstance(node, ast.FunctionDef) and node.name == "calculate_sentence_transformer_embedding"]
    found = [node.elts[0].value for function in functions for node in ast.walk(function)
             if isinstance(node, ast.List) and len(node.elts) == 3 and isinstance(node.elts[0], ast.Constant)
             and isinstance(node.elts[0].value, str)]
    if len(found) != 1:
        raise ValueError(f"{path}: {len(found)} [instruction, text, 0] inputs in "
                         f"calculate_sentence_transformer_embedding (expected 1)")
    return found[0]


def _by_model(definitions: dict, path: str) -> dict:
    """`definitions` ({model: ...}) in PAPER_MODELS order; a model missing or unknown is an error."""
    if set(definitions) != set(PAPER_MODELS):
        raise ValueError(f"{path}: models {sorted(definitions)}, expected {sorted(PAPER_MODELS)}")
    return {model: definitions[model] for model in PAPER_MODELS}


def _mteb_entry(value, where: str) -> dict:
    if isinstance(value, str):
        return {"text": value}
    if isinstance(value, dict) and set(value) == {"query", "corpus"}:
        return {"query": value["query"], "document": value["corpus"]}
    raise ValueError(f"{where}: expected an instruction or {{'query', 'corpus'}}, got {value!r}")


def _mteb_instructions(files: dict[str, str]) -> tuple[dict, dict]:
    """({model: {task: entry}}, {task: type}): types in MTEB_DEFINITIONS order, tasks sorted within a type."""
    mteb, task_types = {model: {} for model in PAPER_MODELS}, {}
    for task_type, path in MTEB_DEFINITIONS.items():
        definitions = _by_model(_literal_assignment(files[path], "DEFINITIONS", path), path)
        for model, tasks in definitions.items():
            mteb[model].update((task, _mteb_entry(tasks[task], f"{path}: {model} {task}")) for task in sorted(tasks))
        task_types.update((task, task_type) for task in sorted(set().union(*definitions.values())))
    return mteb, task_types


def _prompt_retrieval_instructions(files: dict[str, str]) -> dict:
    utils = PROMPT_RETRIEVAL + "utils.py"
    definitions = _literal_assignment(files[utils], "definitions", utils)
    listed = [task for task, _, reads, _, _ in PROMPT_RETRIEVAL_TASKS if reads == "definitions"]
    if list(definitions) != listed:
        raise ValueError(f"{utils}: definitions has tasks {list(definitions)}, PROMPT_RETRIEVAL_TASKS lists {listed}")
    tasks = {}
    for task, file, reads, encoded_text, used_by in PROMPT_RETRIEVAL_TASKS:
        path = PROMPT_RETRIEVAL + file
        if reads == "definitions":
            instruction = definitions[task]
        elif reads == "inline":
            instruction = _inline_instruction(files[path], path)
        else:
            instruction = None
        tasks[task] = {"instruction": instruction, "file": path, "encoded_text": encoded_text,
                       **({"used_by": used_by} if used_by else {})}
    return tasks


def instructions_from_official_repo(data: bytes, repo: str, commit: str) -> bytes:
    """eval/INSTRUCTIONS.json from a bundle of the INSTRUCTIONS_SOURCES files of `repo` at `commit`.

    Instructions are read as data (`ast`) from the `DEFINITIONS` dicts of the MTEB files, the `definitions` dicts
    of text_evaluation/main.py and prompt_retrieval/utils.py, and the inline instruction of each prompt-retrieval
    script; the rest comes from the hand-written tables above. Written as json.dumps(indent=2) plus a newline.
    """
    files = unbundle(data)
    missing = [path for path in INSTRUCTIONS_SOURCES if path not in files]
    if missing:
        raise ValueError(f"the bundle lacks {', '.join(missing)}")
    mteb, task_types = _mteb_instructions(files)
    billboard = _by_model(_literal_assignment(files[BILLBOARD_DEFINITIONS], "definitions", BILLBOARD_DEFINITIONS),
                          BILLBOARD_DEFINITIONS)
    document = {"source": {"repo": repo, "commit": commit, "files": list(INSTRUCTIONS_CITED)}, "mteb": mteb,
                "billboard": billboard, "prompt_retrieval": _prompt_retrieval_instructions(files),
                "mteb_task_types": task_types, "defaults": INSTRUCTIONS_DEFAULTS,
                "key_mapping": INSTRUCTIONS_KEY_MAPPING}
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")

