"""The evaluation file readers (instructor_lib.readers): exact rows of hand-written files, errors that name the
file and line, and known rows of the real data."""
import gzip
import json
from collections import Counter

import pytest

from instructor_lib import readers
from instructor_lib.config import data_dir
from instructor_lib.readers import DataFormatError


def write(folder, name, text):
    path = folder / name
    if name.endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode("utf-8")))
    else:
        path.write_bytes(text.encode("utf-8"))  # bytes: the line ends are exactly the ones written here
    return path


# ------------------------------------------------------------------------------------------- syntax
def test_lines_and_jsonl_records(tmp_path):
    assert readers.lines(write(tmp_path, "a.txt", "one\r\ntwo\n\nthree")) == ["one", "two", "", "three"]
    assert readers.lines(write(tmp_path, "a.txt.gz", "x\ny\n")) == ["x", "y"]
    path = write(tmp_path, "a.jsonl", '{"a": 1}\n\n["b", "c"]\n')
    assert readers.jsonl_records(path) == [(1, {"a": 1}), (3, ["b", "c"])]  # line numbers count the blank line


def test_csv_records_keep_the_header_and_number_records_by_their_last_line(tmp_path):
    path = write(tmp_path, "a.csv.gz", 'text,category\n"two\nlines, one comma",x\nplain,y\n')
    assert readers.csv_records(path) == [(1, ["text", "category"]), (3, ["two\nlines, one comma", "x"]), (4, ["plain", "y"])]
    assert readers.csv_rows(path, ["category"]) == [(3, {"text": "two\nlines, one comma", "category": "x"}),
                                                    (4, {"text": "plain", "category": "y"})]


def test_tsv_rows_split_on_tab_without_quoting(tmp_path):
    path = write(tmp_path, "a.tsv", 'Sentiment\tText\nPositive\t"quoted" stays\n\nNegative\tb\n')
    assert readers.tsv_rows(path, ["Text"]) == [(2, {"Sentiment": "Positive", "Text": '"quoted" stays'}),
                                                (4, {"Sentiment": "Negative", "Text": "b"})]


# --------------------------------------------------------------------------------------- task formats
def test_sts_readers(tmp_path):
    inputs = write(tmp_path, "STS.input.x.txt", "a one\ta two\nb one\tb two\tsource\tsource\nc one\tc two\n")
    golds = write(tmp_path, "STS.gs.x.txt", "4.2\n\n0\n")  # blank = unscored pair
    assert readers.sts_pairs(inputs, golds) == [("a one", "a two", 4.2), ("c one", "c two", 0.0)]
    path = write(tmp_path, "sts-test.csv", 'main-captions\tMSRvid\t2012test\t0024\t2.500\tA "girl".\tA girl.\textra\n')
    assert readers.stsbenchmark_pairs(path) == [('A "girl".', "A girl.", 2.5)]
    path = write(tmp_path, "SICK.txt", "pair_ID\tsentence_A\tsentence_B\trelatedness_score\tentailment_judgment\n"
                                       "1\tA dog runs.\tA dog is running.\t4.5\tENTAILMENT\n")
    assert readers.sick_pairs(path) == [("A dog runs.", "A dog is running.", 4.5)]
    path = write(tmp_path, "all.tsv", 'index\tsentence1\tsentence2\tscore\n0\tFirst.\t"Holds a\tTAB"\t2.2\n')
    assert readers.biosses_pairs(path) == [("First.", "Holds a\tTAB", 2.2)]


def test_classification_readers(tmp_path):
    path = write(tmp_path, "test.txt", "text;label_name\ni feel; odd;joy\n im down ;sadness\n")
    assert readers.emotion_records(path) == [("i feel; odd", "joy"), (" im down ", "sadness")]  # the last ';' splits
    path = write(tmp_path, "test.csv", 'text,category\n"\nWhere is my card, please?",card_arrival\n')
    assert readers.banking77_records(path) == [("\nWhere is my card, please?", "card_arrival")]
    path = write(tmp_path, "EN_test.tsv", 'sentence\tis_counterfactual\n"""I wish"" it worked"\t1\nfine\t0\n')
    assert readers.amazon_counterfactual_records(path) == [('"I wish" it worked', 1), ("fine", 0)]
    path = write(tmp_path, "tweets.csv", 'textID,text,sentiment\r\nab1," leading space",neutral\r\nab2,bad day,negative\r\n')
    assert readers.tweet_sentiment_records(path) == [(" leading space", "neutral"), ("bad day", "negative")]
    path = write(tmp_path, "orig_test.tsv", "Sentiment\tText\nPositive\tGreat film.<br />Loved it\n")
    assert readers.imdb_records(path) == [("Great film.<br />Loved it", "Positive")]
    lines = [{"slurp_id": 1, "sentence": "wake me up at five", "intent": "alarm_set", "scenario": "alarm"},
             {"slurp_id": 2, "sentence": "olly quiet", "intent": "audio_volume_mute", "scenario": "audio"}]
    path = write(tmp_path, "slurp_test.jsonl.gz", "".join(json.dumps(line) + "\n" for line in lines))
    assert readers.slurp_records(path, "scenario") == [("wake me up at five", "alarm"), ("olly quiet", "audio")]


def test_pair_classification_readers(tmp_path):
    data = write(tmp_path, "test.data", "4\tTopic\tsent a\tsent b\t5\ttags\ttags\n4\tTopic\tc\td\t3\tt\tt\n4\tTopic\te\tf\t1\tt\tt\n")
    labels = write(tmp_path, "test.label", "true\t1.0\n----\t0.6\nfalse\t0.2\n")
    assert readers.twitter_semeval_pairs(data, labels) == [("sent a", "sent b", 1), ("e", "f", 0)]
    path = write(tmp_path, "url.txt", "a\tb\t(4,6)\thttp://x\n\nc\td\t(3,6)\thttp://y\ne\tf\t(2,6)\t\thttp://z\n")
    assert readers.twitter_url_pairs(path) == [("a", "b", 1), ("e", "f", 0)]  # n = 3 undecided, blank line skipped


def test_clustering_and_retrieval_readers(tmp_path):
    path = write(tmp_path, "subjects.jsonl", '{"newsgroup": "sci.space", "doc_id": "1", "subject": "Re: orbits"}\n')
    assert readers.newsgroup_subjects(path) == [("Re: orbits", "sci.space")]
    path = write(tmp_path, "arxiv.csv", "titles,summaries,terms\nA title,An abstract,\"['cs.CV', 'cs.LG']\"\n")
    assert readers.arxiv_titles(path) == [("A title", "cs.CV")]
    path = write(tmp_path, "corpus.csv.gz", "doc_id,title,abstract,structured\n"
                                            "4983,T,\"['One +/-'\n 'Two.' \"\"It's three.\"\"]\",False\n")  # CSV doubles the inner quotes
    assert readers.scifact_corpus(path) == [("4983", "T", "One +/- Two. It's three.")]
    path = write(tmp_path, "claims.csv", "id,claim,cited_doc_ids\n36,A claim.,[ 5152028 11705328]\n")
    assert readers.scifact_claims(path) == [("36", "A claim.", ["5152028", "11705328"])]
    record = {"orgq_id": "Q1", "orgq_subject": "Visa", "orgq_body": "how long? ",
              "candidates": [{"relq_id": "Q1_R1", "relq_subject": "Visa", "relq_body": "", "relevance2orgq": "Relevant"},
                             {"relq_id": "Q1_R2", "relq_subject": "Cars", "relq_body": "buy", "relevance2orgq": "Irrelevant"}]}
    path = write(tmp_path, "cqa.jsonl", json.dumps(record) + "\n")
    assert readers.semeval_cqa_questions(path) == [("Q1", "Visa how long?", [("Q1_R1", "Visa", 1), ("Q1_R2", "Cars buy", 0)])]


# -------------------------------------------------------------------------------------------- errors
MALFORMED = [  # (reader, file name, content, message expected after "<file>:")
    (readers.stsbenchmark_pairs, "sts.csv", "g\tf\t2012\t1\t2.5\ta\tb\ng\tf\t2012\t2\t2.5\tno second\n",
     r"2: expected at least 7 TAB-separated fields, got 6"),
    (readers.stsbenchmark_pairs, "sts.csv", "g\tf\t2012\t1\thigh\ta\tb\n", r"1: score 'high' is not a number"),
    (readers.sick_pairs, "sick.txt", "sentence_A\tsentence_B\trelatedness_score\na\tb\t4\nonly one\n",
     r"3: expected at least 3 TAB-separated fields"),
    (readers.sick_pairs, "sick.txt", "sentence_A\tsentence_B\n", r"1: header lacks column\(s\) \['relatedness_score'\]"),
    (readers.biosses_pairs, "all.tsv", "sentence1\tsentence2\tscore\na\tb\t1\nc\td\t1\textra\n", r"3: 4 fields, the header names 3"),
    (readers.emotion_records, "test.txt", "text;label_name\ni feel fine;joy\nno separator here\n", r"3: expected 2 fields"),
    (readers.emotion_records, "test.txt", "text;label_name\ni feel fine;joy\n ;sadness\n", r"3: empty text"),
    (readers.emotion_records, "test.txt", "text;label_name\ni feel fine;calm\n", r"2: label 'calm' is not one of"),
    (readers.emotion_records, "test.txt", "i feel fine;joy\n", r"1: expected the header 'text;label_name'"),
    (readers.banking77_records, "test.csv", 'text,category\n"a, b",card_arrival\nhello,\n', r"3: empty label"),
    (readers.banking77_records, "test.csv", 'text,category\n"two\nlines"\n', r"3: 1 fields, the header names 2"),
    (readers.amazon_counterfactual_records, "EN.tsv", "sentence\tis_counterfactual\na\t1\nb\tyes\n",
     r"3: is_counterfactual 'yes' is not one of"),
    (readers.tweet_sentiment_records, "t.csv", "textID,text,sentiment\n1,a,neutral\n2,b,angry\n", r"3: sentiment 'angry'"),
    (readers.imdb_records, "orig.tsv", "Sentiment\tText\nGood\tnice\n", r"2: Sentiment 'Good' is not one of"),
    (lambda path: readers.slurp_records(path, "intent"), "s.jsonl", '{"sentence": "a", "intent": "x"}\n{"sentence": "b"}\n',
     r"2: record lacks 'sentence' or 'intent'"),
    (readers.jsonl_records, "s.jsonl", '{"a": 1}\n{"a": \n', r"2: invalid JSON"),
    (readers.twitter_url_pairs, "url.txt", "a\tb\t(4,6)\tu\na\tb\t4 of 6\tu\n", r"2: expected 'sentence1<TAB>sentence2<TAB>\(n,6\)"),
    (readers.newsgroup_subjects, "n.jsonl", '{"subject": "a"}\n', r"1: record lacks 'subject' or 'newsgroup'"),
    (readers.arxiv_titles, "a.csv", 'titles,terms\nA,"[\'cs.CV\']"\nB,[]\n', r"3: paper 'B' has no category"),
    (readers.arxiv_titles, "a.csv", "titles,terms\nA,[cs.CV\n", r"2: terms '\[cs.CV' is not a Python list"),
    (readers.semeval_cqa_questions, "q.jsonl", '{"orgq_id": "Q1", "orgq_subject": "s", "orgq_body": "b", "candidates": [{}]}\n',
     r"1: missing field 'relq_id'"),
]


@pytest.mark.parametrize("reader, name, content, message", MALFORMED)
def test_a_malformed_line_is_an_error_naming_file_and_line(tmp_path, reader, name, content, message):
    path = write(tmp_path, name, content)
    with pytest.raises(DataFormatError, match=f"{path}:{message}"):
        reader(path)


def test_line_aligned_readers_name_the_file_that_is_off(tmp_path):
    inputs = write(tmp_path, "STS.input.x.txt", "a\tb\nno tab\n")
    golds = write(tmp_path, "STS.gs.x.txt", "1\n2\n")
    with pytest.raises(DataFormatError, match=r"STS.input.x.txt:2: expected at least 2"):
        readers.sts_pairs(inputs, golds)
    with pytest.raises(DataFormatError, match=r"STS.gs.x.txt:1: score 'high'"):
        readers.sts_pairs(inputs, write(tmp_path, "STS.gs.x.txt", "high\n"))
    with pytest.raises(DataFormatError, match=r"STS.gs.x.txt: 3 scores for 2 pairs"):
        readers.sts_pairs(inputs, write(tmp_path, "STS.gs.x.txt", "1\n2\n3\n"))
    data = write(tmp_path, "test.data", "1\tT\ta\tb\n1\tT\tc\td\n")
    with pytest.raises(DataFormatError, match=r"test.label:2: label 'maybe' is not one of"):
        readers.twitter_semeval_pairs(data, write(tmp_path, "test.label", "true\t1\nmaybe\t0.5\n"))
    with pytest.raises(DataFormatError, match=r"test.label: 1 labels for 2 pairs"):
        readers.twitter_semeval_pairs(data, write(tmp_path, "test.label", "true\t1\n"))


def test_a_file_that_is_not_utf8_is_named(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"fine\n\xff\xfe\n")
    with pytest.raises(DataFormatError, match=r"bad.txt: not UTF-8 at byte 5"):
        readers.lines(path)


# ------------------------------------------------------------------------------------------ real data
def test_real_files_give_the_rows_their_source_documents():
    eval_dir = data_dir() / "eval"
    sts = readers.stsbenchmark_pairs(eval_dir / "STSBenchmark" / "sts-test.csv")
    assert len(sts) == 1379 and sts[0] == ("A girl is styling her hair.", "A girl is brushing her hair.", 2.5)
    emotion = readers.emotion_records(eval_dir / "EmotionClassification" / "test.txt")
    assert emotion[0] == ("im feeling rather rotten so im not very ambitious right now", "sadness")
    assert Counter(label for _, label in emotion) == {"sadness": 581, "joy": 695, "love": 159, "anger": 275,
                                                      "fear": 224, "surprise": 66}  # SOURCE.md's test counts
    biosses = readers.biosses_pairs(eval_dir / "BIOSSES" / "all.tsv")  # pair 27's second sentence holds a TAB
    assert len(biosses) == 100 and biosses[27][1].endswith("Adeno-Cre virus \tGATA2 loss induces regression of established tumors")
