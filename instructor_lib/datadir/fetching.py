"""`fetch`: the data directory written from the public sources the manifest lists, through mirrors or from a
verbatim copy, each file downloaded, transformed, checked against its sha256 and placed atomically."""
from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..config import data_cache_dir
from .converters import bundle
from .manifest import load_manifest
from .steps import apply_steps
from .verification import file_matches


@dataclass
class FetchReport:
    fetched: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # path -> "url: reason"
    unreproducible: dict[str, str] = field(default_factory=dict)  # path -> reason

    @property
    def ok(self) -> bool:
        return not self.failed


def _mirrored(url: str, mirrors: dict[str, str]) -> str:
    for prefix, replacement in mirrors.items():
        if url.startswith(prefix):
            return replacement + url[len(prefix):]
    return url


def download(url: str, target: Path, timeout: float = 60.0) -> None:
    """Download `url` to `target`; a body shorter than its Content-Length is an error."""
    with urllib.request.urlopen(url, timeout=timeout) as response, open(target, "wb") as out:
        expected = response.headers.get("Content-Length")
        shutil.copyfileobj(response, out, 1 << 20)
        got = out.tell()
    if expected is not None and got != int(expected):
        raise OSError(f"truncated download: {got} of {expected} bytes")


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _raw_path(work: Path, url: str) -> Path:
    return work / hashlib.sha256(url.encode()).hexdigest()


def _downloaded(downloads: dict[str, str | None], work: Path) -> bytes:
    """The bytes the steps start from: the one download, or the bundle of a multi-file source's downloads."""
    if list(downloads.values()) == [None]:
        return _raw_path(work, next(iter(downloads))).read_bytes()
    return bundle({path: _raw_path(work, url).read_bytes() for url, path in downloads.items()})


def _fetch_one(entry: dict, dest: Path, downloads: dict[str, str | None], steps: list[dict], work: Path, retries: int,
               backoff_s: float) -> tuple[Exception | None, str]:
    """Download, transform, verify and atomically place one file; the last error (or None) and its URL."""
    target = dest / entry["path"]
    urls = list(downloads)
    error, where = None, urls[0]
    for attempt in range(1, retries + 1):
        try:
            for url in urls:
                raw, where = _raw_path(work, url), url
                if not raw.exists():  # an archive shared by several files is downloaded once
                    download(url, raw.with_suffix(".part"))
                    raw.with_suffix(".part").replace(raw)
            where = urls[0] if len(urls) == 1 else f"{urls[0]} (and {len(urls) - 1} more files)"
            data = apply_steps(_downloaded(downloads, work), steps)
            got = hashlib.sha256(data if entry["sha256_of"] == "file" else gzip.decompress(data)).hexdigest()
            want = entry["sha256"] if entry["sha256_of"] == "file" else entry["content_sha256"]
            if got != want:
                hint = _compressor_hint(entry, data)
                raise ValueError(f"sha256 {got[:12]}… differs from the manifest's {want[:12]}…{hint}")
            target.parent.mkdir(parents=True, exist_ok=True)
            temp = target.with_name(f".{target.name}.partial")
            try:
                temp.write_bytes(data)
                temp.replace(target)
            finally:
                temp.unlink(missing_ok=True)
            return None, where
        except Exception as err:  # any failure of this file is retried, then reported by name and URL
            error = err
            for url in urls:
                _raw_path(work, url).unlink(missing_ok=True)
            if attempt < retries:
                _log(f"    retry {attempt}/{retries - 1} after {type(err).__name__}: {err}")
                time.sleep(backoff_s * attempt)
    return error, where


def _compressor_hint(entry: dict, data: bytes) -> str:
    """Say so when only the compression differs: the content is right, this machine's compressor is not."""
    if "content_sha256" not in entry or hashlib.sha256(gzip.decompress(data)).hexdigest() != entry["content_sha256"]:
        return ""
    deflate = entry["steps"][-1]["deflate"]
    return (f" although the decompressed content is right: this machine's {deflate} compresses differently "
            f"({'GNU gzip 1.12' if deflate == 'gnu-gzip' else 'zlib 1.2.13'} reproduces the manifest's bytes)")


def _unreachable(error: Exception) -> bool:
    """The host could not be reached at all (no network, DNS, refused), as opposed to a bad file or an HTTP error."""
    return isinstance(error, urllib.error.URLError) and not isinstance(error, urllib.error.HTTPError)


def _remove_leftovers(dest: Path) -> None:
    """Temporary files of a fetch that was killed before it could clean up."""
    for work in dest.glob(".fetch-*"):
        shutil.rmtree(work, ignore_errors=True)
    for partial in dest.rglob(".*.partial"):
        partial.unlink()


def _plan(entry: dict, mirrors: dict[str, str],
          copy_url: str | None) -> tuple[dict[str, str | None], list[dict]] | None:
    """The downloads for a file and the steps that turn them into the file; None when not reproducible.

    Downloads map each URL to its upstream path in the bundle of a multi-file source, or to None for the one
    download of a file taken as it is."""
    if copy_url:
        return {copy_url.rstrip("/") + "/" + entry["path"]: None}, [{"op": "copy"}]
    if not entry["reproducible"]:
        return None
    source = entry["source"]
    if "urls" in source:
        return {_mirrored(url, mirrors): path for url, path in zip(source["urls"], source["paths"])}, entry["steps"]
    return {_mirrored(source["url"], mirrors): None}, entry["steps"]


def fetch(dest: str | os.PathLike | None = None, only: list[str] | None = None, mirrors: dict[str, str] | None = None,
          copy_url: str | None = None, retries: int = 3, backoff_s: float = 2.0,
          manifest: dict | None = None) -> FetchReport:
    """Write the data directory from the public sources listed in the manifest.

    Args:
        dest: target folder (default `$INSTRUCTOR_CACHE/data` or ~/.cache/instructor_lib/data, which
            `config.data_dir()` finds by itself).
        only: fetch only the files whose relative path starts with one of these prefixes.
        mirrors: URL prefix -> replacement prefix, e.g. `{"https://raw.githubusercontent.com/": "http://host/gh/"}`.
        copy_url: base URL of a verbatim copy of a whole data directory (`copy_url/<relative path>`); every file,
            the unreproducible ones included, is then taken from there unchanged.
        retries: attempts per file (a failed download or a hash mismatch is retried); once a host proved
            unreachable, its remaining files fail at once.
    A file whose hash already matches is skipped, so an interrupted fetch resumes. Each file is written to a
    temporary name next to its target and renamed only once its sha256 matches.
    """
    dest = Path(dest) if dest is not None else data_cache_dir()
    entries = [entry for entry in (manifest or load_manifest())["files"]
               if not only or any(entry["path"].startswith(prefix) for prefix in only)]
    plans = [_plan(entry, mirrors or {}, copy_url) for entry in entries]
    uses = Counter(url for plan in plans if plan for url in plan[0])  # a download is kept until its last file
    report, unreachable = FetchReport(), {}  # host -> the error that showed it unreachable
    dest.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(dest)
    with tempfile.TemporaryDirectory(prefix=".fetch-", dir=dest) as work:
        for index, (entry, plan) in enumerate(zip(entries, plans), 1):
            label = f"[{index:>{len(str(len(entries)))}}/{len(entries)}] {entry['path']}"
            target = dest / entry["path"]
            if plan:
                uses.subtract(list(plan[0]))  # its URLs (a Mapping would subtract its values)
            if target.is_file() and file_matches(target, entry):
                report.skipped.append(entry["path"])
                _log(f"{label}: present, hash matches")
                continue
            if plan is None:
                report.unreproducible[entry["path"]] = entry["reason"]
                _log(f"{label}: not fetchable ({entry['reason']})")
                continue
            downloads, steps = plan
            first = next(iter(downloads))
            host = urllib.parse.urlsplit(first).netloc
            if host in unreachable:  # without a network, fail fast instead of retrying every file
                error, url = unreachable[host], first
            else:
                error, url = _fetch_one(entry, dest, downloads, steps, Path(work), retries, backoff_s)
                for done in [download_url for download_url in downloads if not uses[download_url]]:
                    _raw_path(Path(work), done).unlink(missing_ok=True)
            if error is None:
                report.fetched.append(entry["path"])
                _log(f"{label}: fetched ({entry['size']:,} bytes)")
                continue
            if _unreachable(error):
                unreachable[host] = error
            report.failed[entry["path"]] = f"{url}: {type(error).__name__}: {error}"
            _log(f"{label}: FAILED from {report.failed[entry['path']]}")
    return report
