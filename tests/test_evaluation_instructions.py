"""Instruction sets: paper strings read exactly from INSTRUCTIONS.json, sides, fallbacks, paraphrases."""
import json

import pytest

from instructor_lib.config import data_dir
from instructor_lib.evaluation.instruction_sets import PARAPHRASES, get_instruction_set
from instructor_lib.evaluation.suite import TASKS


@pytest.fixture(scope="module")
def official():
    return json.loads((data_dir() / "eval" / "INSTRUCTIONS.json").read_text(encoding="utf-8"))["mteb"]


def test_paper_set_is_instructor_large_with_exact_strings(official):
    paper = get_instruction_set("paper")
    large = official["hkunlp/instructor-large"]
    assert paper.name == "paper:hkunlp/instructor-large"
    assert paper.instruction("STS13") == large["STS13"]["text"] == "represent the statement: "  # lowercase kept
    assert paper.instruction("SciFact", "query") == large["SciFact"]["query"]
    assert paper.instruction("SciFact", "document") == large["SciFact"]["document"]
    assert paper.instruction("SciFact", "document").endswith("; ")  # trailing punctuation and space kept
    for task in ("Banking77Classification", "TwitterSemEval2015", "TwentyNewsgroupsClustering", "BIOSSES"):
        assert paper.instruction(task) == large[task]["text"]


def test_paper_model_variants_follow_the_original_defaults(official):
    assert get_instruction_set("paper:hkunlp/instructor-xl").instruction("STS15") == official["hkunlp/instructor-xl"]["STS15"]["text"]
    assert get_instruction_set("paper:hkunlp/instructor-base").name == "paper:hkunlp/instructor-base"
    # the original code gave any other model name the large set; here a name that is none of the three (a typo,
    # a local model) is an error: "paper" alone is the large set
    with pytest.raises(ValueError, match=r"no paper instruction set for 'my/local-model': choose one of hkunlp/instructor-large"):
        get_instruction_set("paper:my/local-model")


def test_single_instruction_serves_both_sides_and_substitutes_use_official_task(official):
    paper = get_instruction_set("paper")
    large = official["hkunlp/instructor-large"]
    assert paper.instruction("TwitterSemEval2015-local", "query") == large["TwitterSemEval2015"]["text"]
    assert paper.instruction("AskUbuntuDupQuestions-local", "document") == large["AskUbuntuDupQuestions"]["document"]


def test_missing_task_is_an_error_not_an_empty_instruction():
    with pytest.raises(KeyError, match="NoSuchTask"):
        get_instruction_set("paper").instruction("NoSuchTask")


def test_none_and_user_sets():
    assert get_instruction_set("none").instruction("SciFact", "query") == ""
    user = get_instruction_set({"STS12": "A: ", "SciFact": {"query": "Q: ", "corpus": "D: "}, "*": "Any: "})
    assert user.instruction("STS12", "text") == "A: "
    assert user.instruction("SciFact", "document") == "D: "  # "corpus" is the original code's name for documents
    assert user.instruction("Banking77Classification") == "Any: "
    with pytest.raises(KeyError, match="sides"):
        user.instruction("SciFact", "text")  # different query/document instructions: no single "text" one
    with pytest.raises(ValueError, match="unknown side"):
        get_instruction_set({"STS12": {"passage": "x"}})
    with pytest.raises(ValueError, match="unknown instruction set"):
        get_instruction_set("paraphrase-x")


def test_paraphrase_sets_cover_every_task_with_five_distinct_template_instructions():
    official_tasks = {spec.official for spec in TASKS.values()}
    assert official_tasks <= set(PARAPHRASES)
    for task, variants in PARAPHRASES.items():
        assert len(variants) == 5
        flat = [json.dumps(v, sort_keys=True) for v in variants]
        assert len(set(flat)) == 5, task
        for variant in variants:
            for text in ([variant] if isinstance(variant, str) else variant.values()):
                assert text.startswith("Represent the ") and text.endswith(": "), (task, text)
    sets = [get_instruction_set(f"paraphrase-{i}") for i in range(1, 6)]
    assert [s.instruction("SciFact", "query") for s in sets] == [v["query"] for v in PARAPHRASES["SciFact"]]
