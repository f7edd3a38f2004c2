"""Training instructions for MEDI in the paper's unified template, at four complexity levels.

The template (paper §2.2) is "Represent the (domain) (text type) for (task objective): ". Asymmetric datasets
have one instruction for queries and one for documents; symmetric datasets use one instruction for both.
The paper's Tables 7-8 could not be read offline. The detailed strings follow the examples the official
repository's README quotes from the released MEDI (Amazon title/review, duplicate sentences, duplicate image
captions); the others are written in the same template for our data (e.g. our NQ documents are short answers,
not passages, so the instruction says "answer"). The released MEDI ends its instructions with "; Input: " or
";"; we end them with ": " like the evaluation instructions (eval/INSTRUCTIONS.json) the model is used with.

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
SUPERNI_TEMPLATE = "Represent the example for the following task: {definition}: "

# name -> (tag, simple query, simple document, detailed query, detailed document); symmetric sets repeat the query.
EMBEDDING_INSTRUCTIONS: dict[str, tuple[str, str, str, str, str]] = {
    "AllNLI": ("AllNLI", "sentence", "sentence",
               "Represent the sentence for retrieving duplicate sentences: ",  # official README
               "Represent the sentence for retrieving duplicate sentences: "),
    "flickr30k_captions": ("Flickr30k captions", "image caption", "image caption",
                           "Represent the image caption for retrieving duplicate captions: ",  # official README
                           "Represent the image caption for retrieving duplicate captions: "),
    "quora_duplicates": ("Quora duplicates", "Quora question", "Quora question",
                         "Represent the Quora question for retrieving duplicate questions: ",
                         "Represent the Quora question for retrieving duplicate questions: "),
    "specter_train_triples": ("SPECTER", "scientific title", "scientific title",
                              "Represent the scientific paper title for retrieving related paper titles: ",
                              "Represent the scientific paper title for retrieving related paper titles: "),
    "amazon_review_2018": ("Amazon reviews", "Amazon title", "Amazon review",
                           "Represent the Amazon title for retrieving relevant reviews: ",  # official README
                           "Represent the Amazon review for retrieval: "),
    "agnews": ("AG News", "news title", "news article",
               "Represent the news title for retrieving relevant articles: ",
               "Represent the news article for retrieval: "),
    "squad_pairs": ("SQuAD", "Wikipedia question", "Wikipedia sentence",
                    "Represent the Wikipedia question for retrieving supporting sentences: ",
                    "Represent the Wikipedia sentence for retrieval: "),
    "NQ": ("Natural Questions", "Wikipedia question", "Wikipedia answer",
           "Represent the Wikipedia question for retrieving its answer: ",
           "Represent the Wikipedia answer for retrieval: "),
    "fever": ("FEVER", "claim", "Wikipedia title",
              "Represent the fact-checking claim for retrieving evidence Wikipedia pages: ",
              "Represent the Wikipedia page title for retrieval: "),
    "pubmed": ("PubMed", "Medicine question", "Medicine abstract",
               "Represent the Medicine question for retrieving a relevant abstract: ",
               "Represent the Medicine abstract for retrieval: "),
    "code_search": ("CodeSearchNet", "web query", "Python code",
                    "Represent the web query for retrieving relevant Python code: ",
                    "Represent the Python code for retrieval: "),
    "simple_wiki": ("Simple Wikipedia", "Wikipedia sentence", "simple sentence",
                    "Represent the Wikipedia sentence for retrieving its simplified version: ",
                    "Represent the simplified Wikipedia sentence for retrieval: "),
    "S2ORC_title_abstract": ("S2ORC", "scientific title", "scientific abstract",
                             "Represent the scientific title for retrieving its abstract: ",
                             "Represent the scientific abstract for retrieval: "),
    "xsum": ("XSum", "news summary", "news article",
             "Represent the news summary for retrieving the full article: ",
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
