"""Where each file of the data directory comes from: the public repository, the commit and the upstream path,
and which files need more than a download (a zip member, a conversion, records dropped) or none reproduces.

`manifest.py` turns these tables into the manifest's `source` and `steps` of every file; the facts come from each
folder's SOURCE.md.
"""
from __future__ import annotations

from .instructions_json import INSTRUCTIONS_SOURCES

GITHUB_RAW = "https://raw.githubusercontent.com/{repo}/{commit}/{path}"
GITHUB_ARCHIVE = "https://github.com/{repo}/archive/{commit}.tar.gz"  # a whole folder: the repository's tarball
SYNWMD = ("amao0o0/SynWMD", "59042a92e862db58bd01e47914345d2f52d2a4a3")
SYNWMD_STS = "data/downstream/STS/"
OLORA = ("zyx303/O-LoRA", "116d67cf84feafbc11e34fe789c843d9a62382c1")
CITB = ("hyintell/CITB", "bf50533b5bced4c388691ecc75e26773da96b3fd")
SAPT = ("circle-hit/SAPT", "52a52b920324c656bdb6dac08e43dc600ba22f21")
SUPERNI_MAX_INSTANCES = 600  # a super-NI task with more instances keeps its first 600 (train/superni/SOURCE.md)

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
# relative path -> (repo, commit, upstream paths) of a file built from several upstream files
MULTI_FILE_SOURCES = {"eval/INSTRUCTIONS.json": (*INSTRUCTOR_EMBEDDING, INSTRUCTIONS_SOURCES)}
CURATED_REASON = "written by the data curators (provenance notes and indexes); no upstream file"
# relative path -> why no download plus declared steps reproduces it (besides the curators' SOURCE.md and INDEX.md
# files and eval/INSTRUCTIONS.md, which are CURATED_REASON by name)
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
