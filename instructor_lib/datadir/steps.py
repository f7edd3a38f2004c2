"""The transformation steps of the manifest, a closed vocabulary (`STEPS`), and `apply_steps`, which turns the
upstream bytes into a file of the data directory (the package's docstring lists the steps)."""
from __future__ import annotations

import io
import json
import shutil
import struct
import subprocess
import zipfile
import zlib

from .converters import newsgroups_subjects_jsonl
from .instructions_json import instructions_from_official_repo


def _records(data: bytes, fmt: str) -> tuple[bytes, list[bytes]]:
    """Split a file into (header, records), each record its exact bytes."""
    if fmt != "csv":
        raise ValueError(f"unknown record format {fmt!r} (known: csv, superni_task_json)")
    lines = data.splitlines(keepends=True)
    records, current = [], b""
    for line in lines[1:]:
        current += line
        if current.count(b'"') % 2 == 0:  # a quoted field may hold a line break: the record goes on
            records.append(current)
            current = b""
    if current:
        raise ValueError("csv ends inside a quoted field")
    return lines[0], records


def _first_n_records(data: bytes, n: int, format: str) -> bytes:
    if format == "superni_task_json":
        # re-serialised as the curators did (SOURCE.md): json.dumps(indent=4, ensure_ascii=False) and a newline
        task = json.loads(data)
        task["Instances"] = task["Instances"][:n]
        return (json.dumps(task, indent=4, ensure_ascii=False) + "\n").encode("utf-8")
    header, records = _records(data, format)
    return header + b"".join(records[:n])


def _skip_n_records(data: bytes, n: int, format: str) -> bytes:
    header, records = _records(data, format)
    return header + b"".join(records[n:])


def _zip_member(data: bytes, member: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = [name for name in archive.namelist() if name == member or name.endswith("/" + member)]
        if len(names) != 1:
            raise ValueError(f"zip archive has {len(names)} members named {member!r} (expected 1)")
        return archive.read(names[0])


def _gnu_deflate(data: bytes, level: int) -> bytes:
    """Raw deflate stream of GNU gzip (`gzip -n`, 10-byte header, 8-byte trailer)."""
    if shutil.which("gzip") is None:
        raise RuntimeError("this file was compressed by GNU gzip; install `gzip` (GNU) to rebuild it bit for bit")
    out = subprocess.run(["gzip", f"-{level}", "-n", "-c"], input=data, capture_output=True, check=True).stdout
    return out[10:-8]


def _gzip(data: bytes, level: int, mtime: int, filename: str | None, os_code: int, deflate: str) -> bytes:
    if deflate == "zlib":
        compressor = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS, 8)
        body = compressor.compress(data) + compressor.flush()
    elif deflate == "gnu-gzip":
        body = _gnu_deflate(data, level)
    else:
        raise ValueError(f"unknown deflate {deflate!r} (known: zlib, gnu-gzip)")
    xfl = {9: 2, 1: 4}.get(level, 0)
    name = filename.encode("latin-1") + b"\0" if filename else b""
    header = b"\x1f\x8b\x08" + bytes([8 if filename else 0]) + struct.pack("<I", mtime) + bytes([xfl, os_code]) + name
    return header + body + struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)


CONVERTERS = {"newsgroups_subjects_jsonl": newsgroups_subjects_jsonl,
              "instructions_from_official_repo": instructions_from_official_repo}


def _convert(data: bytes, function: str, **params) -> bytes:
    if function not in CONVERTERS:
        raise ValueError(f"unknown conversion {function!r} (known: {', '.join(CONVERTERS)})")
    return CONVERTERS[function](data, **params)


STEPS = {"copy": lambda data: data, "zip_member": _zip_member, "first_n_records": _first_n_records,
         "skip_n_records": _skip_n_records, "gzip": _gzip, "convert": _convert}


def apply_steps(data: bytes, steps: list[dict]) -> bytes:
    """Apply the manifest's transformation steps, in order, to the upstream bytes."""
    for step in steps:
        params = {key: value for key, value in step.items() if key != "op"}
        if step["op"] not in STEPS:
            raise ValueError(f"unknown transformation {step['op']!r} (known: {', '.join(STEPS)})")
        data = STEPS[step["op"]](data, **params)
    return data
