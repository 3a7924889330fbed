"""The load and brute-force benchmarks, short, as CI runs them (the full runs: `python -m bench load` for 60 s
with 50 partners, `python -m bench bruteforce --seconds 60`; numbers in SECURITY.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _bench(*args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "bench", *args], cwd=ROOT, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def test_load_short_run_has_no_errors() -> None:
    out = _bench("load", "--seconds", "4", "--concurrency", "8", "--pupils", "300", "--workers", "2")
    assert "errors: 0" in out and "requests/s" in out and "p99" in out


def test_bruteforce_throttling_holds() -> None:
    out = _bench("bruteforce", "--seconds", "4", "--threads", "2")
    assert "tested keys/min" in out and "throttled (limit" in out
