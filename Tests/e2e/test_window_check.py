"""scripts/window-check, the experiment behind the time-window design (docs/streaming-correlator.md):
its windows join into the whole run's verdicts when they hold what decides them, and it says so
(exit 1, the first verdict that differs) when they do not. Needs no moto_server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent.parent
SIM = REPO / "scripts" / "sim" / "gonetrace_sim.py"
CHECK = REPO / "scripts" / "window-check"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """50 minutes of simulated raw lines (12 MB, seed 3: 223 injected 410s)."""
    out = tmp_path_factory.mktemp("window") / "lines"
    subprocess.run([sys.executable, str(SIM), "corpus", "--size", "12M", "--envelope", "lines", "--out", str(out),
                    "--truth", str(out) + ".truth.jsonl", "--seed", "3"], check=True, capture_output=True)
    return out


def check(gonetrace_bin: Path, corpus: Path, margin_minutes: int) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(CHECK), str(corpus), "--core-hours", "0.25", "--margin-minutes",
                           str(margin_minutes), "--gonetrace", str(gonetrace_bin)],
                          capture_output=True, text=True, timeout=600)


def test_windows_holding_every_cause_join_into_the_whole_run(gonetrace_bin, corpus):
    r = check(gonetrace_bin, corpus, 140)
    assert r.returncode == 0, r.stdout + r.stderr
    cores = [line for line in r.stdout.splitlines() if line.startswith("core ")]
    # Four 15-minute cores cover the 50 minutes; each verdict is kept by exactly one of them.
    assert len(cores) == 4
    kept = sum(int(line.split(", ")[-1].split()[0]) for line in cores)
    assert kept == 223
    assert "whole run: 223 verdicts; windows joined: 223; identical and in the same order: the first 223" in r.stdout


def test_windows_too_narrow_for_a_cause_are_caught(gonetrace_bin, corpus):
    # One minute either side of a 15-minute core loses connects made before it: a call to such a
    # connection is `never-seen` in its window, not what the whole run says.
    r = check(gonetrace_bin, corpus, 1)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "first difference:" in r.stdout
    window_line = next(line for line in r.stdout.splitlines() if line.strip().startswith("window:"))
    assert '"detail": "never-seen"' in window_line
