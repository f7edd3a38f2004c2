"""The data directory from its public sources: a manifest, `fetch` and `verify`.

    python -m instructor_lib.datadir fetch [--dest DIR] [--only PREFIX ...] [--mirror PREFIX=URL ...] [--copy-url URL]
    python -m instructor_lib.datadir verify [--data-dir DIR] [--reproducible-only]
    python -m instructor_lib.datadir manifest --data-dir DIR      # regenerate the manifest (maintainers)
"""
from __future__ import annotations

import argparse
import sys

from ..config import data_cache_dir, data_dir as resolve_data_dir
from .fetching import fetch
from .manifest import MANIFEST_PATH, manifest_sha256, write_manifest
from .verification import verify


def _parse_mirrors(pairs: list[str]) -> dict[str, str]:
    mirrors = {}
    for pair in pairs:
        prefix, sep, replacement = pair.partition("=")
        if not sep:
            raise SystemExit(f"--mirror {pair!r}: expected PREFIX=URL")
        mirrors[prefix] = replacement
    return mirrors


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m instructor_lib.datadir", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    fetch_cmd = commands.add_parser("fetch", help="download the data directory from its public sources")
    fetch_cmd.add_argument("--dest", default=None, help=f"target folder (default {data_cache_dir()})")
    fetch_cmd.add_argument("--only", nargs="+", metavar="PREFIX", help="only files whose path starts so")
    fetch_cmd.add_argument("--mirror", action="append", default=[], metavar="PREFIX=URL",
                           help="replace a URL prefix, e.g. https://raw.githubusercontent.com/=http://host/gh/")
    fetch_cmd.add_argument("--copy-url", default=None, help="base URL of a verbatim copy of a whole data directory")
    fetch_cmd.add_argument("--retries", type=int, default=3)
    verify_cmd = commands.add_parser("verify", help="check a data directory against the manifest")
    verify_cmd.add_argument("--data-dir", default=None, help="default: the one config.data_dir() finds")
    verify_cmd.add_argument("--reproducible-only", action="store_true",
                            help="do not count missing files that fetch cannot reproduce (a fetched directory)")
    manifest_cmd = commands.add_parser("manifest", help="regenerate instructor_lib/data_manifest.json")
    manifest_cmd.add_argument("--data-dir", required=True)
    manifest_cmd.add_argument("--out", default=str(MANIFEST_PATH))
    return parser


def _manifest(args: argparse.Namespace) -> int:
    manifest = write_manifest(args.data_dir, args.out)
    print(f"{args.out}: {len(manifest['files'])} files, sha256 {manifest_sha256(args.out)}")
    return 0


def _verify(args: argparse.Namespace) -> int:
    report = verify(args.data_dir, reproducible_only=args.reproducible_only)
    for line in report.lines():
        print(line)
    print(f"{resolve_data_dir(args.data_dir)}: {'ok' if report.ok else 'PROBLEMS'} against manifest "
          f"{manifest_sha256()[:16]}")
    return 0 if report.ok else 1


def _fetch(args: argparse.Namespace) -> int:
    report = fetch(args.dest, args.only, _parse_mirrors(args.mirror), args.copy_url, args.retries)
    print(f"fetched {len(report.fetched)}, already present {len(report.skipped)}, failed {len(report.failed)}, "
          f"not reproducible {len(report.unreproducible)}")
    for path, why in report.failed.items():
        print(f"FAILED {path} <- {why}")
    for path, why in report.unreproducible.items():
        print(f"NOT REPRODUCIBLE {path}: {why}")
    return 0 if report.ok else 1


def main(argv: list[str] | None = None) -> int:
    """The command line; the exit status is 1 when verify finds a problem or a file could not be fetched."""
    args = _parser().parse_args(argv)
    return {"manifest": _manifest, "verify": _verify, "fetch": _fetch}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
