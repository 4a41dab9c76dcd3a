"""The benchmarks whose figures the README quotes still run (small sizes, no timing asserted)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _bench(script: str, *args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / script), *args],
        cwd=REPO,
        env={**os.environ, "SAMVAG_EMBEDDINGS": "off", **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_matcher_bench_prints_fastest_of_several_runs():
    out = _bench("bench_matcher.py", "--runs", "2", env={"SIZES": "100"})
    assert "fastest of 2 runs" in out
    rows = [line.split() for line in out.splitlines() if line.strip().startswith("100 ")]
    assert [r[4] for r in rows] == ["first", "repeat"]


def test_telegram_bench_runs_end_to_end_on_sqlite():
    out = _bench("bench_telegram.py", "--residents", "3", "--questions", "2", "--no-pg")
    rows = [line.split() for line in out.splitlines() if line.startswith("SQLite")]
    assert [(r[1], r[2]) for r in rows] == [("polling", "6"), ("webhook", "6")]
