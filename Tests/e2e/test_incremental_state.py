"""`--state` as cron uses it: logs arrive in three appended parts, gonetrace runs after each,
and together the runs report exactly what one run over the whole log reports, none twice.

The parts are cut by time across every file (each run sees all log groups up to the same
moment), written with the simulator's own `lines` writer, and appended to the files a cron job
would point at. Needs no moto_server."""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from pathlib import Path


def run(gonetrace_bin: Path, *args: str) -> tuple[int, dict]:
    r = subprocess.run([str(gonetrace_bin), "analyze", "--format", "json", *args],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode in (0, 1), f"gonetrace {args} exited {r.returncode}: {r.stderr}"
    return r.returncode, json.loads(r.stdout)


def identity(v: dict) -> tuple:
    """Everything a verdict says, with evidence as (file name, line, text): the directories differ."""
    evidence = tuple((Path(e["input"]).name, e["line"], e["record"] if "record" in e else None, e["text"])
                     for e in v["evidence"])
    return (v["time"], v["operation"], v["connectionId"], v["cause"], v["detail"], v["confidence"],
            v["newConnectionId"], v["lambdaRequestId"], json.dumps(v["connection"], sort_keys=True),
            v["explanation"], evidence)


def test_three_appended_parts_report_what_one_run_reports(samples, gonetrace_bin, tmp_path):
    sim = samples.sim
    assert sim is not None, "the simulator is needed to write the parts"
    events = sorted(samples.events, key=lambda e: e["timestamp"])
    first, last = events[0]["timestamp"], events[-1]["timestamp"]
    cuts = [first + (last - first) // 3, first + 2 * (last - first) // 3]
    parts = [[e for e in events if e["timestamp"] < cuts[0]],
             [e for e in events if cuts[0] <= e["timestamp"] < cuts[1]],
             [e for e in events if e["timestamp"] >= cuts[1]]]
    assert all(parts), "every part holds events"

    whole = tmp_path / "whole"
    sim.write_events(events, "lines", str(whole))
    live = tmp_path / "live"
    live.mkdir()
    state = tmp_path / "gonetrace.state"
    reported: list[dict] = []
    statuses = []
    for k, part in enumerate(parts):
        part_dir = tmp_path / f"part{k}"
        sim.write_events(part, "lines", str(part_dir))
        for f in sorted(part_dir.iterdir()):
            with open(live / f.name, "ab") as out:
                out.write(f.read_bytes())
        status, report = run(gonetrace_bin, "--state", str(state), str(live))
        statuses.append(status)
        reported += report["verdicts"]
        # Each run reads only the new part.
        read = sum(i["events"] for i in report["inputs"])
        assert read == len(part), f"run {k + 1} read {read} events, its part has {len(part)}"

    # The appended files are byte for byte the whole log.
    assert sorted(p.name for p in live.iterdir()) == sorted(p.name for p in whole.iterdir())
    for p in whole.iterdir():
        assert (live / p.name).read_bytes() == p.read_bytes(), p.name

    _, one = run(gonetrace_bin, str(whole))
    expected = Counter(identity(v) for v in one["verdicts"])
    got = Counter(identity(v) for v in reported)
    assert len(one["verdicts"]) >= 20
    assert max(got.values()) == 1, "a 410 was reported twice"
    assert got == expected, (
        f"missing: {[k[:5] for k in expected - got]}\nextra: {[k[:5] for k in got - expected]}")
    assert statuses.count(1) >= 2, "410s were found in more than one part"

    # A fourth run with nothing new reports nothing and exits 0.
    status, report = run(gonetrace_bin, "--state", str(state), str(live))
    assert status == 0 and report["verdicts"] == []
