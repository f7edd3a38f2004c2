"""Every test computes in float32 unless it asks otherwise: "auto" would pick bfloat16 on a CPU with native bf16
(AMX, AVX-512 BF16) and float32 elsewhere, and the numerical checks compare against float32 references. Set for
the whole session, so module fixtures (the smoke notebook runs and their kernels) see it too; the tests of the
decision itself set or delete $INSTRUCTOR_PRECISION (monkeypatch) to check both ways."""
import pytest

from instructor_lib.precision import ENV_VAR


@pytest.fixture(autouse=True, scope="session")
def float32_unless_asked():
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(ENV_VAR, "float32")
        yield
