"""The windowed pass (Sources/GoneTrace/Pipeline/WindowedPass.swift) against one pass over
everything (`--one-pass`): a long run decided window by window must report exactly what one
pass reports, byte for byte, and fall back to one pass when a file is out of time order.
Corpus: scripts/sim/gonetrace_sim.py at a low arrival rate, so 6 MB of raw CloudWatch lines
(the formats of ../shared/reference/log-formats.md the simulator renders) span 23 hours and
the default 6-hour windows apply (the tests of windows give no budget for one pass,
`--whole-run-budget-mib 0`: so small a run fits it). Needs no moto_server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent.parent
SIM = REPO / "scripts" / "sim" / "gonetrace_sim.py"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """23.4 hours of simulated raw lines (6 MB, seed 5, 0.1 arrivals a minute: 341 injected 410s)."""
    out = tmp_path_factory.mktemp("windowed") / "lines"
    subprocess.run([sys.executable, str(SIM), "corpus", "--size", "6M", "--envelope", "lines", "--out", str(out),
                    "--truth", str(out) + ".truth.jsonl", "--seed", "5", "--rate", "0.1"],
                   check=True, capture_output=True)
    return out


def analyze(gonetrace_bin: Path, paths: list[Path], *options: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, GONETRACE_TRACE_MEMORY="1")
    r = subprocess.run([str(gonetrace_bin), "analyze", "--quiet", *options, *map(str, sorted(paths))],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 1, r.stderr  # 410s found
    return r


WINDOWS = ("--whole-run-budget-mib", "0")


def windows(r: subprocess.CompletedProcess) -> int:
    """How many windows the run decided (from its memory trace): 0 for one pass."""
    marks = [line for line in r.stderr.splitlines() if ": read at" in line and line.startswith("memory window")]
    return int(marks[-1].split(" of ")[1].split(":")[0]) if marks else 0


def test_windows_report_exactly_what_one_pass_reports(gonetrace_bin, corpus):
    files = list(corpus.iterdir())
    one = analyze(gonetrace_bin, files, "--format", "json", "--one-pass")
    assert windows(one) == 0
    windowed = analyze(gonetrace_bin, files, "--format", "json", *WINDOWS)
    assert windows(windowed) == 4  # 23.4 hours in 6-hour cores
    assert windowed.stdout == one.stdout
    report = json.loads(windowed.stdout)
    assert len(report["verdicts"]) == 341
    # Posts to connections that closed more than a margin (2 h 30 min) before: decided on the
    # timeline an earlier window wrote away, not `never-seen`.
    def ms(t: str) -> int:
        from datetime import datetime
        return int(datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp() * 1000)
    stale = [v for v in report["verdicts"] if (v.get("connection") or {}).get("disconnectedAt")
             and ms(v["time"]) - ms(v["connection"]["disconnectedAt"]) > 150 * 60_000]
    assert stale, "the corpus should hold posts to ids closed hours before"
    assert all(v["detail"] != "never-seen" for v in stale)


def test_the_text_report_and_connections_seen_agree(gonetrace_bin, corpus):
    files = list(corpus.iterdir())
    one = analyze(gonetrace_bin, files, "--format", "text", "--color", "never", "--one-pass")
    windowed = analyze(gonetrace_bin, files, "--format", "text", "--color", "never", *WINDOWS)
    assert windows(windowed) == 4
    assert "connections seen" in windowed.stdout
    assert windowed.stdout == one.stdout


def test_one_thread_and_small_cores_give_the_same_report(gonetrace_bin, corpus):
    files = list(corpus.iterdir())
    default = analyze(gonetrace_bin, files, "--format", "json", *WINDOWS)
    single = analyze(gonetrace_bin, files, "--format", "json", "--threads", "1", *WINDOWS)
    assert windows(single) == 4
    assert single.stdout == default.stdout
    # 3-hour cores: eight windows, each slice read once and decided in about two of them.
    small = analyze(gonetrace_bin, files, "--format", "json", "--window-core-hours", "3", *WINDOWS)
    assert windows(small) == 8
    assert small.stdout == default.stdout


def test_a_file_out_of_time_order_is_read_in_one_pass(gonetrace_bin, corpus, tmp_path):
    # The access log with its halves swapped: cut at a time, its pieces would hold events hours
    # outside their slice. The run sees it while reading and starts over in one pass.
    files = []
    for f in sorted(corpus.iterdir()):
        target = tmp_path / f.name
        lines = f.read_bytes().splitlines(keepends=True)
        if "access" in f.name:
            half = len(lines) // 2
            lines = lines[half:] + lines[:half]
        target.write_bytes(b"".join(lines))
        files.append(target)
    shuffled = analyze(gonetrace_bin, files, "--format", "json", *WINDOWS)
    one = analyze(gonetrace_bin, files, "--format", "json", "--one-pass")
    assert "out of time order" in shuffled.stderr
    assert "memory read at" in shuffled.stderr  # the one pass's mark
    assert shuffled.stdout == one.stdout


def test_a_run_whose_state_fits_the_budget_is_one_pass(gonetrace_bin, corpus):
    # 6 MB: its first hour says the whole run holds well under the 96 MiB budget, so it is read in
    # one pass (no windows, no `read in one pass instead` restart), with one pass's report. The
    # estimate is in the trace; a budget below it gives windows and the same report.
    files = list(corpus.iterdir())
    default = analyze(gonetrace_bin, files, "--format", "json")
    assert windows(default) == 0
    fits = [line for line in default.stderr.splitlines() if "which fits: one pass" in line]
    assert len(fits) == 1, default.stderr
    estimate = int(fits[0].split(" estimate ")[1].split(" MiB")[0])
    assert estimate < 96
    assert default.stdout == analyze(gonetrace_bin, files, "--format", "json", "--one-pass").stdout
    below = analyze(gonetrace_bin, files, "--format", "json", "--whole-run-budget-mib", str(estimate))
    assert windows(below) == 4
    assert below.stdout == default.stdout


def test_a_thin_first_hour_is_not_the_whole_sample(gonetrace_bin, corpus, tmp_path):
    # The first three hours thinned to one line in 25: the first hour holds far less than 2% of
    # the run's bytes, so the sample that estimates the run's state doubles until it holds that
    # much (or reaches the first window's end), and says how many hours it took. The report is
    # still one pass's.
    from datetime import datetime, timedelta
    def time_of(line: bytes):
        try:
            return datetime.fromisoformat(line[:23].decode() + "+00:00")
        except ValueError:
            return None
    files = sorted(corpus.iterdir())
    start = min(t for f in files for t in [time_of(f.read_bytes()[:24])] if t)
    thinned = []
    for f in files:
        kept = [line for i, line in enumerate(f.read_bytes().splitlines(keepends=True))
                if i % 25 == 0 or (time_of(line) or start) >= start + timedelta(hours=3)]
        target = tmp_path / f.name
        target.write_bytes(b"".join(kept))
        thinned.append(target)
    r = analyze(gonetrace_bin, thinned, "--format", "json")
    marks = [line for line in r.stderr.splitlines() if line.startswith("memory windows: the first ")]
    assert len(marks) == 1, r.stderr
    hours = float(marks[0].split("the first ")[1].split(" h")[0])
    assert hours >= 2.0, marks[0]
    # Without the thinning the first hour is enough.
    plain = analyze(gonetrace_bin, files, "--format", "json")
    assert [line for line in plain.stderr.splitlines() if line.startswith("memory windows: the first 1.0 h ")], plain.stderr
    assert r.stdout == analyze(gonetrace_bin, thinned, "--format", "json", "--one-pass").stdout
