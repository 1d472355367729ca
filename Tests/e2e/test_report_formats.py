"""Every machine-readable report format of the samples, read back with standard parsers:
json, json per line, csv (RFC 4180), html.parser, and the Prometheus text-format parser."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from awsmoto import _importable, _pip_install

REPO = Path(__file__).resolve().parent.parent.parent


def report(gonetrace_bin: Path, fmt: str) -> str:
    r = subprocess.run([str(gonetrace_bin), "analyze", "samples", "--format", fmt], cwd=REPO,
                       capture_output=True, timeout=120)
    assert r.returncode == 1, r.stderr.decode()
    return r.stdout.decode()  # no newline translation: CSV rows end in CRLF


@pytest.fixture(scope="module")
def verdicts(gonetrace_bin) -> list[dict]:
    v = json.loads(report(gonetrace_bin, "json"))["verdicts"]
    assert len(v) == 29
    return v


def test_jsonl_is_one_typed_object_per_line(gonetrace_bin, verdicts):
    records = [json.loads(line) for line in report(gonetrace_bin, "jsonl").splitlines()]
    assert records[-1]["type"] == "summary" and records[-1]["gone"] == len(verdicts)
    got = [r for r in records if r["type"] == "verdict"]
    assert [(r["time"], r["connectionId"], r["detail"]) for r in got] == \
        [(v["time"], v["connectionId"], v["detail"]) for v in verdicts]
    assert {r["type"] for r in records} <= {"input", "verdict", "diagnostic", "summary"}


def test_csv_reads_back_with_the_csv_module(gonetrace_bin, verdicts):
    text = report(gonetrace_bin, "csv")
    assert "\r\n" in text
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert len(rows) == len(verdicts)
    for row, v in zip(rows, verdicts):
        assert row["time"] == v["time"] and row["detail"] == v["detail"]
        assert row["connectionId"] == (v["connectionId"] or "")
        assert row["explanation"] == v["explanation"]
    # A field with quotes, commas and line breaks survives the round trip.
    texts = [r["recordedByText"] for r in rows]
    assert any("\r" in t or "\n" in t for t in texts)
    assert any('"' in t for t in texts)


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.external: list[str] = []
        self.stack: list[str] = []
        self.tbodies = 0

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("src", "href") and value and not value.startswith("#"):
                self.external.append(value)
        if tag == "tbody":
            self.tbodies += 1
        if tag not in ("meta", "br", "input", "line", "rect", "img", "hr", "link"):
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in ("line", "rect"):
            if self.stack and self.stack[-1] == tag:
                self.stack.pop()
            return
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1:]}>"
        self.stack.pop()


def test_html_is_well_formed_and_fetches_nothing(gonetrace_bin, verdicts):
    parser = _Collector()
    parser.feed(report(gonetrace_bin, "html"))
    parser.close()
    assert parser.external == []
    assert parser.stack == []
    assert parser.tbodies == len(verdicts) + 1  # one per verdict, one in the inputs table


def test_prometheus_parses_with_the_reference_parser(gonetrace_bin, verdicts):
    if not _importable("prometheus_client"):
        _pip_install("prometheus-client")
    from prometheus_client.parser import text_string_to_metric_families

    families = {f.name: f for f in text_string_to_metric_families(report(gonetrace_bin, "prometheus"))}
    gone = families["gonetrace_gone"]
    assert gone.type == "counter"
    total = sum(s.value for s in gone.samples if s.name == "gonetrace_gone_total")
    assert total == len(verdicts)
    by_detail = {s.labels["detail"]: s.value for s in gone.samples if s.name == "gonetrace_gone_total"}
    for v in verdicts:
        assert by_detail[v["detail"]] >= 1
    assert families["gonetrace_last_run_timestamp_seconds"].type == "gauge"
