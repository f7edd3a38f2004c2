"""ONNX export and backend (instructor_lib.onnx): the graph against the torch model, dynamic axes, the instruction
exclusion carried by the pooling mask, int8 quantisation, and the errors."""
import csv
import json

import numpy as np
import onnx
import pytest
import torch

from instructor_lib import Instructor
from instructor_lib.config import data_dir
from instructor_lib.onnx import EXAMPLE_PAIRS, INPUT_NAMES, ONNX_CONFIG_NAME as CONFIG_NAME, OnnxInstructor, export_onnx, load_onnx
from instructor_lib.tiny import tiny_bert, tiny_t5

from helpers import INSTRUCTION, PAIRS as MODEL_PAIRS

PAIRS = MODEL_PAIRS + [[INSTRUCTION, ""]]  # and an empty text
MODELS = {
    "bert": lambda: tiny_bert(seed=1),
    "bert-left-dense": lambda: tiny_bert(seed=2, padding_side="left", dense_dim=8),
    "t5-dense": lambda: tiny_t5(seed=3, dense_dim=8),
}


@pytest.fixture(scope="module", params=sorted(MODELS))
def exported(request, tmp_path_factory):
    """(torch model, the same model loaded back from its float32 ONNX export)."""
    model = MODELS[request.param]()
    folder = export_onnx(model, tmp_path_factory.mktemp(request.param))
    return model, load_onnx(folder)


def test_float32_graph_equals_torch(exported):
    model, graph = exported
    assert isinstance(graph, OnnxInstructor) and graph.embedding_dim == model.embedding_dim
    for batch_size in (1, 4, 32):
        np.testing.assert_allclose(graph.encode(PAIRS, batch_size=batch_size), model.encode(PAIRS, precision="float32"), atol=1e-5, rtol=0)
    texts = [text for _, text in PAIRS]
    np.testing.assert_allclose(graph.encode(texts, instruction=INSTRUCTION), model.encode(texts, instruction=INSTRUCTION), atol=1e-5, rtol=0)


def test_graph_has_dynamic_batch_and_sequence_axes(exported):
    model, graph = exported
    shapes = {tensor.name: [dim.dim_param or dim.dim_value for dim in tensor.type.tensor_type.shape.dim]
              for tensor in onnx.load(graph.graph_path).graph.input}
    assert shapes == {name: ["batch", "sequence"] for name in INPUT_NAMES}
    export_width = model.tokenize(EXAMPLE_PAIRS)["input_ids"].shape
    long_text = " ".join(["the dog sat on a mat"] * 12)
    pairs = [[INSTRUCTION, long_text], ["", "a"], [INSTRUCTION, long_text[:40]], ["", long_text[:9]], [INSTRUCTION, "x"]]
    features = model.tokenize(pairs)
    assert features["input_ids"].shape[0] != export_width[0] and features["input_ids"].shape[1] > 2 * export_width[1]
    with torch.no_grad():
        expected = model(features)
    np.testing.assert_allclose(graph(features).numpy(), expected.numpy(), atol=1e-5, rtol=0)


def test_instruction_exclusion_is_carried_by_the_pooling_mask(exported):
    model, graph = exported
    text = "a dog runs in the park"
    instructions = ["Represent the statement: ", "Represent the science question for retrieval: "]
    ours = graph.encode([[instruction, text] for instruction in instructions])
    assert np.abs(ours[0] - ours[1]).max() > 1e-3  # two instructions, two embeddings
    np.testing.assert_allclose(ours, model.encode([[instruction, text] for instruction in instructions]), atol=1e-5, rtol=0)
    # The pooling mask is a live input: the same tokens pooled with and without the instruction differ as in torch.
    features = model.tokenize([(instructions[1], text)] * 2)
    features["pooling_mask"][1] = features["attention_mask"][1]
    with torch.no_grad():
        expected = model(features).numpy()
    got = graph(features).numpy()
    assert np.abs(got[0] - got[1]).max() > 1e-3
    np.testing.assert_allclose(got, expected, atol=1e-5, rtol=0)


def test_output_types_and_precision_follow_encode(exported):
    model, graph = exported
    tensor = graph.encode(["a", "b"], convert_to_tensor=True)
    assert isinstance(tensor, torch.Tensor) and tensor.dtype == torch.float32 and tensor.shape == (2, model.embedding_dim)
    raw = graph.encode(["a", "bb"], normalize_embeddings=False, convert_to_numpy=False)
    assert isinstance(raw, list) and len(raw) == 2
    # The graph's precision is fixed at export: a bfloat16 request runs the same float32 graph.
    np.testing.assert_array_equal(graph.encode(PAIRS, precision="bfloat16"), graph.encode(PAIRS))


def test_settings_file_and_truncation(tmp_path):
    model = tiny_bert(seed=4, max_seq_length=8, padding_side="left")
    graph = load_onnx(export_onnx(model, tmp_path))
    settings = json.loads((tmp_path / CONFIG_NAME).read_text())
    assert settings["inputs"] == list(INPUT_NAMES) and settings["max_seq_length"] == 8 and settings["padding_side"] == "left"
    assert settings["source"]["fingerprint"] == model.fingerprint() and settings["quantization"] is None
    assert graph.max_seq_length == 8 and graph.tokenizer.padding_side == "left"
    np.testing.assert_allclose(graph.encode(PAIRS), model.encode(PAIRS), atol=1e-5, rtol=0)


def test_export_keeps_the_model_mode_and_fingerprints_differ(tmp_path):
    model = tiny_bert(seed=5).train()
    first = load_onnx(export_onnx(model, tmp_path / "a"))
    assert model.training and model.encoder.training
    model.eval()
    quantized = load_onnx(export_onnx(model, tmp_path / "b", quantize="int8"))
    again = load_onnx(tmp_path / "a")
    assert first.fingerprint() == again.fingerprint()
    assert len({first.fingerprint(), quantized.fingerprint(), model.fingerprint()}) == 3


def test_t5_with_dense_quantizes(tmp_path):
    model = tiny_t5(seed=6, dense_dim=8)
    graph = load_onnx(export_onnx(model, tmp_path, quantize="int8"))
    assert any(node.op_type == "DynamicQuantizeLinear" for node in onnx.load(graph.graph_path).graph.node)
    cosines = (graph.encode(PAIRS) * model.encode(PAIRS)).sum(axis=1)
    assert cosines.min() > 0.9  # random tiny weights quantise worse than trained ones; the bound on MiniLM is below


def real_pairs(n_sts: int = 60, n_banking: int = 40) -> list[list[str]]:
    """Real STSBenchmark sentences and Banking77 queries with their official INSTRUCTOR instructions."""
    root = data_dir() / "eval"
    with open(root / "STSBenchmark" / "sts-test.csv", encoding="utf-8") as handle:
        sts = [row.split("\t")[5] for row in handle][:n_sts]
    with open(root / "Banking77Classification" / "test.csv", encoding="utf-8") as handle:
        banking = [row["text"] for row in csv.DictReader(handle)][:n_banking]
    return ([["Represent the statement: ", text] for text in sts]
            + [["Represent the bank purpose for classification: ", text] for text in banking])


@pytest.mark.slow  # ~30 s: exports and quantises the real all-MiniLM-L6-v2
def test_int8_minilm_keeps_cosine_to_float32(tmp_path):
    model = Instructor.from_pretrained()
    pairs = real_pairs()
    exact = model.encode(pairs, precision="float32")
    fast = load_onnx(export_onnx(model, tmp_path, quantize="int8")).encode(pairs)
    cosines = (fast * exact).sum(axis=1)
    assert cosines.mean() >= 0.99, f"mean cosine {cosines.mean():.4f}"
    assert (tmp_path / "model.onnx").stat().st_size < 0.4 * model.encoder.num_parameters() * 4  # int8 weights


def test_bad_use_gives_clear_errors(tmp_path):
    model = tiny_bert(seed=7)
    with pytest.raises(ValueError, match="quantize must be one of"):
        export_onnx(model, tmp_path / "x", quantize="fp16")
    with pytest.raises(FileNotFoundError, match=f"has no {CONFIG_NAME}"):
        load_onnx(tmp_path)
    with pytest.raises(ValueError, match="needs the folder"):
        load_onnx(None)
    folder = export_onnx(model, tmp_path / "ok")
    with pytest.raises(ValueError, match="runs on the CPU"):
        load_onnx(folder, device="cuda")
    graph = load_onnx(folder)
    with pytest.raises(TypeError, match="copy its folder"):
        graph.save_pretrained(tmp_path / "saved")
    with pytest.raises(TypeError, match="already runs an ONNX graph"):
        export_onnx(graph, tmp_path / "again")
    with pytest.raises(ValueError, match=r"inputs\[1\] is None"):
        graph.encode(["a", None])
    settings = json.loads((folder / CONFIG_NAME).read_text())
    (folder / CONFIG_NAME).write_text(json.dumps(settings | {"format": "other/9"}))
    with pytest.raises(ValueError, match="export the model again"):
        load_onnx(folder)
