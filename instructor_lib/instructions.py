"""Training instructions for MEDI in the paper's unified template, at four complexity levels.

The template (paper §2.2) is "Represent the (domain) (text type) for (task objective): ". Asymmetric datasets
have one instruction for queries and one for documents; symmetric datasets use one instruction for both.
The detailed strings are the paper's Tables 7 (asymmetric) and 8 (symmetric), word for word, even where our
local copy of a source holds other text than MEDI's (our NQ documents are short answers, our squad documents
sentences, our xsum queries summaries): the paper's instruction is what a reproduction trains with.
quora_duplicates, not in MEDI, takes the wording of its duplicate-question sets (stackexchange, WikiAnswers).
The tables separate the query and document instructions with ";"; we end each with ": " like the evaluation
instructions (eval/INSTRUCTIONS.json) the model is used with.

Complexity levels for the ablation (paper §4.3, Fig. 5):
- `none`: no instruction (empty string);
- `tag`: the dataset's name only, e.g. "Natural Questions: ";
- `simple`: one or two words naming the domain and text type, e.g. "Wikipedia question: ";
- `detailed`: the full template (the default).
"""
from __future__ import annotations

LEVELS = ("none", "tag", "simple", "detailed")
# The released models whose per-task evaluation instructions eval/INSTRUCTIONS.json holds, the default first.
PAPER_MODELS = ("hkunlp/instructor-large", "hkunlp/instructor-base", "hkunlp/instructor-xl")
SUPERNI_TEMPLATE = "Represent the example for the following task: {definition}: "  # paper Table 8

# name -> (tag, simple query, simple document, detailed query, detailed document); symmetric sets repeat the query.
# detailed: paper Table 7 (asymmetric) and Table 8 (symmetric); simple: their domain and text type.
EMBEDDING_INSTRUCTIONS: dict[str, tuple[str, str, str, str, str]] = {
    "AllNLI": ("AllNLI", "sentence", "sentence",
               "Represent the sentence for retrieving duplicate sentences: ",
               "Represent the sentence for retrieving duplicate sentences: "),
    "flickr30k_captions": ("Flickr30k captions", "caption", "caption",
                           "Represent the caption for retrieving duplicate captions: ",
                           "Represent the caption for retrieving duplicate captions: "),
    "quora_duplicates": ("Quora duplicates", "Quora question", "Quora question",
                         "Represent the Quora question for retrieving duplicate questions: ",
                         "Represent the Quora question for retrieving duplicate questions: "),
    "specter_train_triples": ("SPECTER", "scientific title", "scientific title",
                              "Represent the scientific title for retrieving duplicate titles: ",
                              "Represent the scientific title for retrieving duplicate titles: "),
    "amazon_review_2018": ("Amazon reviews", "Amazon title", "Amazon review",
                           "Represent the Amazon title for retrieving relevant reviews: ",
                           "Represent the Amazon review for retrieval: "),
    "agnews": ("AG News", "news title", "news article",
               "Represent the news title for retrieving relevant articles: ",
               "Represent the news article for retrieval: "),
    "squad_pairs": ("SQuAD", "Squad question", "Squad document",
                    "Represent the Squad question for retrieving evidence documents: ",
                    "Represent the Squad document for retrieval: "),
    "NQ": ("Natural Questions", "Wikipedia question", "Wikipedia document",
           "Represent the Wikipedia question for retrieving supporting documents: ",
           "Represent the Wikipedia document for retrieval: "),
    "fever": ("FEVER", "fact", "evidence",
              "Represent the fact for retrieving supporting evidence: ",
              "Represent the evidence for retrieval: "),
    "pubmed": ("PubMed", "Medicine sentence", "Medicine document",
               "Represent the Medicine sentence for retrieving relevant documents: ",
               "Represent the Medicine document for retrieval: "),
    "code_search": ("CodeSearchNet", "comment", "code",
                    "Represent the comment for retrieving corresponding codes: ",
                    "Represent the code for retrieval: "),
    "simple_wiki": ("Simple Wikipedia", "Wikipedia sentence", "Wikipedia sentence",
                    "Represent the Wikipedia sentence for retrieving simplified sentences: ",
                    "Represent the Wikipedia sentence for retrieval: "),
    "S2ORC_title_abstract": ("S2ORC", "Scientific title", "Scientific abstract",
                             "Represent the Scientific title for retrieving relevant abstracts: ",
                             "Represent the Scientific abstract for retrieval: "),
    "xsum": ("XSum", "news title", "news article",
             "Represent the news title for retrieving relevant articles: ",
             "Represent the news article for retrieval: "),
}

# Paper §2.3: super-NI, stackexchange, WikiAnswers, AllNLI, specter and flickr30k are symmetric; the rest
# asymmetric. quora_duplicates stands in for the duplicate-question sets, so it is symmetric too.
SYMMETRIC = frozenset({"AllNLI", "flickr30k_captions", "quora_duplicates", "specter_train_triples", "superni"})


def _check_level(level: str) -> None:
    if level not in LEVELS:
        raise ValueError(f"instruction level must be one of {LEVELS}, got {level!r}")


def embedding_instructions(dataset: str, level: str = "detailed") -> tuple[str, str]:
    """(query instruction, document instruction) of an embedding dataset at a complexity `level`.

    For a symmetric dataset both are the same string.
    """
    _check_level(level)
    if dataset not in EMBEDDING_INSTRUCTIONS:
        raise KeyError(f"no instructions for dataset {dataset!r}; known: {sorted(EMBEDDING_INSTRUCTIONS)}")
    tag, simple_query, simple_doc, detailed_query, detailed_doc = EMBEDDING_INSTRUCTIONS[dataset]
    if level == "none":
        return "", ""
    if level == "tag":
        return f"{tag}: ", f"{tag}: "
    if level == "simple":
        return f"{simple_query}: ", f"{simple_doc}: "
    return detailed_query, detailed_doc


def superni_instruction(task_name: str, definition: str, domains: list[str] | None = None,
                        level: str = "detailed") -> str:
    """Instruction for a super-NI task: the template around its Definition (paper §2.2), or a shorter level.

    Args:
        task_name: e.g. "task1565_triviaqa_classification"; the `tag` level uses it.
        definition: the task's Definition text (whitespace is collapsed; a trailing period or colon dropped).
        domains: the task's Domains; the `simple` level uses the first one ("example" when there is none).
        level: one of LEVELS.
    """
    _check_level(level)
    if level == "none":
        return ""
    if level == "tag":
        return f"{task_name}: "
    if level == "simple":
        domain = domains[0] if domains else ""
        return f"{domain} example: ".lstrip()
    return SUPERNI_TEMPLATE.format(definition=" ".join(definition.split()).rstrip(".:"))
