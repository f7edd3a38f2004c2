"""Format conversions of the `convert` step (`steps.CONVERTERS`) and the bundle that a multi-file source's
downloads become before its conversion."""
from __future__ import annotations

import io
import json
import tarfile


def _subject(message: bytes, name: str) -> str:
    """The first `Subject:` header of a Usenet message (UTF-8, else Latin-1), without the name and outer spaces."""
    try:
        text = message.decode("utf-8")
    except UnicodeDecodeError:
        text = message.decode("latin-1")
    for line in text.split("\n"):
        if not line.strip():
            break  # end of the header block
        if line.startswith("Subject:"):
            return line[len("Subject:"):].strip()
    raise ValueError(f"{name}: no Subject: header before the first blank line")


def newsgroups_subjects_jsonl(data: bytes, folder: str) -> bytes:
    """20news-19997 subjects as JSON Lines, from a repository tarball holding `folder/<newsgroup>/<doc id>`.

    One line `{"newsgroup", "doc_id", "subject"}` per message, ordered by newsgroup, then numeric doc id, as in
    eval/TwentyNewsgroupsClustering (SOURCE.md there).
    """
    messages = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
        for member in archive:
            inside = member.name.split("/", 1)[-1]  # drop the tarball's `<repo>-<commit>/`
            parts = inside[len(folder):].split("/")
            if member.isfile() and inside.startswith(folder) and len(parts) == 2:
                messages[(parts[0], int(parts[1]))] = archive.extractfile(member).read()
    if not messages:
        raise ValueError(f"the archive has no files under {folder!r}")
    lines = [json.dumps({"newsgroup": group, "doc_id": str(doc), "subject": _subject(body, f"{group}/{doc}")},
                        ensure_ascii=False) + "\n" for (group, doc), body in sorted(messages.items())]
    return "".join(lines).encode("utf-8")


def bundle(files: dict[str, bytes]) -> bytes:
    """Several downloaded files as one uncompressed tar, each member named by its upstream path."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for path, content in files.items():
            info = tarfile.TarInfo(path)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def unbundle(data: bytes) -> dict[str, str]:
    """The files of a `bundle`, decoded as UTF-8, by upstream path."""
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive:
        return {member.name: archive.extractfile(member).read().decode("utf-8")
                for member in archive if member.isfile()}

