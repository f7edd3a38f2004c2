"""The data manifest, `fetch` against a local HTTP mirror of upstream-shaped files, and `verify`."""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
import threading
import zipfile
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from instructor_lib import config, datadir, provenance
from instructor_lib.datadir import converters, fetching, instructions_json, manifest, steps, upstream
from instructor_lib.datadir.__main__ import main
from instructor_lib.config import PROJECT_ROOT
from instructor_lib.provenance import sha256_file

GH = "https://raw.githubusercontent.com/"
GITHUB = "https://github.com/"
BIOSSES = "eval/BIOSSES/all.tsv"
TASK_UNCUT = "train/superni/tasks/task062_bigbench_repeat_copy_logic.json.gz"  # zlib gzip of the upstream file
TASK_CUT = "train/superni/tasks/task092_check_prime_classification.json.gz"  # first 600 instances, then gzip
SLURP = "eval/MassiveIntentClassification/slurp_devel.jsonl.gz"  # GNU gzip
TWEET_TRAIN = "eval/TweetSentimentExtractionClassification/train.csv"  # upstream minus its first 3534 records
ATTRIBUTION = "eval/STS15/answers-forums-attribution/"  # 22 members of one upstream zip
SELECTION = [BIOSSES, TASK_UNCUT, TASK_CUT, SLURP, TWEET_TRAIN, ATTRIBUTION]
INSTRUCTIONS = "eval/INSTRUCTIONS.json"  # built from 14 files of xlang-ai/instructor-embedding
# verbatim excerpts of those upstream files: the statements the converter reads (fixtures/.../README.md)
INSTRUCTOR_FILES = Path(__file__).parent / "fixtures" / "instructor_embedding"


def shared_data() -> Path:
    root = Path(os.environ.get("INSTRUCTOR_DATA_DIR", PROJECT_ROOT.parent / "shared" / "data"))
    if not root.is_dir():
        pytest.fail(f"the data directory {root} is absent: set INSTRUCTOR_DATA_DIR (CI always has it)")
    return root


MANIFEST = datadir.load_manifest()
ENTRIES = {entry["path"]: entry for entry in MANIFEST["files"]}


def selected(prefixes: list[str]) -> list[dict]:
    return [e for path, e in ENTRIES.items() if any(path.startswith(prefix) for prefix in prefixes)]


# ------------------------------------------------------------------------------------- the upstream mirror
def upstream_bytes(entry: dict, data: Path) -> bytes:
    """What the upstream file (or zip member) looks like, rebuilt from the committed copy."""
    committed = (data / entry["path"]).read_bytes()
    ops = [step["op"] for step in entry["steps"]]
    content = gzip.decompress(committed) if "gzip" in ops else committed
    if "first_n_records" in ops:  # upstream had more instances than the 600 kept
        task = json.loads(content)
        extra = [{**instance, "id": f"{instance['id']}-upstream-extra"} for instance in task["Instances"][:50]]
        task["Instances"] += extra
        return json.dumps(task, indent=2).encode()
    if "skip_n_records" in ops:  # upstream = the test records (= test.csv) before the train records
        test = (data / entry["path"]).with_name("test.csv").read_bytes()
        return test + committed.split(b"\r\n", 1)[1]
    return content


def build_mirror(root: Path, data: Path, entries: list[dict]) -> None:
    """Write the upstream files of `entries` under root/gh/<repo>/<commit>/<path>, as GitHub serves them."""
    zips: dict[Path, dict[str, bytes]] = {}
    for entry in entries:
        if "urls" in entry["source"]:  # a multi-file source: the upstream files, from the test fixtures
            for url, path in zip(entry["source"]["urls"], entry["source"]["paths"]):
                target = root / "gh" / url[len(GH):]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes((INSTRUCTOR_FILES / path).read_bytes())
            continue
        url = entry["source"]["url"]
        if entry["steps"][0]["op"] == "convert":  # the repository tarball
            target = root / "archive" / url[len(GITHUB):]
            top = f"{entry['source']['repo'].split('/')[1]}-{entry['source']['commit']}"
            content = newsgroups_tarball((data / entry["path"]).read_bytes(), top)
        else:
            target = root / "gh" / url[len(GH):]
            content = upstream_bytes(entry, data)
        target.parent.mkdir(parents=True, exist_ok=True)
        if entry["steps"][0]["op"] == "zip_member":
            zips.setdefault(target, {})[entry["steps"][0]["member"]] = content
        else:
            target.write_bytes(content)
    for target, members in zips.items():
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, content in members.items():
                archive.writestr(f"{target.stem}/{name}", content)
            archive.writestr(f"{target.stem}/tsv2txt.py", b"# a member that is not copied\n")


class Mirror:
    """http.server on 127.0.0.1 (port 0) with a request log and injectable faults per path."""

    def __init__(self, root: Path):
        self.root, self.requests, self.faults = root, [], {}  # faults: path -> [kind, times left]
        mirror = self

        class Handler(SimpleHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                mirror.requests.append(self.path)
                kind, left = mirror.faults.get(self.path, (None, 0))
                if not left:
                    return super().do_GET()
                mirror.faults[self.path] = [kind, left - 1]
                body = (Path(mirror.root) / self.path.lstrip("/")).read_bytes()
                if kind == "missing":
                    return self.send_error(404)
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if kind == "corrupt":
                    self.wfile.write(body[:100] + bytes([body[100] ^ 1]) + body[101:])
                else:  # truncated: the connection closes half way
                    self.wfile.write(body[: len(body) // 2])
                    self.close_connection = True

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(root)))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def path_of(self, relpath: str) -> str:
        return "/gh/" + ENTRIES[relpath]["source"]["url"][len(GH):]

    def count(self, relpath: str) -> int:
        return self.requests.count(self.path_of(relpath))

    def fault(self, relpath: str, kind: str, times: int) -> None:
        self.faults[self.path_of(relpath)] = [kind, times]


@pytest.fixture()
def mirror(tmp_path):
    build_mirror(tmp_path / "mirror", shared_data(), selected(SELECTION))
    server = Mirror(tmp_path / "mirror")
    yield server
    server.server.shutdown()
    server.server.server_close()


def run_fetch(mirror: Mirror, dest: Path, **kwargs) -> datadir.FetchReport:
    kwargs = {"only": SELECTION, **kwargs}
    return datadir.fetch(dest, mirrors={GH: mirror.url + "/gh/", GITHUB: mirror.url + "/archive/"}, backoff_s=0.0,
                         **kwargs)


def leftovers(dest: Path) -> list[Path]:
    return [p for p in dest.rglob("*") if p.name.startswith(".")]


# ---------------------------------------------------------------------------------------------------- fetch
def test_fetch_from_mirror_reproduces_the_committed_bytes(mirror, tmp_path, capfd):
    dest = tmp_path / "data"
    report = run_fetch(mirror, dest, retries=1)
    paths = [entry["path"] for entry in selected(SELECTION)]
    assert report.ok and sorted(report.fetched) == sorted(paths) and len(paths) == 4 + 1 + 22
    for path in paths:
        assert sha256_file(dest / path) == sha256_file(shared_data() / path) == ENTRIES[path]["sha256"]
    assert mirror.count(ATTRIBUTION + "LICENSE.txt") == 1  # the zip holding 22 files is downloaded once
    assert not leftovers(dest)
    err = capfd.readouterr().err
    assert f"[ 1/{len(paths)}]" in err and err.count("fetched (") == len(paths)  # a line per file, no terminal


def test_corrupted_and_truncated_downloads_are_detected_and_retried(mirror, tmp_path, capfd):
    mirror.fault(BIOSSES, "corrupt", 1)
    mirror.fault(TWEET_TRAIN, "truncated", 1)
    report = run_fetch(mirror, tmp_path / "data")
    assert report.ok and mirror.count(BIOSSES) == 2 and mirror.count(TWEET_TRAIN) == 2
    assert sha256_file(tmp_path / "data" / BIOSSES) == ENTRIES[BIOSSES]["sha256"]
    err = capfd.readouterr().err
    assert "differs from the manifest" in err and ("truncated download" in err or "IncompleteRead" in err)


def test_failures_are_reported_by_name_and_url_without_partial_files_then_resumed(mirror, tmp_path):
    dest = tmp_path / "data"
    mirror.fault(BIOSSES, "missing", 99)
    mirror.fault(TASK_UNCUT, "corrupt", 99)
    report = run_fetch(mirror, dest, retries=2)
    assert sorted(report.failed) == sorted([BIOSSES, TASK_UNCUT])
    assert report.failed[BIOSSES].startswith(mirror.url + mirror.path_of(BIOSSES)) and "404" in report.failed[BIOSSES]
    assert "sha256" in report.failed[TASK_UNCUT]
    assert not (dest / BIOSSES).exists() and not (dest / TASK_UNCUT).exists() and not leftovers(dest)
    assert mirror.count(TASK_UNCUT) == 2  # retried
    mirror.faults.clear()
    again = run_fetch(mirror, dest)
    assert sorted(again.fetched) == sorted([BIOSSES, TASK_UNCUT]) and len(again.skipped) == len(report.fetched)
    assert mirror.count(SLURP) == 1 and datadir.verify(dest, {"files": selected(SELECTION)}).ok


def test_an_interrupted_fetch_resumes(mirror, tmp_path, monkeypatch):
    dest = tmp_path / "data"
    real_download, calls = fetching.download, []

    def interrupted(url, target, timeout=60.0):
        calls.append(url)
        if len(calls) == 3:
            target.write_bytes(b"half a file")
            raise KeyboardInterrupt
        real_download(url, target, timeout)

    monkeypatch.setattr(fetching, "download", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_fetch(mirror, dest)
    monkeypatch.setattr(fetching, "download", real_download)
    assert not leftovers(dest) and len([p for p in dest.rglob("*") if p.is_file()]) == 2
    report = run_fetch(mirror, dest)
    assert len(report.skipped) == 2 and report.ok
    assert datadir.verify(dest, {"files": selected(SELECTION)}).ok


def test_an_unreachable_host_fails_fast(tmp_path, monkeypatch):
    real_download, calls = fetching.download, []
    monkeypatch.setattr(fetching, "download", lambda url, target: calls.append(url) or real_download(url, target))
    report = datadir.fetch(tmp_path, only=["eval/STS12/STS."], mirrors={GH: "http://127.0.0.1:9/"}, retries=2,
                            backoff_s=0.0)
    assert len(report.failed) == 11 and len(calls) == 2 and not report.fetched  # 6 gs + 5 input files
    assert all("URLError" in why and why.startswith("http://127.0.0.1:9/") for why in report.failed.values())


def test_a_different_compressor_is_named(mirror, tmp_path, monkeypatch):
    zlib_level_1 = {"op": "gzip", "level": 1, "mtime": 0, "filename": None, "os_code": 3, "deflate": "zlib"}
    other_deflate = lambda data, level: steps.apply_steps(data, [zlib_level_1])[10:-8]  # noqa: E731
    monkeypatch.setattr(steps, "_gnu_deflate", other_deflate)
    report = run_fetch(mirror, tmp_path / "data", only=[SLURP], retries=1)
    assert "decompressed content is right: this machine's gnu-gzip compresses differently" in report.failed[SLURP]


def test_unreproducible_files_are_listed_with_their_reason(tmp_path):
    only = ["eval/SemEval2016CQAReranking/semeval2016_task3_ql_dev_subtaskB.jsonl", "eval/BIOSSES/SOURCE.md"]
    report = datadir.fetch(tmp_path, only=only, mirrors={GH: "http://127.0.0.1:9/"}, retries=1)
    assert sorted(report.unreproducible) == sorted(only) and "XML to JSONL" in report.unreproducible[only[0]]
    assert report.ok and not report.fetched and not list(tmp_path.rglob("*.json"))


# --------------------------------------------------------------------------------------------- transforms
def test_csv_records_keep_quoted_line_breaks():
    data = b'id,text\r\n1,"two\r\nlines"\r\n2,plain\r\n3,"a ""quote"""\r\n'
    assert steps.apply_steps(data, [{"op": "skip_n_records", "format": "csv", "n": 1}]) == (
        b'id,text\r\n2,plain\r\n3,"a ""quote"""\r\n')
    assert steps.apply_steps(data, [{"op": "first_n_records", "format": "csv", "n": 1}]) == (
        b'id,text\r\n1,"two\r\nlines"\r\n')
    with pytest.raises(ValueError, match="unknown transformation 'gunzip'"):
        steps.apply_steps(data, [{"op": "gunzip"}])


NEWSGROUPS = "eval/TwentyNewsgroupsClustering/20news-19997_subjects.jsonl"


def newsgroups_tarball(jsonl: bytes, top: str) -> bytes:
    """A repository tarball shaped like upstream's: one Usenet message per file, headers then a blank line.

    Written in shuffled order, Latin-1 where a subject allows it (upstream has 73 files that are not UTF-8)."""
    rows = [json.loads(line) for line in jsonl.splitlines()]
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=1) as archive:
        for row in rows[::-1]:
            subject = row["subject"]
            latin1 = any(ord(c) > 127 for c in subject) and all(ord(c) < 256 for c in subject)
            text = (f"Xref: cantaloupe.srv.cs.cmu.edu {row['newsgroup']}:{row['doc_id']}\nFrom: someone\n"
                    f"References: <a@b>\n            <c@d>\nSubject:  {subject} \nLines: 2\n\nSubject: not this\n")
            body = text.encode("latin-1" if latin1 else "utf-8")
            info = tarfile.TarInfo(f"{top}/20_newsgroups/{row['newsgroup']}/{row['doc_id']}")
            info.size = len(body)
            archive.addfile(info, io.BytesIO(body))
        info = tarfile.TarInfo(f"{top}/README.md")
        archive.addfile(info, io.BytesIO(b""))
    return buffer.getvalue()


def test_newsgroups_subjects_are_rebuilt_from_the_repository_tarball(tmp_path):
    build_mirror(tmp_path / "mirror", shared_data(), [ENTRIES[NEWSGROUPS]])
    server = Mirror(tmp_path / "mirror")
    try:
        report = run_fetch(server, tmp_path / "data", only=[NEWSGROUPS])
    finally:
        server.server.shutdown()
        server.server.server_close()
    assert report.fetched == [NEWSGROUPS]
    assert sha256_file(tmp_path / "data" / NEWSGROUPS) == ENTRIES[NEWSGROUPS]["sha256"]
    assert sha256_file(tmp_path / "data" / NEWSGROUPS) == sha256_file(shared_data() / NEWSGROUPS)


def instructions_mirror(tmp_path) -> Mirror:
    build_mirror(tmp_path / "mirror", shared_data(), [ENTRIES[INSTRUCTIONS]])
    return Mirror(tmp_path / "mirror")


def test_instructions_are_rebuilt_from_the_official_repository_files(tmp_path):
    server = instructions_mirror(tmp_path)
    try:
        report = run_fetch(server, tmp_path / "data", only=[INSTRUCTIONS], retries=1)
    finally:
        server.server.shutdown()
        server.server.server_close()
    assert report.ok and report.fetched == [INSTRUCTIONS]
    assert sha256_file(tmp_path / "data" / INSTRUCTIONS) == ENTRIES[INSTRUCTIONS]["sha256"]
    assert sha256_file(tmp_path / "data" / INSTRUCTIONS) == sha256_file(shared_data() / INSTRUCTIONS)
    source = ENTRIES[INSTRUCTIONS]["source"]
    assert sorted(server.requests) == sorted("/gh/" + url[len(GH):] for url in source["urls"])  # each file once
    assert len(source["paths"]) == 14 and not leftovers(tmp_path / "data")


def test_a_missing_source_file_of_the_instructions_is_named_by_its_url(tmp_path):
    server = instructions_mirror(tmp_path)
    url = next(url for url in ENTRIES[INSTRUCTIONS]["source"]["urls"] if url.endswith("/prompt_retrieval/utils.py"))
    server.faults["/gh/" + url[len(GH):]] = ["missing", 5]
    try:
        report = run_fetch(server, tmp_path / "data", only=[INSTRUCTIONS], retries=2)
    finally:
        server.server.shutdown()
        server.server.server_close()
    assert report.failed[INSTRUCTIONS].startswith(server.url + "/gh/" + url[len(GH):] + ": HTTPError")
    assert not (tmp_path / "data" / INSTRUCTIONS).exists() and not leftovers(tmp_path / "data")


def converted_instructions(files: dict[str, bytes]) -> dict:
    data = instructions_json.instructions_from_official_repo(converters.bundle(files), *upstream.INSTRUCTOR_EMBEDDING)
    return json.loads(data)


def test_instructions_are_read_as_python_data():
    files = {path: (INSTRUCTOR_FILES / path).read_bytes() for path in instructions_json.INSTRUCTIONS_SOURCES}
    instructions = converted_instructions(files)
    # implicit concatenation with no space, as Python joins it (eval/INSTRUCTIONS.md: a typo kept on purpose)
    assert instructions["mteb"]["hkunlp/instructor-base"]["MassiveIntentClassification"]["text"].startswith(
        "represent the sentence for classifying its purpose asweather_query, audio_volume_other, ")
    assert instructions["mteb"]["hkunlp/instructor-large"]["SciFact"] == {  # upstream 'corpus' is 'document'
        "query": "Represent a Scientific query for retrieving a supporting passage; ",
        "document": "represent the Scientific passage for retrieval; "}
    assert "hkunlp/instructor-xl original" not in instructions["mteb"]  # a commented-out block upstream
    assert instructions["prompt_retrieval"]["geoquery"]["instruction"] == "Represent a Geography example; Input: "
    assert list(instructions["mteb_task_types"].values()).count("Retrieval") == 26


def test_instruction_sources_of_an_unexpected_shape_are_named():
    files = {path: (INSTRUCTOR_FILES / path).read_bytes() for path in instructions_json.INSTRUCTIONS_SOURCES}
    sts = instructions_json.MTEB_DEFINITIONS["STS"]
    no_xl = files[sts].replace(b"'hkunlp/instructor-xl'", b"'hkunlp/instructor-xxl'")
    with pytest.raises(ValueError, match=r"STSEvaluator.py: models .*instructor-xxl"):
        converted_instructions({**files, sts: no_xl})
    geo = instructions_json.PROMPT_RETRIEVAL + "main_geo.py"
    twice = files[geo] + b"    extra = ['Represent it: ', text, 0]\n"
    with pytest.raises(ValueError, match=r"main_geo.py: 2 \[instruction, text, 0\] inputs"):
        converted_instructions({**files, geo: twice})
    with pytest.raises(ValueError, match=r"the bundle lacks .*main_civil.py"):
        converted_instructions({path: data for path, data in files.items() if not path.endswith("main_civil.py")})


@pytest.mark.slow
def test_every_reproducible_file_is_fetched_from_a_complete_mirror(tmp_path):
    reproducible = [entry for entry in MANIFEST["files"] if entry["reproducible"]]
    build_mirror(tmp_path / "mirror", shared_data(), reproducible)
    server = Mirror(tmp_path / "mirror")
    try:
        report = run_fetch(server, tmp_path / "data", only=None, retries=1)
    finally:
        server.server.shutdown()
        server.server.server_close()
    assert report.ok and len(report.fetched) == len(reproducible)
    assert datadir.verify(tmp_path / "data", reproducible_only=True).ok


def test_copy_url_takes_every_file_verbatim_from_a_hosted_copy(tmp_path):
    only = ["eval/INSTRUCTIONS.json", "eval/BIOSSES/", SLURP]
    server = Mirror(shared_data())
    try:
        report = datadir.fetch(tmp_path, only=only, copy_url=server.url + "/", retries=1)
    finally:
        server.server.shutdown()
        server.server.server_close()
    assert report.ok and len(report.fetched) == 4 and not report.unreproducible
    assert all(sha256_file(tmp_path / path) == sha256_file(shared_data() / path) for path in report.fetched)


def test_a_message_without_subject_is_named():
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        body = b"From: a\n\nSubject: in the body\n"
        info = tarfile.TarInfo("repo-x/20_newsgroups/sci.space/61234")
        info.size = len(body)
        archive.addfile(info, io.BytesIO(body))
    with pytest.raises(ValueError, match="sci.space/61234: no Subject"):
        converters.newsgroups_subjects_jsonl(buffer.getvalue(), "20_newsgroups/")


# ------------------------------------------------------------------------------------------------- verify
def test_verify_flags_a_changed_a_missing_and_an_extra_file(tmp_path):
    entries = selected([BIOSSES, TASK_UNCUT, SLURP])
    for entry in entries:
        (tmp_path / entry["path"]).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / entry["path"]).write_bytes((shared_data() / entry["path"]).read_bytes())
    assert datadir.verify(tmp_path, {"files": entries}).ok
    changed = bytearray((tmp_path / BIOSSES).read_bytes())
    changed[10] ^= 1
    (tmp_path / BIOSSES).write_bytes(bytes(changed))
    (tmp_path / SLURP).unlink()
    (tmp_path / "eval" / "notes.txt").write_text("mine")
    report = datadir.verify(tmp_path, {"files": entries})
    assert (report.changed, report.missing, report.extra) == ([BIOSSES], [SLURP], ["eval/notes.txt"])
    assert not report.ok


def test_verify_cli_exit_codes(tmp_path, capsys):
    assert main(["verify", "--data-dir", str(shared_data())]) == 0
    (tmp_path / "eval").mkdir()
    assert main(["verify", "--data-dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert f"missing: {BIOSSES}" in out and "missing: eval/INSTRUCTIONS.md" in out
    assert main(["verify", "--data-dir", str(tmp_path), "--reproducible-only"]) == 1
    out = capsys.readouterr().out
    assert f"missing: {BIOSSES}" in out and "missing: eval/INSTRUCTIONS.md" not in out  # curators' notes
    assert f"missing: {INSTRUCTIONS}" in out  # reproducible now


def test_decompressed_hash_accepts_any_gzip_of_the_same_content(tmp_path):
    content = (shared_data() / BIOSSES).read_bytes()
    entry = {"path": "x.tsv.gz", "size": 0, "sha256": "0" * 64, "sha256_of": "decompressed",
             "content_sha256": hashlib.sha256(content).hexdigest()}
    (tmp_path / "x.tsv.gz").write_bytes(gzip.compress(content, compresslevel=1))
    assert datadir.verify(tmp_path, {"files": [entry]}).ok
    (tmp_path / "x.tsv.gz").write_bytes(gzip.compress(content + b"\n"))
    assert datadir.verify(tmp_path, {"files": [entry]}).changed == ["x.tsv.gz"]


# ----------------------------------------------------------------------------------------------- manifest
def test_manifest_covers_every_file_of_the_data_directory():
    data = shared_data()
    on_disk = sorted(p.relative_to(data).as_posix() for p in data.rglob("*") if p.is_file())
    assert sorted(ENTRIES) == on_disk
    assert datadir.verify(data).ok
    for entry in MANIFEST["files"]:
        if entry["reproducible"] and "urls" in entry["source"]:
            source = entry["source"]
            assert source["urls"] == [upstream.GITHUB_RAW.format(path=path, **source) for path in source["paths"]]
        elif entry["reproducible"]:
            source = entry["source"]
            url = upstream.GITHUB_ARCHIVE if entry["steps"][0]["op"] == "convert" else upstream.GITHUB_RAW
            assert source["url"] == url.format(**source) and len(source["commit"]) == 40
            assert entry["steps"] and {step["op"] for step in entry["steps"]} <= set(steps.STEPS)
        else:
            assert entry["reason"]
    assert datadir.manifest_sha256() == hashlib.sha256(datadir.MANIFEST_PATH.read_bytes()).hexdigest()
    assert provenance.library_versions()["data-manifest"] == datadir.manifest_sha256()


def test_manifest_entries_regenerate_from_the_files():
    data = shared_data()
    cut = manifest.superni_cut_tasks(data)
    for path in [BIOSSES, TASK_CUT, SLURP, TWEET_TRAIN, "eval/SciFact/corpus_train.csv.gz", "eval/STS12/SOURCE.md"]:
        assert manifest.manifest_entry(data, path, cut) == ENTRIES[path]


@pytest.mark.slow
def test_the_manifest_command_regenerates_the_committed_manifest_byte_for_byte(tmp_path):
    assert main(["manifest", "--data-dir", str(shared_data()), "--out", str(tmp_path / "m.json")]) == 0
    assert (tmp_path / "m.json").read_bytes() == datadir.MANIFEST_PATH.read_bytes()


def test_data_dir_falls_back_to_the_fetched_copy(tmp_path, monkeypatch):
    monkeypatch.delenv("INSTRUCTOR_DATA_DIR", raising=False)
    monkeypatch.setenv("INSTRUCTOR_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(config, "PROJECT_ROOT", tmp_path / "clone")
    with pytest.raises(FileNotFoundError, match="instructor_lib.datadir fetch"):
        config.data_dir()
    (tmp_path / "cache" / "data").mkdir(parents=True)
    assert config.data_dir() == (tmp_path / "cache" / "data").resolve()


def test_reproduce_fetches_the_data_only_when_none_is_found(monkeypatch):
    from instructor_lib.workbench.reporting import run

    calls = []
    monkeypatch.setattr(datadir, "fetch", lambda: calls.append("fetch") or datadir.FetchReport())
    assert run.data_or_fetch() and calls == []

    def nowhere():
        raise FileNotFoundError("No data directory found")

    monkeypatch.setattr(run, "resolve_data_dir", nowhere)
    assert run.data_or_fetch() and calls == ["fetch"]
    monkeypatch.setattr(datadir, "fetch", lambda: datadir.FetchReport(failed={"x": "url: 404"}))
    assert not run.data_or_fetch()
