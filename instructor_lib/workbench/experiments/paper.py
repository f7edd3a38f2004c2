"""The paper's numbers our results are set beside (the rest of Table 2 is `evaluation.report.PAPER_TABLE2`)."""

# GTR-large, INSTRUCTOR's backbone before instruction finetuning: its MTEB category averages as the MTEB paper
# reports them (github.com/embeddings-benchmark/mtebpaper, plotstables/avg_table.txt, commit 75bf809a), checked on
# 2026-11-27. The INSTRUCTOR paper's own Table 2 could not be read offline to confirm it prints the same row.
PAPER_GTR_LARGE = {"Retrieval": 47.42, "Reranking": 55.36, "Clustering": 41.60, "PairClassification": 85.33,
                   "Classification": 67.14, "STS": 78.19, "Summarization": 29.50, "Average": 58.28}
PAPER_INSTRUCTOR = "INSTRUCTOR-large (335M)"  # its row in PAPER_TABLE2
