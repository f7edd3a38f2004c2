"""The data directory from its public sources: a manifest, `fetch` and `verify`.

`instructor_lib/data_manifest.json` lists every file of the data directory (relative path, size, sha256) and
where it comes from: the public repository, the commit, the original path, the URL (a multi-file source lists
`paths` and `urls`: fetch downloads each and the steps start from a tar bundle of them, named by upstream path),
and the transformation applied, as a list of steps from a closed vocabulary (`steps.STEPS`):
- `copy`: the upstream bytes unchanged;
- `zip_member`: one member of an upstream zip archive (`member` = its file name);
- `first_n_records` / `skip_n_records`: keep the first `n` records, or drop them, of a named record `format`;
- `convert`: a format conversion by a named function (`steps.CONVERTERS`);
- `gzip`: compress with the recorded header (`mtime`, `filename`, `os_code`) and deflate (`zlib` as Python's gzip
  module writes it, or `gnu-gzip`, the `gzip` program, whose deflate zlib does not reproduce bit for bit).
Files that no download plus declared steps reproduce (the curators' notes, the SemEval XML conversions) carry
`"reproducible": false` and a `reason`.

The modules, one job each: `upstream` (where each file comes from), `steps` (the transformations),
`converters` and `instructions_json` (the conversions), `manifest` (build, write, load, hash), `verification`
(`verify`), `fetching` (`fetch`), `__main__` (the command line: `python -m instructor_lib.datadir --help`).
"""
from .fetching import FetchReport, fetch
from .manifest import MANIFEST_PATH, load_manifest, manifest_sha256, write_manifest
from .verification import VerifyReport, verify

__all__ = ["FetchReport", "MANIFEST_PATH", "VerifyReport", "fetch", "load_manifest", "manifest_sha256", "verify",
           "write_manifest"]
