"""Every test computes in float32 unless it asks otherwise: "auto" would pick bfloat16 on a CPU with native bf16
(AMX, AVX-512 BF16) and float32 elsewhere, and the numerical checks compare against float32 references. Set for
the whole session, so module fixtures (the smoke notebook runs and their kernels) see it too; the tests of the
decision itself set or delete $INSTRUCTOR_PRECISION (monkeypatch) to check both ways.

Training runs go to a temporary folder ($INSTRUCTOR_RUNS_DIR), not the checkout's runs/: a test never reuses a
run that older code trained, and never leaves runs behind."""
import pytest

from instructor_lib.config import RUNS_ENV
from instructor_lib.precision import ENV_VAR


@pytest.fixture(autouse=True, scope="session")
def float32_unless_asked():
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(ENV_VAR, "float32")
        yield


@pytest.fixture(autouse=True, scope="session")
def runs_in_a_temporary_folder(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(RUNS_ENV, str(tmp_path_factory.mktemp("runs")))
        yield
