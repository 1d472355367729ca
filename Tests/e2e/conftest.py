"""Fixtures for the aws-CLI round-trip suite.

Session-wide: one moto_server on a free 127.0.0.1 port (always stopped at the
end), the aws CLI runner, the sample events (from scripts/sim/gonetrace_sim.py),
the CLI outputs fetched from moto, and the gonetrace binary.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
SIM_DIR = REPO / "scripts" / "sim"
sys.path.insert(0, str(HERE))

from awsmoto import (PAGE_SIZE, RUNS, TIMINGS, Aws, MotoServer, load_events, moto_version,  # noqa: E402
                     parallel, run_query, safe_name)

QUERY = "fields @timestamp, @message, @logStream, @log | sort @timestamp asc"
INSIGHTS_MAX_ROWS = 10_000

_SUITE_T0 = time.monotonic()
_SERVERS: list[MotoServer] = []


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "e2e: end-to-end test against a local moto_server and the aws CLI")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if Path(str(item.fspath)).resolve().parent == HERE:
            item.add_marker(pytest.mark.e2e)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not TIMINGS:
        return
    total = time.monotonic() - _SUITE_T0
    tr = terminalreporter
    tr.write_sep("-", "gonetrace e2e timings")
    for k, v in TIMINGS.items():
        tr.write_line(f"{k:<52} {v:8.2f} s")
    tr.write_line(f"{'suite run time (incl. collection)':<52} {total:8.2f} s")
    if RUNS:
        tr.write_line("gonetrace runs:")
        for line in RUNS:
            tr.write_line("  " + line)
    leaked = [s for s in _SERVERS if s.alive()]
    tr.write_line("moto_server stopped: " + ("NO (pid %s)" % [s.proc.pid for s in leaked]
                                             if leaked else "yes"))


def _timed(name: str):
    class _T:
        def __enter__(self):
            self.t = time.monotonic()

        def __exit__(self, *exc):
            TIMINGS[name] = TIMINGS.get(name, 0.0) + time.monotonic() - self.t
    return _T()


# --------------------------------------------------------------------------
# moto + aws
# --------------------------------------------------------------------------

@pytest.fixture(scope="session")
def moto_server(tmp_path_factory):
    with _timed("moto_server start (incl. pip if missing)"):
        server = MotoServer(log_path=tmp_path_factory.mktemp("moto") / "moto_server.log")
    _SERVERS.append(server)
    try:
        yield server
    finally:
        server.stop()
        assert not server.alive(), f"moto_server pid {server.proc.pid} survived stop()"


@pytest.fixture(scope="session")
def aws(moto_server, tmp_path_factory) -> Aws:
    return Aws(endpoint=moto_server.endpoint, home=tmp_path_factory.mktemp("awshome"))


# --------------------------------------------------------------------------
# sample events
# --------------------------------------------------------------------------

@dataclass
class Samples:
    start_ms: int
    events: list[dict]
    truth: list[dict] | None
    source: str  # "scripts/sim/gonetrace_sim.py" or "STANDIN_FALLBACK"
    sim: object | None = None


def _load_simulator():
    """The simulator module, or None if scripts/sim/gonetrace_sim.py does not exist.
    A simulator that exists but fails to import is an error, never a fallback."""
    if not (SIM_DIR / "gonetrace_sim.py").is_file():
        return None
    if str(SIM_DIR) not in sys.path:
        sys.path.insert(0, str(SIM_DIR))
    return importlib.import_module("gonetrace_sim")


def standin_fallback_samples(start_ms: int) -> tuple[list[dict], None]:
    """STAND-IN, used ONLY while scripts/sim/gonetrace_sim.py does not exist.

    Verbatim lines from shared/reference/log-formats.md (§1.4 (0), §3.10, §3.4,
    §3.3) on a tiny timeline. It has no ground truth, so the truth comparison
    fails (loudly) when this is in use.
    """
    exec_g = "API-Gateway-Execution-Logs_k7x2m9q4ab/prod"
    lam_g = "/aws/lambda/chat-broadcast"
    lam_s = "2024/05/09/[$LATEST]e6f4a0c4241adcd70c262d34c0bbc85c"
    t = start_ms
    iso = lambda ms: iso_ms_z(ms)  # noqa: E731
    rid = "4ce9340a-b765-490f-ad8a-02ab3415e2bf"
    ev = [
        (exec_g, "072b030ba126b2f4b2374f342be9ed44", t + 0,
         "(PDS1PEC4oAMFpyA=) Execution failed due to configuration error: Invalid permissions on Lambda function"),
        (exec_g, "072b030ba126b2f4b2374f342be9ed44", t + 1,
         "(PDS1PEC4oAMFpyA=) Execution failed due to configuration error: Authorizer error"),
        (exec_g, "072b030ba126b2f4b2374f342be9ed44", t + 1,
         "(PDS1PEC4oAMFpyA=) Gateway response type: AUTHORIZER_CONFIGURATION_ERROR with status code: 500"),
        (lam_g, lam_s, t + 5000, f"START RequestId: {rid} Version: $LATEST\n"),
        (lam_g, lam_s, t + 5010,
         f'{iso(t + 5010)}\t{rid}\tERROR\tInvoke Error \t{{"errorType":"GoneException","errorMessage":"410","code":"GoneException","message":"410","statusCode":410,"time":"{iso(t + 5010)}","requestId":"d184b96c-bd65-42f4-855b-ccd53c5049f4","retryable":false}}\n'),
        (lam_g, lam_s, t + 5020, f"END RequestId: {rid}\n"),
        (lam_g, lam_s, t + 5020,
         f"REPORT RequestId: {rid}\tDuration: 26.73 ms\tBilled Duration: 27 ms \tMemory Size: 128 MB\tMax Memory Used: 75 MB\t\n"),
    ]
    return ([{"logGroup": g, "logStream": s, "timestamp": ts, "message": m} for g, s, ts, m in ev],
            None)


@pytest.fixture(scope="session")
def samples() -> Samples:
    start_ms = (int(time.time()) - 3 * 3600) * 1000
    sim = _load_simulator()
    with _timed("generate sample events"):
        if sim is None:
            events, truth = standin_fallback_samples(start_ms)
            source = "STANDIN_FALLBACK"
        else:
            events, truth = sim.generate_samples(start_ms)
            source = "scripts/sim/gonetrace_sim.py"
    events = [dict(e) for e in events]
    for e in events:
        missing = {"logGroup", "logStream", "timestamp", "message"} - set(e)
        assert not missing, f"simulator event without {missing}: {e}"
        e["timestamp"] = int(e["timestamp"])
    return Samples(start_ms, events, truth, source, sim)


# --------------------------------------------------------------------------
# envelope writer ("lines": one file per group, `<ISO ms Z> <message>`)
# --------------------------------------------------------------------------

def iso_ms_z(ms: int) -> str:
    s, milli = divmod(int(ms), 1000)
    return datetime.fromtimestamp(s, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") + f".{milli:03d}Z"


def write_lines_envelope(samples: Samples, out_dir: Path) -> list[Path]:
    """One file per group in the `lines` envelope, written by the simulator's
    own writer (`write_events(events, "lines", out)`: `<ISO ms Z> <message>`,
    the message's trailing \\n dropped). Only the stand-in fallback uses the
    local copy of that format below."""
    out_dir.mkdir(parents=True, exist_ok=True)
    sim = samples.sim
    if sim is not None:
        written = sim.write_events(samples.events, "lines", str(out_dir))
        paths = sorted(Path(p) for p in written)
        assert paths, f"the simulator's lines writer wrote nothing into {out_dir}"
        return paths
    by_group: dict[str, list[dict]] = {}
    for e in samples.events:
        by_group.setdefault(e["logGroup"], []).append(e)
    paths = []
    for g, evs in by_group.items():
        p = out_dir / f"{safe_name(g)}.log"
        with open(p, "w", encoding="utf-8", newline="") as f:
            for e in sorted(evs, key=lambda e: e["timestamp"]):
                m = e["message"][:-1] if e["message"].endswith("\n") else e["message"]
                f.write(f"{iso_ms_z(e['timestamp'])} {m}\n")
        paths.append(p)
    return paths


# --------------------------------------------------------------------------
# CLI outputs fetched from moto
# --------------------------------------------------------------------------

@dataclass
class CliOutputs:
    dir: Path
    groups: dict[str, list[str]]                       # group -> streams
    counts: dict[str, int]                             # group -> events
    filter_files: dict[str, Path] = field(default_factory=dict)
    max_items_files: dict[str, Path] = field(default_factory=dict)
    get_files: dict[str, Path] = field(default_factory=dict)
    query_file: Path | None = None
    lines_files: list[Path] = field(default_factory=list)
    put_calls: int = 0


def _get_log_events_all(aws: Aws, group: str, stream: str, expected: int) -> bytes:
    """stdout of get-log-events for one stream, every page appended.

    One plain call (the newest <= 10,000 events) when that covers the stream,
    else --start-from-head and --next-token until the token repeats."""
    args = ["logs", "get-log-events", "--log-group-name", group, "--log-stream-name", stream]
    out = aws.run(*args).stdout
    if len(json.loads(out)["events"]) >= expected:
        return out
    blob, token = b"", None
    while True:
        extra = ["--start-from-head"] + (["--next-token", token] if token else [])
        page = aws.run(*args, *extra).stdout
        d = json.loads(page)
        if not d["events"]:
            return blob
        blob += page
        if d["nextForwardToken"] == token:
            return blob
        token = d["nextForwardToken"]


@pytest.fixture(scope="session")
def cli_outputs(aws: Aws, samples: Samples, tmp_path_factory) -> CliOutputs:
    root = tmp_path_factory.mktemp("cli")
    with _timed("create groups/streams + put-log-events (botocore)"):
        loaded = load_events(aws, samples.events)
    groups = loaded["groups"]
    counts = {g: 0 for g in groups}
    for e in samples.events:
        counts[e["logGroup"]] += 1
    out = CliOutputs(dir=root, groups=groups, counts=counts, put_calls=loaded["calls"])

    with _timed("fetch CLI outputs (filter/get/insights)"):
        per_stream: dict[tuple[str, str], int] = {}
        for e in samples.events:
            key = (e["logGroup"], e["logStream"])
            per_stream[key] = per_stream.get(key, 0) + 1

        def filter_paged(g: str) -> bytes:
            return aws.run("logs", "filter-log-events", "--log-group-name", g,
                           "--page-size", str(PAGE_SIZE)).stdout

        def filter_max_items(g: str) -> bytes:
            # --max-items K, then --starting-token <NextToken>, appended as `>>` would
            fle = ["logs", "filter-log-events", "--log-group-name", g, "--page-size", str(PAGE_SIZE)]
            first = aws.run(*fle, "--max-items", str(max(1, counts[g] // 2))).stdout
            token = json.loads(first).get("NextToken")
            return first + (aws.run(*fle, "--starting-token", token).stdout if token else b"")

        def get_stream(gs: tuple[str, str]) -> bytes:
            return _get_log_events_all(aws, gs[0], gs[1], per_stream[gs])

        def query(_):
            total = len(samples.events)
            assert total <= INSIGHTS_MAX_ROWS, (
                f"{total} events exceed the Logs Insights cap of {INSIGHTS_MAX_ROWS} rows per "
                "query; the suite would have to split the query by time")
            times = [e["timestamp"] for e in samples.events]
            start_s = min(times) // 1000 - 60
            end_s = max(max(times) // 1000 + 61, int(time.time()) + 60)
            return run_query(aws, list(groups), QUERY, start_s, end_s, limit=INSIGHTS_MAX_ROWS)

        streams = [(g, s) for g in groups for s in groups[g]]
        tasks = ([(filter_paged, g) for g in groups] + [(filter_max_items, g) for g in groups]
                 + [(get_stream, gs) for gs in streams] + [(query, None)])
        results = parallel(lambda t: t[0](t[1]), tasks)
        n = len(groups)
        for i, g in enumerate(groups):
            out.filter_files[g] = root / f"filter.{safe_name(g)}.json"
            out.filter_files[g].write_bytes(results[i])
            out.max_items_files[g] = root / f"filter-max-items.{safe_name(g)}.json"
            out.max_items_files[g].write_bytes(results[n + i])
        got = dict(zip(streams, results[2 * n:2 * n + len(streams)]))
        for g in groups:
            out.get_files[g] = root / f"get-log-events.{safe_name(g)}.json"
            out.get_files[g].write_bytes(b"".join(got[(g, s)] for s in groups[g]))
        started, res = results[-1]
        (root / "start-query.json").write_text(started, encoding="utf-8")
        out.query_file = root / "get-query-results.json"
        out.query_file.write_text(res, encoding="utf-8")

    with _timed("write lines envelope"):
        out.lines_files = write_lines_envelope(samples, root / "lines")
    return out


# --------------------------------------------------------------------------
# gonetrace
# --------------------------------------------------------------------------

@pytest.fixture(scope="session")
def gonetrace_bin() -> Path:
    env = os.environ.get("GONETRACE_BIN")
    if env:
        p = Path(env)
        if not (p.is_file() and os.access(p, os.X_OK)):
            pytest.fail(f"GONETRACE_BIN={env!r} is not an executable file", pytrace=False)
        return p
    swift = shutil.which("swift")
    if not swift:
        pytest.fail("gonetrace binary unavailable: `swift` is not on PATH and GONETRACE_BIN is unset",
                    pytrace=False)
    with _timed("swift build --product gonetrace"):
        try:
            r = subprocess.run([swift, "build", "--product", "gonetrace"], cwd=REPO,
                               capture_output=True, text=True, timeout=1800)
        except subprocess.TimeoutExpired:
            pytest.fail("`swift build --product gonetrace` took over 30 min; set GONETRACE_BIN",
                        pytrace=False)
    if r.returncode != 0:
        lines = (r.stdout + r.stderr).splitlines()
        errors = [ln for ln in lines if re.search(r"\berror:", ln)][:25]
        tail = "\n".join((["errors:"] + errors + ["", "last lines:"] if errors else []) + lines[-15:])
        pytest.fail(f"gonetrace binary unavailable: `swift build --product gonetrace` exited "
                    f"{r.returncode} in {REPO} (set GONETRACE_BIN to use a prebuilt binary):\n{tail}",
                    pytrace=False)
    bindir = subprocess.run([swift, "build", "--show-bin-path"], cwd=REPO,
                            capture_output=True, text=True, timeout=600).stdout.strip()
    p = Path(bindir) / "gonetrace"
    if not (p.is_file() and os.access(p, os.X_OK)):
        pytest.fail(f"`swift build` succeeded but {p} is not an executable", pytrace=False)
    return p


def pytest_report_header(config):
    try:
        return [f"moto {moto_version()}"]
    except Exception:
        return []
