"""The official INSTRUCTOR interface (instructor_lib.compat), the InstructorEmbedding switch, and the real
LangChain and llama-index embedders running on it."""
import inspect
import logging
import sys
import types

import numpy as np
import pytest
import torch

from instructor_lib import INSTRUCTOR, Instructor
from instructor_lib import compat
from instructor_lib.tiny import tiny_bert

EPS = np.finfo(np.float32).eps
TEXTS = ["Aspirin reduces fever.", "  The cat sat on the mat. ", "Paris is the capital of France and its largest city."]
PAIRS = [["Represent the Medicine sentence for retrieval: ", TEXTS[0]], ["Represent the sentence: ", TEXTS[1]],
         ["Represent the Wikipedia document for retrieval: ", TEXTS[2]]]


def assert_close(got, expected):
    """Equal up to a few float32 ulps of the vectors' scale (embeddings of unit norm or close to it)."""
    got, expected = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    assert got.shape == expected.shape
    assert np.abs(got - expected).max() <= 8 * EPS * max(1.0, np.abs(expected).max())


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """Two saved tiny models: one with a Normalize module (as every official checkpoint), one without."""
    root = tmp_path_factory.mktemp("models")
    normalized = tiny_bert(seed=5, dense_dim=24)
    normalized.save_pretrained(root / "normalized")
    raw = tiny_bert(seed=6)
    raw.normalize = False
    raw.save_pretrained(root / "raw")
    return {"normalized": str(root / "normalized"), "raw": str(root / "raw")}


@pytest.fixture(scope="module")
def reference(folders):
    return {name: Instructor.from_pretrained(path) for name, path in folders.items()}


@pytest.fixture
def no_official_package(monkeypatch):
    """Run as if InstructorEmbedding were not installed, and remove the shim afterwards."""
    real_find_spec = compat.importlib.util.find_spec
    monkeypatch.setattr(compat.importlib.util, "find_spec",
                        lambda name, *a: None if name == compat.OFFICIAL_MODULE else real_find_spec(name, *a))
    for name in (compat.OFFICIAL_MODULE, f"{compat.OFFICIAL_MODULE}.instructor"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    yield
    for name in (compat.OFFICIAL_MODULE, f"{compat.OFFICIAL_MODULE}.instructor"):
        sys.modules.pop(name, None)


def test_signatures_and_defaults_are_the_official_ones():
    encode = inspect.signature(INSTRUCTOR.encode).parameters
    official_encode = {"sentences": inspect.Parameter.empty, "batch_size": 32, "show_progress_bar": None,
                       "output_value": "sentence_embedding", "convert_to_numpy": True, "convert_to_tensor": False,
                       "device": None, "normalize_embeddings": False}
    assert list(encode)[1:] == list(official_encode)
    assert {name: encode[name].default for name in official_encode} == official_encode
    init = inspect.signature(INSTRUCTOR.__init__).parameters
    assert [(name, init[name].default) for name in ("model_name_or_path", "device", "cache_folder")] == [
        ("model_name_or_path", None), ("device", None), ("cache_folder", None)]


def test_pairs_give_the_instructor_embeddings(folders, reference):
    model = INSTRUCTOR(folders["normalized"])
    got = model.encode(PAIRS)
    assert isinstance(got, np.ndarray) and got.dtype == np.float32 and got.shape == (3, 24)
    assert_close(got, reference["normalized"].encode(PAIRS))
    assert_close(model.encode([tuple(pair) for pair in PAIRS]), got)  # tuples are accepted like lists
    # the instruction is excluded from the mean but read by the encoder: it changes the embedding
    assert np.abs(got - model.encode([["", text] for _, text in PAIRS])).max() > 1e-3


def test_plain_strings_are_plain_mean_pooling(folders):
    """Hand computation: encoder over the stripped text, mean over all its tokens, Dense, L2 normalisation."""
    model = INSTRUCTOR(folders["normalized"])
    inner = model.model
    expected = []
    for text in TEXTS:
        features = inner.tokenizer(text.strip(), return_tensors="pt")
        with torch.no_grad():
            hidden = inner.encoder(**features).last_hidden_state[0].double()
            pooled = inner.dense.linear.weight.double() @ hidden.mean(dim=0)
        expected.append((pooled / pooled.norm()).numpy())
    assert_close(model.encode(TEXTS), np.stack(expected))
    single = model.encode(TEXTS[0])
    assert single.shape == (24,)
    assert_close(single, expected[0])


def test_normalisation_follows_the_checkpoint_unless_asked(folders, reference):
    normalized, raw = INSTRUCTOR(folders["normalized"]), INSTRUCTOR(folders["raw"])
    np.testing.assert_allclose(np.linalg.norm(normalized.encode(PAIRS), axis=1), 1.0, atol=1e-6)
    unnormalized = raw.encode(PAIRS)
    assert np.abs(np.linalg.norm(unnormalized, axis=1) - 1.0).min() > 1e-2
    assert_close(unnormalized, reference["raw"].encode(PAIRS, normalize_embeddings=False))
    asked = raw.encode(PAIRS, normalize_embeddings=True)
    assert_close(asked, unnormalized / np.linalg.norm(unnormalized, axis=1, keepdims=True))


def test_output_types(folders):
    model = INSTRUCTOR(folders["normalized"])
    as_numpy = model.encode(PAIRS)
    tensor = model.encode(PAIRS, convert_to_tensor=True, convert_to_numpy=True)  # tensor wins, as officially
    assert isinstance(tensor, torch.Tensor) and tensor.shape == (3, 24)
    as_list = model.encode(PAIRS, convert_to_numpy=False)
    assert isinstance(as_list, list) and all(isinstance(row, torch.Tensor) for row in as_list)
    assert_close(tensor.numpy(), as_numpy)
    assert_close(torch.stack(as_list).numpy(), as_numpy)
    assert model.encode([]).shape == (0, 24)
    with pytest.raises(ValueError, match="output_value"):
        model.encode(PAIRS, output_value="token_embeddings")


def test_max_seq_length_is_readable_and_settable(folders):
    model = INSTRUCTOR(folders["normalized"])
    assert model.max_seq_length == 128 == model.get_max_seq_length()
    long_pair = [["Represent the text: ", "word " * 100]]
    full = model.encode(long_pair)
    model.max_seq_length = 16
    assert model.model.max_seq_length == 16
    truncated = model.encode(long_pair)
    assert np.abs(truncated - full).max() > 1e-3
    tokens = model.tokenizer("Represent the text: " + ("word " * 100).strip())["input_ids"]
    short_text = model.tokenizer.decode(tokens[5:15])  # the text tokens that fit in 16 after [CLS] + 4 instruction tokens
    assert_close(truncated, model.encode([["Represent the text: ", short_text]]))
    with pytest.raises(ValueError, match="max_seq_length"):
        model.max_seq_length = 0


def test_constructor_keywords_of_the_integrations(folders, tmp_path, caplog):
    model = INSTRUCTOR(folders["normalized"], device="cpu", cache_folder=str(tmp_path), use_auth_token=None,
                       token="unused-for-a-local-folder", revision=None, trust_remote_code=False)
    assert model.device == torch.device("cpu") and model.get_sentence_embedding_dimension() == 24
    with caplog.at_level(logging.WARNING, logger="instructor_lib.compat"):
        INSTRUCTOR(folders["normalized"], local_files_only=True)
    assert "ignoring ['local_files_only']" in caplog.text
    with pytest.raises(TypeError, match="not_a_keyword"):
        INSTRUCTOR(folders["normalized"], not_a_keyword=1)
    with pytest.raises(ValueError, match="modules"):
        INSTRUCTOR(folders["normalized"], modules=[torch.nn.Identity()])


def test_install_makes_the_official_import_resolve_to_ours(no_official_package):
    shim = compat.install()
    from InstructorEmbedding import INSTRUCTOR as imported
    from InstructorEmbedding.instructor import INSTRUCTOR as from_submodule

    assert imported is INSTRUCTOR and from_submodule is INSTRUCTOR
    assert compat.install() is shim  # idempotent


def test_install_leaves_an_installed_official_package_alone(no_official_package, caplog):
    official = types.ModuleType(compat.OFFICIAL_MODULE)
    official.INSTRUCTOR = object
    sys.modules[compat.OFFICIAL_MODULE] = official
    with caplog.at_level(logging.WARNING, logger="instructor_lib.compat"):
        assert compat.install() is official
    assert "left in place" in caplog.text and sys.modules[compat.OFFICIAL_MODULE].INSTRUCTOR is object
    assert compat.install(replace_official=True).INSTRUCTOR is INSTRUCTOR


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_langchain_embedder_returns_our_vectors(folders, reference, no_official_package):
    compat.install()
    from langchain_community import embeddings as langchain
    ours = reference["normalized"]
    default = langchain.HuggingFaceInstructEmbeddings(model_name=folders["normalized"], model_kwargs={"device": "cpu"})
    assert isinstance(default.client, INSTRUCTOR)
    assert_close(default.embed_documents(TEXTS), ours.encode([[default.embed_instruction, text] for text in TEXTS]))
    assert_close(default.embed_query("What lowers a fever?"),
                 ours.encode([[default.query_instruction, "What lowers a fever?"]])[0])
    assert default.embed_instruction == "Represent the document for retrieval: "
    custom = langchain.HuggingFaceInstructEmbeddings(
        model_name=folders["raw"], embed_instruction="Represent the Science paragraph: ",
        query_instruction="Represent the Science question: ", encode_kwargs={"normalize_embeddings": True, "batch_size": 2})
    assert_close(custom.embed_documents(TEXTS), reference["raw"].encode([["Represent the Science paragraph: ", t] for t in TEXTS]))
    assert_close(custom.embed_query("Why is the sky blue?"),
                 reference["raw"].encode([["Represent the Science question: ", "Why is the sky blue?"]])[0])


def test_llama_index_embedder_returns_our_vectors(folders, reference, no_official_package, tmp_path, monkeypatch):
    compat.install()
    from llama_index.embeddings.instructor import InstructorEmbedding

    # llama-index picks its default instructions by model name: give the saved model an official name
    monkeypatch.chdir(tmp_path)
    (tmp_path / "hkunlp").mkdir()
    (tmp_path / "hkunlp" / "instructor-base").symlink_to(folders["normalized"])
    ours = reference["normalized"]
    default = InstructorEmbedding(model_name="hkunlp/instructor-base", embed_batch_size=2)
    assert_close(default.get_text_embedding_batch(TEXTS),
                 ours.encode([["Represent the document for retrieval: ", text] for text in TEXTS]))
    assert_close(default.get_query_embedding("What lowers a fever?"),
                 ours.encode([["Represent the question for retrieving supporting documents: ", "What lowers a fever?"]])[0])
    custom = InstructorEmbedding(model_name=folders["normalized"], query_instruction="Represent the Medicine question: ",
                                 text_instruction="Represent the Medicine document: ", device="cpu")
    assert_close(custom.get_text_embedding(TEXTS[0]), ours.encode([["Represent the Medicine document: ", TEXTS[0]]])[0])
    assert_close(custom.get_query_embedding("fever?"), ours.encode([["Represent the Medicine question: ", "fever?"]])[0])


def test_a_hub_id_is_downloaded_with_the_cache_folder_and_token(folders, monkeypatch, tmp_path):
    calls = []

    def fake_download(repo_id, revision, **kwargs):
        calls.append((repo_id, revision, kwargs))
        return folders["normalized"]

    monkeypatch.setattr(compat, "download", fake_download)
    model = INSTRUCTOR("hkunlp/instructor-large", cache_folder=str(tmp_path), use_auth_token="secret", revision="main")
    assert calls == [("hkunlp/instructor-large", "main", {"cache_dir": str(tmp_path), "token": "secret", "pytorch_bin": True})]
    assert model.model.name_or_path == "hkunlp/instructor-large"
    INSTRUCTOR("org/other", token="new-name", use_auth_token="old-name")
    assert calls[-1][2]["token"] == "new-name"  # `token` is the current keyword and wins
