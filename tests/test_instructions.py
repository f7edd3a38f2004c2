"""Instruction tables and complexity levels (paper Tables 7-8 template, §4.3 levels)."""
import pytest

from instructor_lib.instructions import EMBEDDING_INSTRUCTIONS, LEVELS, SYMMETRIC, embedding_instructions, superni_instruction
from instructor_lib.medi.sources import EMBEDDING_SOURCES


def test_every_source_has_instructions_in_the_unified_template():
    assert set(EMBEDDING_SOURCES) == set(EMBEDDING_INSTRUCTIONS)
    for name in EMBEDDING_INSTRUCTIONS:
        query, doc = embedding_instructions(name)
        for instruction in (query, doc):
            assert instruction.startswith("Represent the ") and instruction.endswith(": "), (name, instruction)
        # symmetric datasets embed both sides the same way; asymmetric ones tell query and document apart
        assert (query == doc) == (name in SYMMETRIC), name


def test_levels_for_an_asymmetric_dataset():
    assert embedding_instructions("NQ", "none") == ("", "")
    assert embedding_instructions("NQ", "tag") == ("Natural Questions: ", "Natural Questions: ")
    assert embedding_instructions("NQ", "simple") == ("Wikipedia question: ", "Wikipedia document: ")
    assert embedding_instructions("NQ", "detailed") == ("Represent the Wikipedia question for retrieving supporting documents: ",
                                                        "Represent the Wikipedia document for retrieval: ")
    # for every dataset: no instruction at `none`, the most words at `detailed`
    for name in EMBEDDING_INSTRUCTIONS:
        words = [len(embedding_instructions(name, level)[0].split()) for level in LEVELS]
        assert words[0] == 0 and words[-1] == max(words) > 0, name


def test_the_papers_tables_7_and_8_are_the_detailed_instructions():
    # quoted from the paper (Table 7: query; doc instruction, Table 8: one instruction), ";" and ":" ending as ": "
    assert embedding_instructions("amazon_review_2018") == ("Represent the Amazon title for retrieving relevant reviews: ",
                                                            "Represent the Amazon review for retrieval: ")
    assert embedding_instructions("code_search") == ("Represent the comment for retrieving corresponding codes: ",
                                                     "Represent the code for retrieval: ")
    assert embedding_instructions("fever") == ("Represent the fact for retrieving supporting evidence: ",
                                               "Represent the evidence for retrieval: ")
    assert embedding_instructions("flickr30k_captions")[0] == "Represent the caption for retrieving duplicate captions: "
    assert embedding_instructions("specter_train_triples")[1] == "Represent the scientific title for retrieving duplicate titles: "


def test_superni_instruction_wraps_the_definition():
    definition = "In this task, you are given a review.\n Classify it as positive or negative."
    assert superni_instruction("task1", definition) == (
        "Represent the example for the following task: In this task, you are given a review. "
        "Classify it as positive or negative: ")
    assert superni_instruction("task1", definition, ["Reviews"], "none") == ""
    assert superni_instruction("task1", definition, ["Reviews"], "tag") == "task1: "
    assert superni_instruction("task1", definition, ["Reviews"], "simple") == "Reviews example: "
    assert superni_instruction("task1", definition, [], "simple") == "example: "


def test_bad_level_and_dataset_are_named():
    with pytest.raises(ValueError, match="'verbose'"):
        embedding_instructions("NQ", "verbose")
    with pytest.raises(KeyError, match="'msmarco'"):
        embedding_instructions("msmarco")
