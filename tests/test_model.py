"""The embedder: pooling semantics against hand computations, batch invariance, save/load, ST parity, bad input."""
import dataclasses
import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from instructor_lib import Instructor, config, weights
from instructor_lib.model import as_pairs
from instructor_lib.tiny import tiny_bert, tiny_t5

from helpers import INSTRUCTION, PAIRS

BUILDERS = {"bert": tiny_bert, "t5": tiny_t5}


def hand_embedding(model, instruction, text):
    """The paper-era rule written out for one unpadded input: mean over token positions n.. of the encoder output."""
    ids = model.tokenizer(instruction + text.strip())["input_ids"]
    alone = model.tokenizer(instruction)["input_ids"]
    n = len(alone) - 1 if len(alone) - 1 > 1 else 0
    with torch.no_grad():
        hidden = model.encoder(input_ids=torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long)).last_hidden_state[0]
        pooled = hidden[n:].mean(dim=0)
        if model.dense is not None:
            pooled = model.dense(pooled)
    return F.normalize(pooled, dim=-1).numpy()


@pytest.mark.parametrize("family", ["bert", "t5"])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pooling_equals_hand_computation(family, padding_side):
    model = BUILDERS[family](padding_side=padding_side, dense_dim=8)
    got = model.encode(PAIRS, batch_size=5)
    expected = np.stack([hand_embedding(model, i, t) for i, t in PAIRS])
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_instruction_token_count_rule():
    bert, t5 = tiny_bert(), tiny_t5()
    words = bert.tokenizer.tokenize(INSTRUCTION)
    assert bert.instruction_length(INSTRUCTION) == len(words) + 1  # [CLS] + instruction; [SEP] dropped
    assert t5.instruction_length(INSTRUCTION) == len(t5.tokenizer.tokenize(INSTRUCTION))  # </s> dropped
    assert bert.instruction_length("") == 0  # [CLS][SEP] -> 1 -> excludes nothing
    assert bert.instruction_length("dog") == 2  # [CLS] dog
    assert t5.instruction_length("dog") == 0  # ▁dog </s> -> 1 -> excludes nothing
    features = bert.tokenize([(INSTRUCTION, "a dog"), ("", "a dog")])
    assert features["pooling_mask"][0].tolist() == [0] * (len(words) + 1) + [1, 1, 1]  # a, dog, [SEP]
    assert features["pooling_mask"][1].tolist() == [1, 1, 1, 1] + [0] * len(words)  # [CLS] a dog [SEP] + padding
    assert features["attention_mask"].sum().item() == (len(words) + 4) + 4  # encoder sees every real token


def test_text_is_stripped_instruction_is_not():
    model = tiny_t5()
    features = model.tokenize([(INSTRUCTION, "  a dog \n")])
    assert features["input_ids"][0].tolist() == model.tokenizer(INSTRUCTION + "a dog")["input_ids"]
    assert np.allclose(model.encode([[INSTRUCTION, " a dog "]]), model.encode([[INSTRUCTION, "a dog"]]))
    # no separator is added: the instruction's trailing space is the only space between the two parts
    assert not np.allclose(model.encode([["Represent the ", "statement: a dog"]]), model.encode([["Represent the", "statement: a dog"]]))


def test_empty_text_embeds_the_special_tokens():
    model = tiny_bert()
    features = model.tokenize([(INSTRUCTION, "")])
    assert features["pooling_mask"][0].tolist()[-1] == 1 and features["pooling_mask"].sum() == 1  # [SEP] only
    np.testing.assert_allclose(model.encode([[INSTRUCTION, ""]])[0], hand_embedding(model, INSTRUCTION, ""), atol=1e-5)


def test_truncation_counts_instruction_tokens():
    model = tiny_bert(max_seq_length=8)
    count = model.instruction_length(INSTRUCTION)  # 5
    features = model.tokenize([(INSTRUCTION, "one two three four five six seven"), (INSTRUCTION * 3, "x")])
    assert features["attention_mask"].sum(dim=1).tolist() == [8, 8]
    assert features["pooling_mask"][0].sum().item() == 8 - count
    assert features["pooling_mask"][1].tolist() == [0] * 7 + [1]  # only the final [SEP] survives


@pytest.mark.parametrize("family,padding_side", [("bert", "right"), ("bert", "left"), ("t5", "right")])
def test_embedding_does_not_depend_on_batch(family, padding_side):
    model = BUILDERS[family](padding_side=padding_side)
    pairs = [[PAIRS[i % len(PAIRS)][0], " ".join(["word"] * (i % 11)) + f" number {i}"] for i in range(30)]
    alone = np.concatenate([model.encode([p]) for p in pairs])
    for batch_size in (4, 7, 30):
        np.testing.assert_allclose(model.encode(pairs, batch_size=batch_size), alone, atol=1e-6)


def test_plain_strings_with_one_instruction_equal_pairs():
    model = tiny_bert()
    texts = [t for _, t in PAIRS]
    np.testing.assert_array_equal(model.encode(texts, instruction=INSTRUCTION), model.encode([[INSTRUCTION, t] for t in texts]))
    np.testing.assert_array_equal(model.encode(texts), model.encode([["", t] for t in texts]))


def test_output_types():
    model = tiny_bert(dense_dim=8)
    assert model.encode(["a", "b"]).dtype == np.float32
    tensor = model.encode(["a", "b"], convert_to_tensor=True)
    assert isinstance(tensor, torch.Tensor) and tensor.shape == (2, 8)
    raw = model.encode(["a", "bb"], normalize_embeddings=False, convert_to_numpy=False)
    assert isinstance(raw, list) and len(raw) == 2 and torch.allclose(raw[1].norm(), torch.tensor(1.0), atol=1e-5)


@pytest.mark.parametrize("family", ["bert", "t5"])
def test_save_load_round_trip_and_sentence_transformers_parity(tmp_path, family):
    from sentence_transformers import SentenceTransformer

    model = BUILDERS[family](dense_dim=8)
    model.save_pretrained(tmp_path, instructions={"sts": INSTRUCTION})
    texts = [t.strip() for _, t in PAIRS]
    ours = model.encode(texts, instruction=INSTRUCTION)
    np.testing.assert_allclose(Instructor.from_pretrained(tmp_path).encode(texts, instruction=INSTRUCTION), ours, atol=1e-6)
    theirs = SentenceTransformer(str(tmp_path)).encode(texts, prompt=INSTRUCTION)
    np.testing.assert_allclose(theirs, ours, atol=1e-5)
    assert json.loads((tmp_path / "config_sentence_transformers.json").read_text())["prompts"] == {"sts": INSTRUCTION}
    assert repr(INSTRUCTION) in (tmp_path / "README.md").read_text()


def test_default_backbone_matches_sentence_transformers_prompt_exclusion():
    from sentence_transformers import SentenceTransformer

    model = Instructor.from_pretrained()
    reference = SentenceTransformer(str(weights.default_model_path()), device="cpu")
    reference[1].include_prompt = False
    texts = [t.strip() for _, t in PAIRS]
    for instruction in (INSTRUCTION, "Represent the Wikipedia question for retrieving supporting documents: "):
        np.testing.assert_allclose(model.encode(texts, instruction=instruction), reference.encode(texts, prompt=instruction), atol=1e-5)
    fast = model.encode(texts, instruction=INSTRUCTION, precision="bfloat16")
    exact = model.encode(texts, instruction=INSTRUCTION)
    assert (fast * exact).sum(axis=1).min() > 0.99


def test_default_backbone_checks_its_sha256(monkeypatch):
    wrong = dataclasses.replace(weights.BACKBONES[weights.MINILM], sha256="0" * 64)
    monkeypatch.setitem(weights.BACKBONES, weights.MINILM, wrong)
    with pytest.raises(ValueError, match="expected 0000"):
        Instructor.from_pretrained()


def test_loads_plain_hf_folder(tmp_path):
    model = tiny_bert()
    model.encoder.save_pretrained(tmp_path)
    model.tokenizer.save_pretrained(tmp_path)
    loaded = Instructor.from_pretrained(tmp_path)
    assert loaded.dense is None and loaded.normalize
    np.testing.assert_allclose(loaded.encode(PAIRS), model.encode(PAIRS), atol=1e-6)


def test_loads_official_instructor_layout(tmp_path):
    """hkunlp/instructor-*: T5 encoder at the root, INSTRUCTOR_Transformer, Pooling, Dense (.bin), Normalize."""
    model = tiny_t5(dense_dim=8)
    model.encoder.save_pretrained(tmp_path)
    model.tokenizer.save_pretrained(tmp_path)
    modules = [{"idx": 0, "name": "0", "path": "", "type": "InstructorEmbedding.INSTRUCTOR_Transformer"},
               {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
               {"idx": 2, "name": "2", "path": "2_Dense", "type": "sentence_transformers.models.Dense"},
               {"idx": 3, "name": "3", "path": "3_Normalize", "type": "sentence_transformers.models.Normalize"}]
    (tmp_path / "modules.json").write_text(json.dumps(modules))
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "1_Pooling" / "config.json").write_text(json.dumps({"word_embedding_dimension": 32, "pooling_mode_mean_tokens": True}))
    (tmp_path / "2_Dense").mkdir()
    (tmp_path / "2_Dense" / "config.json").write_text(json.dumps(model.dense.config))
    torch.save(model.dense.state_dict(), tmp_path / "2_Dense" / "pytorch_model.bin")
    (tmp_path / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 64}))
    with pytest.raises(FileNotFoundError, match="allow_pytorch_bin"):
        Instructor.from_pretrained(tmp_path)
    loaded = Instructor.from_pretrained(tmp_path, allow_pytorch_bin=True)
    assert loaded.max_seq_length == 64 and loaded.normalize
    np.testing.assert_allclose(loaded.encode(PAIRS), model.encode(PAIRS), atol=1e-6)


def test_unreachable_hub_id_gives_clear_error(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(OSError, match="not a local folder"):
        Instructor.from_pretrained("hkunlp/instructor-nonexistent-test")


@pytest.mark.parametrize("inputs,kwargs,error,message", [
    ([], {}, ValueError, "empty"),
    ("a string", {}, TypeError, "list"),
    (["ok", None], {}, ValueError, r"inputs\[1\] is None"),
    (["ok", 3], {}, TypeError, r"inputs\[1\]"),
    ([["i", "t"], ["only one"]], {}, ValueError, r"inputs\[1\] must have 2 elements"),
    ([["i", "t", 0]], {}, ValueError, r"inputs\[0\] must have 2 elements"),
    ([["i", None]], {}, TypeError, r"inputs\[0\] text"),
    ([[None, "t"]], {}, TypeError, r"inputs\[0\] instruction"),
    ([["i", "t"]], {"instruction": "x"}, ValueError, r"inputs\[0\] is a pair"),
    (["t"], {"instruction": 5}, TypeError, "instruction"),
])
def test_bad_input_names_the_index(inputs, kwargs, error, message):
    with pytest.raises(error, match=message):
        as_pairs(inputs, **kwargs)


def test_bad_encode_arguments():
    model = tiny_bert()
    with pytest.raises(ValueError, match="precision"):
        model.encode(["a"], precision="float16")
    with pytest.raises(ValueError, match="batch_size"):
        model.encode(["a"], batch_size=0)


def test_data_dir_resolution(tmp_path, monkeypatch):
    monkeypatch.setenv("INSTRUCTOR_DATA_DIR", str(tmp_path))
    assert config.data_dir() == tmp_path.resolve()
    with pytest.raises(FileNotFoundError, match="INSTRUCTOR_DATA_DIR"):
        config.data_dir(tmp_path / "missing")


def test_bfloat16_copy_follows_parameter_updates():
    model = tiny_bert()
    texts = [t for _, t in PAIRS]
    before = model.encode(texts, precision="bfloat16")
    assert (before * model.encode(texts)).sum(axis=1).min() > 0.99
    assert "_bf16_encoder" not in "".join(model.state_dict())
    with torch.no_grad():
        model.encoder.embeddings.word_embeddings.weight.mul_(-1.0)  # an in-place update, as an optimizer step
    after = model.encode(texts, precision="bfloat16")
    assert not np.allclose(after, before, atol=1e-2)
    assert (after * model.encode(texts)).sum(axis=1).min() > 0.99


def test_fingerprint_changes_with_weights_and_settings_only():
    model, twin = tiny_bert(), tiny_bert()
    assert model.fingerprint() == twin.fingerprint()
    twin.max_seq_length = 64
    assert model.fingerprint() != twin.fingerprint()
    assert model.fingerprint() != tiny_bert(seed=1).fingerprint()


def test_tiny_models_follow_their_seed_and_leave_the_global_random_stream_alone():
    torch.manual_seed(5)
    expected = torch.rand(4)
    torch.manual_seed(5)
    first, second, other = tiny_bert(seed=0), tiny_bert(seed=0), tiny_t5(seed=1)
    assert torch.equal(torch.rand(4), expected)  # three models built in between, the stream did not move
    assert all(torch.equal(tensor, second.state_dict()[name]) for name, tensor in first.state_dict().items())
    assert not torch.equal(tiny_t5(seed=2).state_dict()["encoder.shared.weight"], other.state_dict()["encoder.shared.weight"])
