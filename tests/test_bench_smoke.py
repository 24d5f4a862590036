"""Each benchmark script runs end to end on a small input (the figures themselves are for bench/, not tests)."""
from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import REPO


@pytest.mark.parametrize("args, unit", [
    (["bench/import_accruals.py", "--records", "20000", "--baseline-records", "2000"], "records/s"),
    (["bench/import_types.py", "--records", "2000"], "records/s"),
    (["bench/export.py", "--records", "2000"], "rows/s"),
])
def test_benchmark_smoke_run(args, unit, tmp_path):
    result = subprocess.run([sys.executable, *args, "--workdir", str(tmp_path)], cwd=REPO, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "targets:" in result.stdout and unit in result.stdout
