"""Helpers shared by the e2e suite and the CLI-fixture capture script.

Everything here talks only to a moto_server that this module starts on a
loopback port; the aws CLI always gets dummy credentials, an isolated (empty)
config and an explicit ``--endpoint-url http://127.0.0.1:<port>``.
"""

from __future__ import annotations

import atexit
import ctypes
import importlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

HOST = "127.0.0.1"
PAGE_SIZE = 5  # filter-log-events --page-size used by the e2e suite

# phase -> seconds, and one line per gonetrace run; printed by conftest's terminal summary
TIMINGS: dict[str, float] = {}
RUNS: list[str] = []


def safe_name(group: str) -> str:
    """A log group name as a file-name fragment."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", group).strip("_") or "group"

# CloudWatch Logs PutLogEvents limits (documented service quotas).
MAX_BATCH_EVENTS = 10_000
MAX_BATCH_BYTES = 1_048_576
EVENT_OVERHEAD_BYTES = 26
MAX_BATCH_SPAN_MS = 24 * 3600 * 1000 - 1


# --------------------------------------------------------------------------
# tools: moto_server and aws (installed with pip when missing)
# --------------------------------------------------------------------------

def _pip_install(*packages: str) -> None:
    base = [sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    r = subprocess.run(base + list(packages), capture_output=True, text=True)
    if r.returncode != 0:
        # Debian/Ubuntu system pythons refuse plain installs (PEP 668).
        r2 = subprocess.run(
            base + ["--user", "--break-system-packages"] + list(packages),
            capture_output=True, text=True,
        )
        if r2.returncode != 0:
            raise RuntimeError(
                f"pip install {' '.join(packages)} failed:\n{r.stderr}\n{r2.stderr}"
            )
        import site
        site.addsitedir(site.getusersitepackages())
    importlib.invalidate_caches()


def _importable(module: str) -> bool:
    r = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True)
    return r.returncode == 0


def moto_server_command() -> list[str]:
    """argv prefix that runs moto_server (installs moto[server] if needed)."""
    if not _importable("moto.server") or not _importable("flask") or not _importable("flask_cors"):
        _pip_install("moto[server]")
    if _importable("moto.server"):
        return [sys.executable, "-m", "moto.server"]
    exe = shutil.which("moto_server")
    if exe:
        return [exe]
    raise RuntimeError("moto_server is not available even after `pip install moto[server]`")


def aws_command() -> list[str]:
    """argv prefix for the aws CLI.

    GONETRACE_E2E_AWS (a command line, e.g. "aws" for a v2 binary on PATH)
    overrides; otherwise the pip package `awscli` (v1) run with this python,
    installed when missing, so the output is reproducible.
    """
    override = os.environ.get("GONETRACE_E2E_AWS")
    if override:
        return override.split()
    if not _importable("awscli"):
        _pip_install("awscli")
    if _importable("awscli"):
        return [sys.executable, "-m", "awscli"]
    exe = shutil.which("aws")
    if exe:
        return [exe]
    raise RuntimeError("aws CLI is not available even after `pip install awscli`")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------
# moto_server lifetime
# --------------------------------------------------------------------------

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # runs in the child between fork and exec
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except Exception:
        pass


class MotoServer:
    """A moto_server on a free loopback port, stopped by stop() / atexit /
    parent death (Linux PR_SET_PDEATHSIG), whichever comes first."""

    def __init__(self, log_path: Path | None = None, start_timeout: float = 60.0):
        self.port = free_port()
        self.endpoint = f"http://{HOST}:{self.port}"
        self.log_path = log_path or Path(tempfile.mkstemp(prefix="moto-", suffix=".log")[1])
        self._log = open(self.log_path, "wb")
        cmd = moto_server_command() + ["-H", HOST, "-p", str(self.port)]
        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group: stop() kills only what we started
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )
        atexit.register(self.stop)
        try:
            self._wait_ready(start_timeout)
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"moto_server exited with {self.proc.returncode}:\n{self.log_text()}"
                )
            try:
                with urllib.request.urlopen(f"{self.endpoint}/moto-api/data.json", timeout=2) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, OSError) as e:
                last = e
            time.sleep(0.1)
        raise TimeoutError(f"moto_server not answering on {self.endpoint} after {timeout}s: {last}")

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def reset(self) -> None:
        req = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")
        urllib.request.urlopen(req, timeout=10).read()

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc.poll() is None:
            for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
                try:
                    os.killpg(self.proc.pid, sig)  # the group we created, nothing else
                except ProcessLookupError:
                    break
                try:
                    self.proc.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        if not self._log.closed:
            self._log.close()
        try:
            atexit.unregister(self.stop)
        except Exception:
            pass


# --------------------------------------------------------------------------
# aws CLI runner
# --------------------------------------------------------------------------

@dataclass
class Aws:
    endpoint: str
    home: Path  # isolated config dir
    argv0: list[str] = field(default_factory=aws_command)
    region: str = "us-east-1"
    timeout: float = 300.0

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        self.home.mkdir(parents=True, exist_ok=True)
        env.update(
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_SESSION_TOKEN="testing",
            AWS_DEFAULT_REGION=self.region,
            AWS_CONFIG_FILE=str(self.home / "config"),  # absent: no user profile/output settings
            AWS_SHARED_CREDENTIALS_FILE=str(self.home / "credentials"),
            AWS_PAGER="",  # only meaningful for a v2 override
            AWS_EC2_METADATA_DISABLED="true",
            PYTHONIOENCODING="utf-8",
        )
        return env

    def run(self, *args: str, check: bool = True, stdout=None) -> subprocess.CompletedProcess:
        cmd = self.argv0 + list(args) + ["--endpoint-url", self.endpoint]
        r = subprocess.run(
            cmd, env=self.env(), timeout=self.timeout,
            stdout=stdout if stdout is not None else subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        if check and r.returncode != 0:
            raise RuntimeError(
                f"aws {' '.join(args)} exited {r.returncode}:\n"
                f"{r.stderr.decode('utf-8', 'replace')}"
            )
        return r

    def text(self, *args: str) -> str:
        """stdout, decoded as UTF-8 (the bytes are kept verbatim by callers that need them)."""
        return self.run(*args).stdout.decode("utf-8")

    def json(self, *args: str):
        out = self.text(*args)
        return json.loads(out) if out.strip() else None

    def version(self) -> str:
        r = subprocess.run(self.argv0 + ["--version"], env=self.env(), capture_output=True, text=True)
        return (r.stdout + r.stderr).strip()


def moto_version() -> str:
    r = subprocess.run(
        [sys.executable, "-c", "import importlib.metadata as m; print(m.version('moto'))"],
        capture_output=True, text=True,
    )
    return r.stdout.strip()


# --------------------------------------------------------------------------
# loading events
# --------------------------------------------------------------------------

# concurrent aws CLI processes: each is ~0.5 s of CPU (botocore import + model
# load), so more workers than cores only slows moto_server down (measured)
CLI_WORKERS = max(2, os.cpu_count() or 2)


def parallel(fn, items, workers: int = CLI_WORKERS) -> list:
    """[fn(x) for x in items], run concurrently, results in order; first error re-raised."""
    items = list(items)
    if len(items) <= 1 or workers <= 1:
        return [fn(x) for x in items]
    with ThreadPoolExecutor(max_workers=min(workers, len(items))) as ex:
        return list(ex.map(fn, items))

def _batches(events: list[dict]):
    """Split time-sorted events of one stream into PutLogEvents-legal batches."""
    batch: list[dict] = []
    size = 0
    for e in events:
        esize = len(e["message"].encode("utf-8")) + EVENT_OVERHEAD_BYTES
        if batch and (
            len(batch) >= MAX_BATCH_EVENTS
            or size + esize > MAX_BATCH_BYTES
            or e["timestamp"] - batch[0]["timestamp"] > MAX_BATCH_SPAN_MS
        ):
            yield batch
            batch, size = [], 0
        batch.append(e)
        size += esize
    if batch:
        yield batch


def logs_client(aws: Aws):
    """A botocore CloudWatch Logs client for the same moto endpoint and dummy
    credentials (loading only: every output gonetrace reads comes from the CLI)."""
    if not _importable("botocore"):
        _pip_install("botocore")
    import botocore.session
    from botocore.config import Config

    return botocore.session.get_session().create_client(
        "logs", region_name=aws.region, endpoint_url=aws.endpoint,
        aws_access_key_id="testing", aws_secret_access_key="testing", aws_session_token="testing",
        config=Config(retries={"max_attempts": 1}),
    )


def load_events(aws: Aws, events: list[dict]) -> dict:
    """Create every group/stream and put all events with PutLogEvents (sorted by
    time per stream, stable for equal timestamps; batches within the service
    limits). Raises if any event is rejected.

    Uses botocore in-process (one CLI process per call would cost ~0.7 s each;
    the API calls and moto's handling are the same). Calls are sequential:
    moto numbers events with an unlocked class counter.

    Returns {"groups": {group: [stream, ...]}, "calls": n, "events": n}.
    """
    by_stream: dict[tuple[str, str], list[dict]] = {}
    for e in events:
        by_stream.setdefault((e["logGroup"], e["logStream"]), []).append(e)
    groups: dict[str, list[str]] = {}
    for g, s in by_stream:
        groups.setdefault(g, []).append(s)

    client = logs_client(aws)
    for g in groups:
        client.create_log_group(logGroupName=g)
    calls = 0
    for (g, s), evs in by_stream.items():
        client.create_log_stream(logGroupName=g, logStreamName=s)
        evs = sorted(evs, key=lambda e: e["timestamp"])  # stable
        for batch in _batches(evs):
            calls += 1
            resp = client.put_log_events(
                logGroupName=g, logStreamName=s,
                logEvents=[{"timestamp": int(e["timestamp"]), "message": e["message"]} for e in batch],
            )
            if resp.get("rejectedLogEventsInfo"):
                raise AssertionError(
                    f"put-log-events rejected events in {g} / {s}: {resp['rejectedLogEventsInfo']}"
                )
    return {"groups": groups, "calls": calls, "events": len(events)}


def run_query(aws: Aws, groups: list[str], query: str, start_s: int, end_s: int,
              limit: int = 10_000, poll_timeout: float = 60.0) -> tuple[str, str]:
    """start-query + get-query-results polled until Complete.

    Returns (start-query stdout, final get-query-results stdout), verbatim.
    """
    args = ["logs", "start-query", "--start-time", str(start_s), "--end-time", str(end_s),
            "--query-string", query, "--limit", str(limit)]
    args += ["--log-group-names", *groups]
    started = aws.text(*args)
    qid = json.loads(started)["queryId"]
    deadline = time.monotonic() + poll_timeout
    while True:
        out = aws.text("logs", "get-query-results", "--query-id", qid)
        status = json.loads(out)["status"]
        if status == "Complete":
            return started, out
        if status in ("Failed", "Cancelled", "Timeout", "Unknown"):
            raise RuntimeError(f"query {qid} ended {status}: {out}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"query {qid} still {status} after {poll_timeout}s")
        time.sleep(0.5)


def json_sequence(data: bytes | str) -> list:
    """Every top-level JSON value in data (outputs appended with `>>`)."""
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    dec, i, out = json.JSONDecoder(), 0, []
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i == len(text):
            return out
        obj, i = dec.raw_decode(text, i)
        out.append(obj)
