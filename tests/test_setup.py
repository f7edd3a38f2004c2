"""The README's commands install what the tests need: `make test` brings the browser itself."""
import os
import shutil
import subprocess
from pathlib import Path

from instructor_lib.config import PROJECT_ROOT

FAKE_APT = "#!/bin/sh\necho \"$@\" >> \"$0.calls\"\n"  # shell builtins only: nothing else is on PATH


def run_browser_target(bin_dir: Path) -> subprocess.CompletedProcess:
    """`make browser` with only `bin_dir` on PATH (a fake apt-get there records what it was asked)."""
    (bin_dir / "apt-get").write_text(FAKE_APT)
    (bin_dir / "apt-get").chmod(0o755)
    (bin_dir / "id").symlink_to(shutil.which("id"))
    return subprocess.run([shutil.which("make"), "-s", "browser"], cwd=PROJECT_ROOT, capture_output=True, text=True,
                          env={"PATH": str(bin_dir), "HOME": os.environ.get("HOME", "/tmp")}, timeout=60)


def test_make_test_installs_chromium_where_it_is_missing(tmp_path):
    prerequisites = {line.split(":")[0]: line.split(":", 1)[1].split() for line in
                     (PROJECT_ROOT / "Makefile").read_text().splitlines() if line.startswith(("test:", "reproduce:"))}
    assert all("browser" in prerequisites[target] for target in ("test", "reproduce")), prerequisites
    result = run_browser_target(tmp_path)
    assert result.returncode == 0, result.stderr
    calls = (tmp_path / "apt-get.calls").read_text().splitlines()
    assert calls == ["update -qq", "install -y -qq chromium"]


def test_make_test_leaves_an_installed_chromium_alone(tmp_path):
    (tmp_path / "chromium").write_text("#!/bin/sh\n")
    (tmp_path / "chromium").chmod(0o755)
    result = run_browser_target(tmp_path)
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "apt-get.calls").exists()
