"""Guards Tests/GoneTraceTests/Fixtures/cli: the captured aws CLI outputs stay
byte-for-byte what the CLI printed, and hold exactly the events that were put.
No server needed; regenerate the fixtures with capture_cli_fixtures.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from awsmoto import json_sequence

pytestmark = pytest.mark.e2e

FIXTURES = Path(__file__).resolve().parent.parent / "GoneTraceTests" / "Fixtures" / "cli"
CAPTURED = sorted(p for p in FIXTURES.glob("*.json")
                  if p.name not in ("input-events.json", "captured-commands.json"))


@pytest.fixture(scope="module")
def inputs() -> list[dict]:
    return json.loads((FIXTURES / "input-events.json").read_text(encoding="utf-8"))


def test_fixtures_exist():
    assert CAPTURED, f"no captured CLI outputs in {FIXTURES}"
    assert (FIXTURES / "NOTES.md").is_file()


@pytest.mark.parametrize("path", CAPTURED, ids=lambda p: p.name)
def test_fixture_is_cli_json_layout(path: Path):
    """Each object is exactly json.dump(indent=4, ensure_ascii=False) + "\\n" (the
    CLI's JSONFormatter), appended objects included."""
    raw = path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8")
    docs = json_sequence(text)
    assert docs
    assert "".join(json.dumps(d, indent=4, ensure_ascii=False) + "\n" for d in docs) == text


@pytest.mark.parametrize("path", CAPTURED, ids=lambda p: p.name)
def test_fixture_events_are_the_input_events(path: Path, inputs):
    by_stream = {(e["logStream"], e["timestamp"], e["message"]) for e in inputs}
    by_time = {(e["timestamp"], e["message"]) for e in inputs}
    full = {(e["logGroup"], e["logStream"], e["timestamp"], e["message"]) for e in inputs}
    for d in json_sequence(path.read_text(encoding="utf-8")):
        if "results" in d:  # get-query-results
            for row in d["results"]:
                f = {c["field"]: c["value"] for c in row}
                assert (f["@log"], f["@logStream"], int(f["@timestamp"]), f["@message"]) in full
        elif "queryId" in d:
            pass
        elif "nextForwardToken" in d:  # get-log-events
            for e in d["events"]:
                assert set(e) == {"timestamp", "message", "ingestionTime"}
                assert (e["timestamp"], e["message"]) in by_time
        else:  # filter-log-events
            for e in d["events"]:
                assert list(e) == ["logStreamName", "timestamp", "message", "ingestionTime", "eventId"]
                assert (e["logStreamName"], e["timestamp"], e["message"]) in by_stream


def test_default_outputs_are_complete(inputs):
    for name, group in (("filter-log-events.default.json", "API-Gateway-Execution-Logs_k7x2m9q4ab/prod"),
                        ("filter-log-events.lambda.default.json", "/aws/lambda/chat-broadcast"),
                        ("filter-log-events.page-size-2.json", "API-Gateway-Execution-Logs_k7x2m9q4ab/prod"),
                        ("filter-log-events.max-items-2pages.json", "API-Gateway-Execution-Logs_k7x2m9q4ab/prod"),
                        ("filter-log-events.max-items-2.all-pages.json", "API-Gateway-Execution-Logs_k7x2m9q4ab/prod"),
                        ("filter-log-events.max-items-3.page-size-2.2calls.json", "API-Gateway-Execution-Logs_k7x2m9q4ab/prod"),
                        ("filter-log-events.no-paginate.limit-2.all-pages.json", "API-Gateway-Execution-Logs_k7x2m9q4ab/prod")):
        docs = json_sequence((FIXTURES / name).read_text(encoding="utf-8"))
        got = sorted((e["logStreamName"], e["timestamp"], e["message"]) for d in docs for e in d["events"])
        want = sorted((e["logStream"], e["timestamp"], e["message"]) for e in inputs if e["logGroup"] == group)
        assert got == want, name
    q = json_sequence((FIXTURES / "get-query-results.json").read_text(encoding="utf-8"))[0]
    assert len(q["results"]) == len(inputs)
