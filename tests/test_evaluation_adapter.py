"""The mteb adapter: instruction per task and side, mock_run, and the full evaluate() path on a tiny model."""
import json
from types import SimpleNamespace

import mteb
import numpy as np
import pytest
import torch
from mteb._create_dataloaders import create_dataloader
from scipy.stats import spearmanr

from instructor_lib.evaluation import evaluate
from instructor_lib.evaluation.adapter import CLUSTERING_MAX_TOKENS, InstructorEncoder
from instructor_lib.evaluation.instruction_sets import generated_instruction
from instructor_lib.evaluation.suite import Subsample, build_task
from instructor_lib.tiny import tiny_bert


@pytest.fixture(scope="module")
def model():
    return tiny_bert(seed=3)


def _loader(texts, metadata, prompt_type=None):
    from datasets import Dataset

    rows = {"id": [str(i) for i in range(len(texts))], "text": texts}
    return create_dataloader(Dataset.from_dict(rows), task_metadata=metadata, prompt_type=prompt_type, batch_size=2)


def test_encoder_satisfies_mteb_protocol(model):
    from mteb.models.models_protocols import EncoderProtocol

    encoder = InstructorEncoder(model, "none")
    assert isinstance(encoder, EncoderProtocol)
    assert encoder.mteb_model_meta.embed_dim == model.embedding_dim


@pytest.mark.parametrize("task, prompt_type, side", [("SciFact", "query", "query"), ("SciFact", "document", "document"),
                                                       ("STS12", None, "text"), ("Banking77Classification", None, "text")])
def test_adapter_embeds_with_the_instruction_of_the_task_and_side(model, task, prompt_type, side):
    from mteb.types import PromptType

    encoder = InstructorEncoder(model, "paper", precision="float32")
    metadata = mteb.get_task(task).metadata
    texts = ["A man is eating food.", "Aspirin lowers the risk of stroke.", "I lost my card"]
    expected_instruction = encoder.instructions.instruction(task, side)
    got = encoder.encode(_loader(texts, metadata, prompt_type and PromptType(prompt_type)), task_metadata=metadata,
                         hf_split="test", hf_subset="default", prompt_type=prompt_type and PromptType(prompt_type))
    reference = model.encode([[expected_instruction, text] for text in texts], precision="float32")
    np.testing.assert_allclose(got, reference, atol=1e-5)
    assert encoder.used_instructions[(task, side)] == expected_instruction
    # and it differs from encoding without the instruction, so the check above is not vacuous
    assert not np.allclose(got, model.encode(texts, precision="float32"), atol=1e-3)


def test_query_and_document_instructions_differ_for_scifact(model):
    encoder = InstructorEncoder(model, "paper")
    metadata = mteb.get_task("SciFact").metadata
    assert encoder.instruction_for(metadata, "query") != encoder.instruction_for(metadata, "document")
    assert encoder.instruction_for(metadata, None) == encoder.instruction_for(metadata, "query")
    assert not encoder.generated_instructions  # the paper set holds SciFact


def test_clustering_drops_the_instruction_for_texts_over_256_tokens(model):
    encoder = InstructorEncoder(model, "paper", precision="float32")
    metadata = mteb.get_task("TwentyNewsgroupsClustering").metadata
    instruction = encoder.instructions.instruction("TwentyNewsgroupsClustering")
    long_text = "word " * 300
    assert len(model.tokenizer(instruction + long_text)["input_ids"]) > CLUSTERING_MAX_TOKENS
    got = encoder.encode(_loader(["short subject line", long_text], metadata), task_metadata=metadata,
                         hf_split="test", hf_subset="default")
    np.testing.assert_allclose(got, model.encode([[instruction, "short subject line"], ["", long_text]], precision="float32"), atol=1e-5)


def test_similarities_are_cosine(model):
    encoder = InstructorEncoder(model, "none")
    a, b = np.array([[3.0, 4.0], [1.0, 0.0]]), np.array([[0.0, 2.0], [1.0, 1.0]])
    np.testing.assert_allclose(encoder.similarity(a, b).numpy(), [[0.8, 0.7 * 2 ** 0.5], [0.0, 2 ** -0.5]], atol=1e-6)
    np.testing.assert_allclose(encoder.similarity_pairwise(a, b).numpy(), [0.8, 2 ** -0.5], atol=1e-6)


def test_mock_run_passes_with_default_arguments(model, caplog):
    """The paper set holds no mock task: every one runs on instructions generated from its metadata."""
    encoder = InstructorEncoder(model)
    with caplog.at_level("WARNING", logger="instructor_lib.evaluation.adapter"):
        results = mteb.mock_run(encoder)
    assert results.all_passed, results.to_markdown()
    ran = {name for name, status in results.items() if status is not None}
    assert len(ran) >= 20 and {task for task, _ in encoder.generated_instructions} == ran
    assert encoder.generated_instructions[("MockRetrievalTask", "query")] == "Represent the question for retrieving supporting documents: "
    assert encoder.generated_instructions[("MockRetrievalTask", "document")] == "Represent the document for retrieval: "
    assert encoder.generated_instructions[("MockSTSTask", "text")] == "Represent the statement: "
    logged = [record.getMessage() for record in caplog.records if "generated from its mteb metadata" in record.getMessage()]
    assert sorted(message.split(":")[0] for message in logged) == sorted(ran)  # once per task


def test_strict_raises_for_a_task_the_set_lacks(model):
    from mteb.mocks.mock_tasks import MockSTSTask

    encoder = InstructorEncoder(model, "paper", strict=True)
    with pytest.raises(KeyError, match="no instruction for task 'MockSTSTask'"):
        encoder.instruction_for(MockSTSTask.metadata)
    assert not encoder.generated_instructions
    wildcard = InstructorEncoder(model, {"*": "Represent the text: "})  # "*" holds every task: nothing generated
    assert wildcard.instruction_for(MockSTSTask.metadata) == "Represent the text: " and not wildcard.generated_instructions


def test_evaluate_records_the_generated_instructions(model, tmp_path):
    results = evaluate(model, suite={"BIOSSES": Subsample(20)}, instructions={"STS12": "Represent the statement: "},
                       precision="float32", cache_dir=tmp_path / "cache", output_dir=tmp_path / "out")
    generated = {"text": "Represent the medical statement: "}
    assert results["tasks"]["BIOSSES"]["generated_instructions"] == generated
    assert results["tasks"]["BIOSSES"]["instructions"] == generated
    assert results["metadata"]["generated_instructions"] == {"BIOSSES": generated}
    assert json.loads((tmp_path / "out" / "results.json").read_text())["metadata"]["generated_instructions"] == {"BIOSSES": generated}
    with pytest.raises(KeyError, match="no instruction for task 'BIOSSES'"):
        evaluate(model, suite={"BIOSSES": Subsample(20)}, instructions={"STS12": "Represent the statement: "},
                 precision="float32", cache_dir=tmp_path / "cache", use_cache=False, strict_instructions=True)


@pytest.mark.parametrize("task_type, domains, side, expected", [
    ("Retrieval", ["Medical", "Academic", "Written"], "query", "Represent the medical question for retrieving supporting documents: "),
    ("Retrieval", ["Medical"], "document", "Represent the medical document for retrieval: "),
    ("Retrieval", [], "text", "Represent the question for retrieving supporting documents: "),
    ("InstructionRetrieval", ["News"], "query", "Represent the news question for retrieving supporting documents: "),
    ("Reranking", ["Programming", "Web"], "query", "Represent the programming query for retrieving relevant documents: "),
    ("InstructionReranking", [], "document", "Represent the document for retrieval: "),
    ("Classification", ["Social", "Written"], "text", "Represent the social media text for classification: "),
    ("MultilabelClassification", ["Legal"], "text", "Represent the legal text for classification: "),
    ("ZeroShotClassification", None, "text", "Represent the text for classification: "),
    ("Clustering", ["Written", "Encyclopaedic"], "text", "Represent the encyclopedia text for clustering: "),
    ("PairClassification", ["Reviews"], "text", "Represent the review sentence for retrieving duplicate sentences: "),
    ("STS", ["Spoken"], "text", "Represent the statement: "),
    ("Summarization", ["News", "Written"], "text", "Represent the news sentence for retrieval: "),
    ("BitextMining", ["Written"], "text", "Represent the sentence for retrieving its translation: "),
    ("Regression", ["Financial"], "text", "Represent the financial text for predicting its score: "),
    ("Compositionality", [], "text", "Represent the text: "),
])
def test_generated_instruction_for_each_task_type(task_type, domains, side, expected):
    metadata = SimpleNamespace(name="SomeTask", type=task_type, domains=domains)
    assert generated_instruction(metadata, side) == expected


def test_generated_instructions_of_real_tasks_follow_their_metadata():
    # SummEval (News): the paper's own instruction comes out of the template
    assert generated_instruction(mteb.get_task("SummEval").metadata) == "Represent the news sentence for retrieval: "
    assert generated_instruction(mteb.get_task("BIOSSES").metadata) == "Represent the medical statement: "
    assert generated_instruction(mteb.get_task("FiQA2018").metadata, "query") == (
        "Represent the financial question for retrieving supporting documents: ")


def test_model_meta_carries_the_model_facts(model):
    encoder = InstructorEncoder(model, "none")
    meta = encoder.mteb_model_meta
    assert meta.name == "local/tiny-bert" and meta.revision == model.fingerprint()
    assert meta.n_parameters == sum(tensor.numel() for tensor in model.state_dict().values() if tensor.is_floating_point())
    assert (meta.embed_dim, meta.max_tokens, meta.similarity_fn_name.value if hasattr(meta.similarity_fn_name, "value")
            else meta.similarity_fn_name) == (32, 128, "cosine")
    assert InstructorEncoder(model, "none", name="org/model").mteb_model_meta.name == "org/model"
    trained = tiny_bert(seed=3)
    encoder = InstructorEncoder(trained, "none")
    before = encoder.mteb_model_meta.revision
    with torch.no_grad():
        next(trained.parameters()).add_(1.0)  # an in-place update, as an optimizer step
    assert encoder.mteb_model_meta.revision == trained.fingerprint() != before


def test_a_given_fingerprint_spares_the_weight_hash_until_a_parameter_changes(monkeypatch):
    """evaluate hashes the weights once and hands the fingerprint to each task's encoder."""
    model = tiny_bert(seed=3)
    fingerprint, calls = model.fingerprint(), []
    real = type(model).fingerprint
    monkeypatch.setattr(type(model), "fingerprint", lambda self: calls.append(1) or real(self))
    encoder = InstructorEncoder(model, "none", fingerprint=fingerprint)
    assert encoder.mteb_model_meta.revision == fingerprint and calls == []
    with torch.no_grad():
        next(model.parameters()).add_(1.0)
    assert encoder.mteb_model_meta.revision == real(model) != fingerprint and calls == [1]


def test_evaluate_matches_a_hand_computed_sts_score_and_caches(model, tmp_path, monkeypatch):
    results = evaluate(model, suite={"BIOSSES": Subsample(30)}, instructions="paper", output_dir=tmp_path / "out",
                       precision="float32", cache_dir=tmp_path / "cache")
    # reference: Spearman of cosine similarities computed directly from Instructor.encode on the same pairs
    data = build_task("BIOSSES", Subsample(30)).task.dataset["default"]["test"]
    instruction = results["tasks"]["BIOSSES"]["instructions"]["text"]
    first = model.encode(data["sentence1"], instruction=instruction, precision="float32")
    second = model.encode(data["sentence2"], instruction=instruction, precision="float32")
    expected = 100 * spearmanr((first * second).sum(axis=1), data["score"]).statistic
    assert results["tasks"]["BIOSSES"]["score"] == pytest.approx(expected, abs=1e-4)
    assert results["categories"] == {"STS": results["tasks"]["BIOSSES"]["score"]}
    meta = results["metadata"]
    assert meta["instructions"]["name"] == "paper:hkunlp/instructor-large" and "sha256=" in meta["instructions"]["source"]
    assert meta["suite_limits"] == {"BIOSSES": {"max_test": 30, "max_train": None, "max_corpus": None}}
    assert results["tasks"]["BIOSSES"]["sizes"] == {"default": {"test": 30}}
    assert set(meta["library_versions"]) >= {"torch", "mteb", "transformers"} and meta["data_hashes"]["BIOSSES"]
    assert json.loads((tmp_path / "out" / "results.json").read_text()) == results

    def refuse(*args, **kwargs):
        raise AssertionError("a cached evaluation must not run mteb again")

    monkeypatch.setattr(mteb, "evaluate", refuse)
    assert evaluate(model, suite={"BIOSSES": Subsample(30)}, instructions="paper", precision="float32",
                    cache_dir=tmp_path / "cache") == results
    with pytest.raises(AssertionError, match="cached"):  # a different instruction set is a different result
        evaluate(model, suite={"BIOSSES": Subsample(30)}, instructions="none", precision="float32", cache_dir=tmp_path / "cache")


def test_instruction_longer_than_the_model_window_is_reported(model, caplog):
    encoder = InstructorEncoder(model, {"*": "Represent the sentence " + "very " * 200 + "carefully: "})
    metadata = mteb.get_task("STS12").metadata
    with caplog.at_level("WARNING", logger="instructor_lib.evaluation.adapter"):
        encoder.encode(_loader(["a short text"], metadata), task_metadata=metadata, hf_split="test", hf_subset="default")
    assert "STS12" in caplog.text and "truncated away" in caplog.text
