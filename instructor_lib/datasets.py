"""The data directory from its public sources: a manifest, `fetch` and `verify`.

`instructor_lib/data_manifest.json` lists every file of the data directory (relative path, size, sha256) and
where it comes from: the public repository, the commit, the original path, the URL (a multi-file source lists
`paths` and `urls`: fetch downloads each and the steps start from a tar bundle of them, named by upstream path),
and the transformation applied, as a list of steps from a closed vocabulary (`STEPS`):
- `copy`: the upstream bytes unchanged;
- `zip_member`: one member of an upstream zip archive (`member` = its file name);
- `first_n_records` / `skip_n_records`: keep the first `n` records, or drop them, of a named record `format`;
- `convert`: a format conversion by a named function of this module (`CONVERTERS`);
- `gzip`: compress with the recorded header (`mtime`, `filename`, `os_code`) and deflate (`zlib` as Python's gzip
  module writes it, or `gnu-gzip`, the `gzip` program, whose deflate zlib does not reproduce bit for bit).
Files that no download plus declared steps reproduce (the curators' notes, the SemEval XML conversions) carry
`"reproducible": false` and a `reason`.

    python -m instructor_lib.datasets fetch [--dest DIR] [--only PREFIX ...] [--mirror PREFIX=URL ...] [--copy-url URL]
    python -m instructor_lib.datasets verify [--data-dir DIR] [--reproducible-only]
    python -m instructor_lib.datasets manifest --data-dir DIR      # regenerate the manifest (maintainers)
"""
from __future__ import annotations

import argparse
import ast
import gzip
import hashlib
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .config import data_cache_dir, data_dir as resolve_data_dir
from .instructions import PAPER_MODELS
from .provenance import DATA_MANIFEST, sha256_file

MANIFEST_PATH = DATA_MANIFEST
MANIFEST_FORMAT = 1
GITHUB_RAW = "https://raw.githubusercontent.com/{repo}/{commit}/{path}"
GITHUB_ARCHIVE = "https://github.com/{repo}/archive/{commit}.tar.gz"  # a whole folder: the repository's tarball
SYNWMD = ("amao0o0/SynWMD", "59042a92e862db58bd01e47914345d2f52d2a4a3")
SYNWMD_STS = "data/downstream/STS/"
OLORA = ("zyx303/O-LoRA", "116d67cf84feafbc11e34fe789c843d9a62382c1")
CITB = ("hyintell/CITB", "bf50533b5bced4c388691ecc75e26773da96b3fd")
SAPT = ("circle-hit/SAPT", "52a52b920324c656bdb6dac08e43dc600ba22f21")
SUPERNI_MAX_INSTANCES = 600

# folder -> (repo, commit, upstream path of a file: a template on its local `name`, or a table by `name`).
# For a `.gz` file `name` is its name without `.gz` (the upstream file was compressed here).
# Facts from each folder's SOURCE.md.
FOLDERS: dict[str, tuple[str, str, str | dict[str, str]]] = {
    "eval/AmazonCounterfactualClassification": (
        "amazon-science/amazon-multilingual-counterfactual-dataset", "3cc7de48bd8a1e8814dabe18697098f685e00d9e",
        "data/{name}"),
    "eval/ArxivClustering": ("tiagoft/NLP", "897bafbd4a97393ae8797f59ec501d6c943ec1ac", "{name}"),
    "eval/BIOSSES": ("Markus-Zlabinger/ssts", "fce78a649ab90269950aaf44ce20a36e94409392", "data/biosses/{name}"),
    "eval/Banking77Classification": (
        "PolyAI-LDN/task-specific-datasets", "57ec275d8078af65b7731c2a98be812d844a6d6b", "banking_data/{name}"),
    "eval/EmotionClassification": (
        "niuzaisheng/AttExplainer", "fc8080f783028a0f2f6510175d0cf48a9fb2e3a3", "data/emotion/{name}"),
    "eval/ImdbClassification": (
        "acmi-lab/counterfactually-augmented-data", "6f232a1d2a11462a30ce08fb4825b734ab30828e",
        {f"orig_{split}.tsv": f"sentiment/orig/{split}.tsv" for split in ("train", "dev", "test")}),
    "eval/MassiveIntentClassification": (
        "pswietojanski/slurp", "8eb16545762be97ace75334109d73824217311f1",
        {"slurp_test.jsonl": "dataset/slurp/test.jsonl", "slurp_devel.jsonl": "dataset/slurp/devel.jsonl",
         "LICENSE.txt": "LICENSE.txt"}),
    "eval/SICK-R": ("brmson/dataset-sts", "e1d3375f5b3bc24f21aa4e46f96eb379e9fc1081", "data/sts/sick2014/{name}"),
    "eval/STS12": (*SYNWMD, SYNWMD_STS + "STS12-en-test/test-gold/{name}"),
    "eval/STS13": (*SYNWMD, SYNWMD_STS + "STS13-en-test/test-gs/{name}"),
    "eval/STS14": (*SYNWMD, SYNWMD_STS + "STS14-en-test/sts-en-test-gs-2014/{name}"),
    "eval/STS15": (*SYNWMD, SYNWMD_STS + "STS15-en-test/test_evaluation_task2a/{name}"),
    "eval/STS15/answers-forums-attribution": (
        *SYNWMD, SYNWMD_STS + "STS15-en-test/test_evaluation_task2a/STS.answers-forums.zip"),
    "eval/STS16": (*SYNWMD, SYNWMD_STS + "STS16-en-test/sts2016-english-with-gs-v1.0/{name}"),
    "eval/STSBenchmark": (*SYNWMD, SYNWMD_STS + "STSBenchmark/stsbenchmark/{name}"),
    "eval/SciFact": ("sumithra-p-v/claimverifier", "b42f1c3444b28884ddcfadffafbfe223646c6c37", "data/scifact.zip"),
    "eval/SemEval2016CQAReranking": (
        "bnsriram/NLPCommunityQuestionAnswering", "8e89aea3ad9f3157088acdbfc4955413d30ebb9d",
        {"README_v3.2_official.txt": "v3.2/README.txt",
         "semeval2016_task3_ql_dev_subtaskB.jsonl": "v3.2/dev/SemEval2016-Task3-CQA-QL-dev.xml",
         "semeval2016_task3_ql_train_part2_subtaskB.jsonl": "v3.2/train/SemEval2016-Task3-CQA-QL-train-part2.xml"}),
    "eval/TweetSentimentExtractionClassification": (
        "spence998/Tweet-Sentiment-Predictor", "16cc7c7d85ad379e93fab0fe4d4fa4f09d35604d",
        # the uploader swapped the names: its train.csv is Kaggle's test set (SOURCE.md)
        {"test.csv": "tweet-sentiment-extraction/train.csv", "train.csv": "tweet-sentiment-extraction/test.csv"}),
    "eval/TwentyNewsgroupsClustering": (
        "gokriznastic/20-newsgroups_text-classification", "06ac400595f51bc649737594ea5e39869292799f",
        "20_newsgroups/"),
    "eval/TwitterSemEval2015": (
        "cocoxu/twitterparaphrase", "4039beb7ce9505bdf84676a2b7595b484d203750",
        {"README.md": "SemEval-PIT2015/README.md", "test.data": "SemEval-PIT2015/data/test.data",
         "test.label": "SemEval-PIT2015/data/test.label", "dev.data": "SemEval-PIT2015/data/dev.data"}),
    "eval/TwitterURLCorpus": ("lanwuwei/Twitter-URL-Corpus", "ea41a9cd3710c774d6ebf969c7c7788227488761", "{name}"),
    "train/agnews_olora": (*OLORA, "CL_Benchmark/TC/agnews/{name}"),
    "train/amazon_reviews_olora": (*OLORA, "CL_Benchmark/SC/amazon/{name}"),
    "train/mnli_olora": (*OLORA, "CL_Benchmark/NLI/MNLI/{name}"),
    "train/codesearch_cosqa_webquery": (
        "microsoft/CodeXGLUE", "ac74a62802a0dd159b3258c78a2df8ad36cdf2b9",
        {"cosqa-dev.json": "Text-Code/NL-code-search-WebQuery/CoSQA/cosqa-dev.json",
         "test_webquery.json": "Text-Code/NL-code-search-WebQuery/data/test_webquery.json"}),
    "train/fever_labelled_dev": (
        "wait22065/fact_verification", "e959552d4bc394b7b2217f1f1858566823991af0", "data/{name}"),
    "train/flickr30k_captions": (
        "FlyCuteBird/MSMNN", "00434c9378199a48c470e94068c962c14558af5b", "data/f30k_precomp/{name}"),
    "train/nq_open": (
        "google-research-datasets/natural-questions", "fb26a3073b1fe636c97302890a27b491d6530130", "nq_open/{name}"),
    "train/pubmedqa": ("pubmedqa/pubmedqa", "1cbae8e92f72f20c8d3747cbb3bf5bc53554d997", "data/{name}"),
    "train/quora_duplicates": (
        "Deep1994/Quora-Question-Pairs-dataset-analysis-and-construction", "79a83eeb67f0b7fee10590ef5c841a835f827a27",
        "dataset/{name}"),
    "train/simplewiki_turkcorpus": (
        "cocoxu/simplification", "35570464faa28f8f64d75e1c35b6770048e04adc", "data/turkcorpus/{name}"),
    "train/snli_esnli": ("OanaMariaCamburu/e-SNLI", "7b585a3f077fdea899780eb0473940522ae44a2e", "dataset/eSNLI/{name}"),
    "train/specter_sample": (
        "allenai/specter", "f7afbc9cff79d487f6529a4b5802f10ed666df94",
        {**{name: f"data/training/{name}" for name in ("data.json", "metadata.json", "train.txt", "val.txt",
                                                       "test.txt")},
         "sample-metadata.json": "data/sample-metadata.json", "sample.ids": "data/sample.ids"}),
    "train/squad_nqg": ("xinyadu/nqg", "8211129a3e97d29f3e4563e35f65e4a892f70ef0", "data/processed/{name}"),
    "train/superni": (*CITB, {"tasks_README.md": "data/tasks/README.md"}),
    "train/superni/tasks": (*CITB, "data/tasks/{name}"),
    "train/superni/splits/default": (*CITB, "data/splits/default/{name}"),
    "train/superni/splits/xlingual": (*CITB, "data/splits/xlingual/{name}"),
    **{f"train/superni/supplement_sapt/{task}": (*SAPT, f"CL_Benchmark/SuperNI/{task}/{{name}}")
       for task in ("task002_quoref_answer_generation", "task1290_xsum_summarization",
                    "task1729_personachat_generate_next")},
}
ZIP_FOLDERS = ("eval/STS15/answers-forums-attribution", "eval/SciFact")
INSTRUCTOR_EMBEDDING = ("xlang-ai/instructor-embedding", "9a9742c130cef6e028af9f3bd582204c5bcfe96e")
# relative path -> the conversion that builds it: from the repository tarball (the source path is a folder), or
# from the bundle of a multi-file source (MULTI_FILE_SOURCES)
CONVERSIONS = {"eval/TwentyNewsgroupsClustering/20news-19997_subjects.jsonl": "newsgroups_subjects_jsonl",
               "eval/INSTRUCTIONS.json": "instructions_from_official_repo"}
# relative path -> extra step before any gzip (facts from SOURCE.md)
RECORD_STEPS = {"eval/TweetSentimentExtractionClassification/train.csv":
                {"op": "skip_n_records", "format": "csv", "n": 3534}}

# eval/INSTRUCTIONS.json (eval/INSTRUCTIONS.md there) from files of INSTRUCTOR_EMBEDDING. Every instruction string is
# read from those files; the tables below are the hand-written rest: the model order, the files cited, and the
# curators' notes on the prompt-retrieval tasks, the defaults and the key mapping.
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
MULTI_FILE_SOURCES = {"eval/INSTRUCTIONS.json": (*INSTRUCTOR_EMBEDDING, INSTRUCTIONS_SOURCES)}
CURATED_REASON = "written by the data curators (provenance notes and indexes); no upstream file"
UNREPRODUCIBLE = {
    "train/superni/manifest.jsonl": "a per-task table written by the data curators (it needs every upstream task, "
                                    "including its uncut instance count)",
    "train/superni/train_tasks_absent_from_snapshot.txt": CURATED_REASON,
    "eval/SemEval2016CQAReranking/semeval2016_task3_ql_dev_subtaskB.jsonl":
        "XML to JSONL conversion by an unpublished script; without the upstream XML here its output (key order, "
        "escaping, whitespace handling) cannot be checked, so no converter is declared",
    "eval/SemEval2016CQAReranking/semeval2016_task3_ql_train_part2_subtaskB.jsonl":
        "XML to JSONL conversion by an unpublished script; without the upstream XML here its output (key order, "
        "escaping, whitespace handling) cannot be checked, so no converter is declared",
}


# ------------------------------------------------------------------------------------------- transformations
def _records(data: bytes, fmt: str) -> tuple[bytes, list[bytes]]:
    """Split a file into (header, records), each record its exact bytes."""
    if fmt != "csv":
        raise ValueError(f"unknown record format {fmt!r} (known: csv, superni_task_json)")
    lines = data.splitlines(keepends=True)
    records, current = [], b""
    for line in lines[1:]:
        current += line
        if current.count(b'"') % 2 == 0:  # a quoted field may hold a line break: the record goes on
            records.append(current)
            current = b""
    if current:
        raise ValueError("csv ends inside a quoted field")
    return lines[0], records


def _first_n_records(data: bytes, n: int, format: str) -> bytes:
    if format == "superni_task_json":
        # re-serialised as the curators did (SOURCE.md): json.dumps(indent=4, ensure_ascii=False) and a newline
        task = json.loads(data)
        task["Instances"] = task["Instances"][:n]
        return (json.dumps(task, indent=4, ensure_ascii=False) + "\n").encode("utf-8")
    header, records = _records(data, format)
    return header + b"".join(records[:n])


def _skip_n_records(data: bytes, n: int, format: str) -> bytes:
    header, records = _records(data, format)
    return header + b"".join(records[n:])


def _zip_member(data: bytes, member: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = [name for name in archive.namelist() if name == member or name.endswith("/" + member)]
        if len(names) != 1:
            raise ValueError(f"zip archive has {len(names)} members named {member!r} (expected 1)")
        return archive.read(names[0])


def _gnu_deflate(data: bytes, level: int) -> bytes:
    """Raw deflate stream of GNU gzip (`gzip -n`, 10-byte header, 8-byte trailer)."""
    if shutil.which("gzip") is None:
        raise RuntimeError("this file was compressed by GNU gzip; install `gzip` (GNU) to rebuild it bit for bit")
    out = subprocess.run(["gzip", f"-{level}", "-n", "-c"], input=data, capture_output=True, check=True).stdout
    return out[10:-8]


def _gzip(data: bytes, level: int, mtime: int, filename: str | None, os_code: int, deflate: str) -> bytes:
    if deflate == "zlib":
        compressor = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS, 8)
        body = compressor.compress(data) + compressor.flush()
    elif deflate == "gnu-gzip":
        body = _gnu_deflate(data, level)
    else:
        raise ValueError(f"unknown deflate {deflate!r} (known: zlib, gnu-gzip)")
    xfl = {9: 2, 1: 4}.get(level, 0)
    name = filename.encode("latin-1") + b"\0" if filename else b""
    header = b"\x1f\x8b\x08" + bytes([8 if filename else 0]) + struct.pack("<I", mtime) + bytes([xfl, os_code]) + name
    return header + body + struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)


def _subject(message: bytes, name: str) -> str:
    """The first `Subject:` header of a Usenet message (UTF-8, else Latin-1), without the name and outer spaces."""
    try:
        text = message.decode("utf-8")
    except UnicodeDecodeError:
        text = message.decode("latin-1")
    for line in text.split("\n"):
        if not line.strip():
            break  # end of the header block
        if line.startswith("Subject:"):
            return line[len("Subject:"):].strip()
    raise ValueError(f"{name}: no Subject: header before the first blank line")


def newsgroups_subjects_jsonl(data: bytes, folder: str) -> bytes:
    """20news-19997 subjects as JSON Lines, from a repository tarball holding `folder/<newsgroup>/<doc id>`.

    One line `{"newsgroup", "doc_id", "subject"}` per message, ordered by newsgroup, then numeric doc id, as in
    eval/TwentyNewsgroupsClustering (SOURCE.md there).
    """
    messages = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
        for member in archive:
            inside = member.name.split("/", 1)[-1]  # drop the tarball's `<repo>-<commit>/`
            parts = inside[len(folder):].split("/")
            if member.isfile() and inside.startswith(folder) and len(parts) == 2:
                messages[(parts[0], int(parts[1]))] = archive.extractfile(member).read()
    if not messages:
        raise ValueError(f"the archive has no files under {folder!r}")
    lines = [json.dumps({"newsgroup": group, "doc_id": str(doc), "subject": _subject(body, f"{group}/{doc}")},
                        ensure_ascii=False) + "\n" for (group, doc), body in sorted(messages.items())]
    return "".join(lines).encode("utf-8")


def bundle(files: dict[str, bytes]) -> bytes:
    """Several downloaded files as one uncompressed tar, each member named by its upstream path."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for path, content in files.items():
            info = tarfile.TarInfo(path)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def _unbundle(data: bytes) -> dict[str, str]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive:
        return {member.name: archive.extractfile(member).read().decode("utf-8")
                for member in archive if member.isfile()}


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
    files = _unbundle(data)
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


CONVERTERS = {"newsgroups_subjects_jsonl": newsgroups_subjects_jsonl,
              "instructions_from_official_repo": instructions_from_official_repo}


def _convert(data: bytes, function: str, **params) -> bytes:
    if function not in CONVERTERS:
        raise ValueError(f"unknown conversion {function!r} (known: {', '.join(CONVERTERS)})")
    return CONVERTERS[function](data, **params)


STEPS = {"copy": lambda data: data, "zip_member": _zip_member, "first_n_records": _first_n_records,
         "skip_n_records": _skip_n_records, "gzip": _gzip, "convert": _convert}


def apply_steps(data: bytes, steps: list[dict]) -> bytes:
    """Apply the manifest's transformation steps, in order, to the upstream bytes."""
    for step in steps:
        params = {key: value for key, value in step.items() if key != "op"}
        if step["op"] not in STEPS:
            raise ValueError(f"unknown transformation {step['op']!r} (known: {', '.join(STEPS)})")
        data = STEPS[step["op"]](data, **params)
    return data


# ------------------------------------------------------------------------------------------------ manifest
def _gzip_header(data: bytes) -> dict:
    flags, mtime, xfl, os_code = data[3], struct.unpack("<I", data[4:8])[0], data[8], data[9]
    if flags & ~8:
        raise ValueError(f"gzip header flags {flags:#x}: only FNAME is supported")
    filename = data[10:data.index(b"\0", 10)].decode("latin-1") if flags & 8 else None
    return {"mtime": mtime, "filename": filename, "os_code": os_code, "level": {2: 9, 4: 1}.get(xfl, 6)}


def _gzip_step(committed: bytes, content: bytes) -> tuple[dict, bool]:
    """The gzip step that rebuilds `committed` from `content`, and whether it does so bit for bit."""
    header = _gzip_header(committed)
    for deflate in ("zlib", "gnu-gzip"):
        step = {"op": "gzip", **header, "deflate": deflate}
        if apply_steps(content, [step]) == committed:
            return step, True
    return {"op": "gzip", **header, "deflate": "zlib"}, False


def _superni_cut_tasks(root: Path) -> set[str]:
    """Tasks whose instances were cut (from the curators' train/superni/manifest.jsonl)."""
    rows = (json.loads(line) for line in (root / "train/superni/manifest.jsonl").read_text().splitlines())
    return {row["task"] for row in rows if row["instances_original"] > row["instances_kept"]}


def _source(relpath: str) -> dict | None:
    if relpath in MULTI_FILE_SOURCES:  # several upstream files make one file: `paths` and `urls` instead of one
        repo, commit, paths = MULTI_FILE_SOURCES[relpath]
        return {"repo": repo, "commit": commit, "paths": list(paths),
                "urls": [GITHUB_RAW.format(repo=repo, commit=commit, path=path) for path in paths]}
    folder, name = relpath.rsplit("/", 1)
    if folder not in FOLDERS:
        return None
    repo, commit, where = FOLDERS[folder]
    upstream_name = name[:-3] if name.endswith(".gz") else name
    if isinstance(where, dict):
        if upstream_name not in where:
            return None
        path = where[upstream_name]
    else:
        path = where.format(name=upstream_name)
    url = (GITHUB_ARCHIVE if relpath in CONVERSIONS else GITHUB_RAW).format(repo=repo, commit=commit, path=path)
    return {"repo": repo, "commit": commit, "path": path, "url": url}


def _unreproducible_reason(relpath: str) -> str | None:
    if relpath.endswith(("/SOURCE.md", "/INDEX.md")) or relpath == "eval/INSTRUCTIONS.md":
        return CURATED_REASON
    return UNREPRODUCIBLE.get(relpath)


def _steps_before_gzip(relpath: str, source: dict, cut_tasks: set[str]) -> list[dict]:
    steps = []
    if relpath.rsplit("/", 1)[0] in ZIP_FOLDERS:
        steps.append({"op": "zip_member", "member": Path(relpath).name.removesuffix(".gz")})
    if relpath in CONVERSIONS:  # a tarball's folder, or the bundle of a multi-file source with its repo and commit
        if "paths" in source:
            where = {"repo": source["repo"], "commit": source["commit"]}
        else:
            where = {"folder": source["path"]}
        steps.append({"op": "convert", "function": CONVERSIONS[relpath], **where})
    if relpath in RECORD_STEPS:
        steps.append(RECORD_STEPS[relpath])
    if relpath.startswith("train/superni/tasks/") and Path(relpath).name.removesuffix(".json.gz") in cut_tasks:
        steps.append({"op": "first_n_records", "format": "superni_task_json", "n": SUPERNI_MAX_INSTANCES})
    return steps


def manifest_entry(root: Path, relpath: str, cut_tasks: set[str]) -> dict:
    """One file's manifest entry: size and sha256 from the file, its source and steps from the tables above.

    A `.gz` file gets the gzip step that rebuilds it bit for bit (tried here); when none does, the entry is
    checked by the hash of its decompressed content (`"sha256_of": "decompressed"`).
    """
    file = root / relpath
    entry = {"path": relpath, "size": file.stat().st_size, "sha256": sha256_file(file), "sha256_of": "file"}
    source = _source(relpath)
    reason = _unreproducible_reason(relpath)
    if reason:  # the source, where one is known, says what the file was made from
        known = {"source": source} if source and relpath in UNREPRODUCIBLE else {}
        return {**entry, **known, "reproducible": False, "reason": reason}
    if source is None:
        raise ValueError(f"{relpath}: no source known; add its folder to FOLDERS in {__file__}")
    steps = _steps_before_gzip(relpath, source, cut_tasks)
    entry.update(source=source, reproducible=True)
    if relpath.endswith(".gz"):
        committed = file.read_bytes()
        content = gzip.decompress(committed)
        step, exact = _gzip_step(committed, content)
        steps.append(step)
        entry.update(content_sha256=hashlib.sha256(content).hexdigest(), sha256_of="file" if exact else "decompressed")
    entry["steps"] = steps or [{"op": "copy"}]
    return entry


def build_manifest(data_dir: str | os.PathLike) -> dict:
    """The manifest of a data directory: every file, with sizes and hashes read from the files."""
    root = Path(data_dir)
    cut_tasks = _superni_cut_tasks(root)
    paths = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    return {"format": MANIFEST_FORMAT,
            "regenerate": "python -m instructor_lib.datasets manifest --data-dir DIR",
            "files": [manifest_entry(root, relpath, cut_tasks) for relpath in paths]}


def write_manifest(data_dir: str | os.PathLike, path: str | os.PathLike = MANIFEST_PATH) -> dict:
    """Write the manifest of `data_dir` to `path`, one file entry per line (small diffs when data change)."""
    manifest = build_manifest(data_dir)
    head = json.dumps({key: value for key, value in manifest.items() if key != "files"}, ensure_ascii=False)
    lines = ",\n".join(json.dumps(entry, ensure_ascii=False) for entry in manifest["files"])
    Path(path).write_text(f'{head[:-1]}, "files": [\n{lines}\n]}}\n', encoding="utf-8")
    return manifest


def load_manifest(path: str | os.PathLike = MANIFEST_PATH) -> dict:
    manifest = json.loads(Path(path).read_text(encoding="utf-8"))
    if manifest.get("format") != MANIFEST_FORMAT:
        raise ValueError(f"{path}: manifest format {manifest.get('format')!r}, expected {MANIFEST_FORMAT}")
    return manifest


def manifest_sha256(path: str | os.PathLike = MANIFEST_PATH) -> str:
    """sha256 of the manifest file: records which data directory a result was computed on."""
    return sha256_file(path)


# ------------------------------------------------------------------------------------------------- verify
def _file_matches(file: Path, entry: dict) -> bool:
    if entry["sha256_of"] == "decompressed":
        return hashlib.sha256(gzip.decompress(file.read_bytes())).hexdigest() == entry["content_sha256"]
    return file.stat().st_size == entry["size"] and sha256_file(file) == entry["sha256"]


@dataclass
class VerifyReport:
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.extra or self.changed)

    def lines(self) -> list[str]:
        return [f"{kind}: {path}" for kind in ("missing", "extra", "changed") for path in getattr(self, kind)]


def verify(data_dir: str | os.PathLike | None = None, manifest: dict | None = None,
           reproducible_only: bool = False) -> VerifyReport:
    """Compare a data directory with the manifest: files missing, extra (not in the manifest) and changed.

    `reproducible_only`: a missing file that `fetch` cannot reproduce is not a problem (a fetched directory).
    """
    root = resolve_data_dir(data_dir)
    entries = {entry["path"]: entry for entry in (manifest or load_manifest())["files"]}
    present = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    missing = [path for path in sorted(set(entries) - present)
               if entries[path]["reproducible"] or not reproducible_only]
    report = VerifyReport(missing=missing, extra=sorted(present - set(entries)))
    report.changed = [path for path in sorted(present & set(entries)) if not _file_matches(root / path, entries[path])]
    return report


# -------------------------------------------------------------------------------------------------- fetch
@dataclass
class FetchReport:
    fetched: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # path -> "url: reason"
    unreproducible: dict[str, str] = field(default_factory=dict)  # path -> reason

    @property
    def ok(self) -> bool:
        return not self.failed


def _mirrored(url: str, mirrors: dict[str, str]) -> str:
    for prefix, replacement in mirrors.items():
        if url.startswith(prefix):
            return replacement + url[len(prefix):]
    return url


def download(url: str, target: Path, timeout: float = 60.0) -> None:
    """Download `url` to `target`; a body shorter than its Content-Length is an error."""
    with urllib.request.urlopen(url, timeout=timeout) as response, open(target, "wb") as out:
        expected = response.headers.get("Content-Length")
        shutil.copyfileobj(response, out, 1 << 20)
        got = out.tell()
    if expected is not None and got != int(expected):
        raise OSError(f"truncated download: {got} of {expected} bytes")


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _raw_path(work: Path, url: str) -> Path:
    return work / hashlib.sha256(url.encode()).hexdigest()


def _downloaded(downloads: dict[str, str | None], work: Path) -> bytes:
    """The bytes the steps start from: the one download, or the bundle of a multi-file source's downloads."""
    if list(downloads.values()) == [None]:
        return _raw_path(work, next(iter(downloads))).read_bytes()
    return bundle({path: _raw_path(work, url).read_bytes() for url, path in downloads.items()})


def _fetch_one(entry: dict, dest: Path, downloads: dict[str, str | None], steps: list[dict], work: Path, retries: int,
               backoff_s: float) -> tuple[Exception | None, str]:
    """Download, transform, verify and atomically place one file; the last error (or None) and its URL."""
    target = dest / entry["path"]
    urls = list(downloads)
    error, where = None, urls[0]
    for attempt in range(1, retries + 1):
        try:
            for url in urls:
                raw, where = _raw_path(work, url), url
                if not raw.exists():  # an archive shared by several files is downloaded once
                    download(url, raw.with_suffix(".part"))
                    raw.with_suffix(".part").replace(raw)
            where = urls[0] if len(urls) == 1 else f"{urls[0]} (and {len(urls) - 1} more files)"
            data = apply_steps(_downloaded(downloads, work), steps)
            got = hashlib.sha256(data if entry["sha256_of"] == "file" else gzip.decompress(data)).hexdigest()
            want = entry["sha256"] if entry["sha256_of"] == "file" else entry["content_sha256"]
            if got != want:
                hint = _compressor_hint(entry, data)
                raise ValueError(f"sha256 {got[:12]}… differs from the manifest's {want[:12]}…{hint}")
            target.parent.mkdir(parents=True, exist_ok=True)
            temp = target.with_name(f".{target.name}.partial")
            try:
                temp.write_bytes(data)
                temp.replace(target)
            finally:
                temp.unlink(missing_ok=True)
            return None, where
        except Exception as err:  # any failure of this file is retried, then reported by name and URL
            error = err
            for url in urls:
                _raw_path(work, url).unlink(missing_ok=True)
            if attempt < retries:
                _log(f"    retry {attempt}/{retries - 1} after {type(err).__name__}: {err}")
                time.sleep(backoff_s * attempt)
    return error, where


def _compressor_hint(entry: dict, data: bytes) -> str:
    """Say so when only the compression differs: the content is right, this machine's compressor is not."""
    if "content_sha256" not in entry or hashlib.sha256(gzip.decompress(data)).hexdigest() != entry["content_sha256"]:
        return ""
    deflate = entry["steps"][-1]["deflate"]
    return (f" although the decompressed content is right: this machine's {deflate} compresses differently "
            f"({'GNU gzip 1.12' if deflate == 'gnu-gzip' else 'zlib 1.2.13'} reproduces the manifest's bytes)")


def _unreachable(error: Exception) -> bool:
    """The host could not be reached at all (no network, DNS, refused), as opposed to a bad file or an HTTP error."""
    return isinstance(error, urllib.error.URLError) and not isinstance(error, urllib.error.HTTPError)


def _remove_leftovers(dest: Path) -> None:
    """Temporary files of a fetch that was killed before it could clean up."""
    for work in dest.glob(".fetch-*"):
        shutil.rmtree(work, ignore_errors=True)
    for partial in dest.rglob(".*.partial"):
        partial.unlink()


def _plan(entry: dict, mirrors: dict[str, str],
          copy_url: str | None) -> tuple[dict[str, str | None], list[dict]] | None:
    """The downloads for a file and the steps that turn them into the file; None when not reproducible.

    Downloads map each URL to its upstream path in the bundle of a multi-file source, or to None for the one
    download of a file taken as it is."""
    if copy_url:
        return {copy_url.rstrip("/") + "/" + entry["path"]: None}, [{"op": "copy"}]
    if not entry["reproducible"]:
        return None
    source = entry["source"]
    if "urls" in source:
        return {_mirrored(url, mirrors): path for url, path in zip(source["urls"], source["paths"])}, entry["steps"]
    return {_mirrored(source["url"], mirrors): None}, entry["steps"]


def fetch(dest: str | os.PathLike | None = None, only: list[str] | None = None, mirrors: dict[str, str] | None = None,
          copy_url: str | None = None, retries: int = 3, backoff_s: float = 2.0,
          manifest: dict | None = None) -> FetchReport:
    """Write the data directory from the public sources listed in the manifest.

    Args:
        dest: target folder (default `$INSTRUCTOR_CACHE/data` or ~/.cache/instructor_lib/data, which
            `config.data_dir()` finds by itself).
        only: fetch only the files whose relative path starts with one of these prefixes.
        mirrors: URL prefix -> replacement prefix, e.g. `{"https://raw.githubusercontent.com/": "http://host/gh/"}`.
        copy_url: base URL of a verbatim copy of a whole data directory (`copy_url/<relative path>`); every file,
            the unreproducible ones included, is then taken from there unchanged.
        retries: attempts per file (a failed download or a hash mismatch is retried); once a host proved
            unreachable, its remaining files fail at once.
    A file whose hash already matches is skipped, so an interrupted fetch resumes. Each file is written to a
    temporary name next to its target and renamed only once its sha256 matches.
    """
    dest = Path(dest) if dest is not None else data_cache_dir()
    entries = [entry for entry in (manifest or load_manifest())["files"]
               if not only or any(entry["path"].startswith(prefix) for prefix in only)]
    plans = [_plan(entry, mirrors or {}, copy_url) for entry in entries]
    uses = Counter(url for plan in plans if plan for url in plan[0])  # a download is kept until its last file
    report, unreachable = FetchReport(), {}  # host -> the error that showed it unreachable
    dest.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(dest)
    with tempfile.TemporaryDirectory(prefix=".fetch-", dir=dest) as work:
        for index, (entry, plan) in enumerate(zip(entries, plans), 1):
            label = f"[{index:>{len(str(len(entries)))}}/{len(entries)}] {entry['path']}"
            target = dest / entry["path"]
            if plan:
                uses.subtract(list(plan[0]))  # its URLs (a Mapping would subtract its values)
            if target.is_file() and _file_matches(target, entry):
                report.skipped.append(entry["path"])
                _log(f"{label}: present, hash matches")
                continue
            if plan is None:
                report.unreproducible[entry["path"]] = entry["reason"]
                _log(f"{label}: not fetchable ({entry['reason']})")
                continue
            downloads, steps = plan
            first = next(iter(downloads))
            host = urllib.parse.urlsplit(first).netloc
            if host in unreachable:  # without a network, fail fast instead of retrying every file
                error, url = unreachable[host], first
            else:
                error, url = _fetch_one(entry, dest, downloads, steps, Path(work), retries, backoff_s)
                for done in [download_url for download_url in downloads if not uses[download_url]]:
                    _raw_path(Path(work), done).unlink(missing_ok=True)
            if error is None:
                report.fetched.append(entry["path"])
                _log(f"{label}: fetched ({entry['size']:,} bytes)")
                continue
            if _unreachable(error):
                unreachable[host] = error
            report.failed[entry["path"]] = f"{url}: {type(error).__name__}: {error}"
            _log(f"{label}: FAILED from {report.failed[entry['path']]}")
    return report


# ---------------------------------------------------------------------------------------------------- cli
def _parse_mirrors(pairs: list[str]) -> dict[str, str]:
    mirrors = {}
    for pair in pairs:
        prefix, sep, replacement = pair.partition("=")
        if not sep:
            raise SystemExit(f"--mirror {pair!r}: expected PREFIX=URL")
        mirrors[prefix] = replacement
    return mirrors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m instructor_lib.datasets", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    fetch_cmd = commands.add_parser("fetch", help="download the data directory from its public sources")
    fetch_cmd.add_argument("--dest", default=None, help=f"target folder (default {data_cache_dir()})")
    fetch_cmd.add_argument("--only", nargs="+", metavar="PREFIX", help="only files whose path starts so")
    fetch_cmd.add_argument("--mirror", action="append", default=[], metavar="PREFIX=URL",
                           help="replace a URL prefix, e.g. https://raw.githubusercontent.com/=http://host/gh/")
    fetch_cmd.add_argument("--copy-url", default=None, help="base URL of a verbatim copy of a whole data directory")
    fetch_cmd.add_argument("--retries", type=int, default=3)
    verify_cmd = commands.add_parser("verify", help="check a data directory against the manifest")
    verify_cmd.add_argument("--data-dir", default=None, help="default: the one config.data_dir() finds")
    verify_cmd.add_argument("--reproducible-only", action="store_true",
                            help="do not count missing files that fetch cannot reproduce (a fetched directory)")
    manifest_cmd = commands.add_parser("manifest", help="regenerate instructor_lib/data_manifest.json")
    manifest_cmd.add_argument("--data-dir", required=True)
    manifest_cmd.add_argument("--out", default=str(MANIFEST_PATH))
    args = parser.parse_args(argv)

    if args.command == "manifest":
        manifest = write_manifest(args.data_dir, args.out)
        print(f"{args.out}: {len(manifest['files'])} files, sha256 {manifest_sha256(args.out)}")
        return 0
    if args.command == "verify":
        report = verify(args.data_dir, reproducible_only=args.reproducible_only)
        for line in report.lines():
            print(line)
        print(f"{resolve_data_dir(args.data_dir)}: {'ok' if report.ok else 'PROBLEMS'} against manifest "
              f"{manifest_sha256()[:16]}")
        return 0 if report.ok else 1
    report = fetch(args.dest, args.only, _parse_mirrors(args.mirror), args.copy_url, args.retries)
    print(f"fetched {len(report.fetched)}, already present {len(report.skipped)}, failed {len(report.failed)}, "
          f"not reproducible {len(report.unreproducible)}")
    for path, why in report.failed.items():
        print(f"FAILED {path} <- {why}")
    for path, why in report.unreproducible.items():
        print(f"NOT REPRODUCIBLE {path}: {why}")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
