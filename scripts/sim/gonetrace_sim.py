#!/usr/bin/env python3
"""gonetrace_sim -- simulator of one API Gateway WebSocket chat app's CloudWatch logs.

It produces the execution log, the access log and the Lambda logs of a small chat
application and injects `410 GoneException`s from the `@connections` management API
(PostToConnection / GetConnection / DeleteConnection) for known reasons, together with
a ground-truth record per failed call.

Every log-line template comes from /work/shared/reference/log-formats.md; the section
and the evidence mark (VERIFIED-REAL / VERIFIED-DOC / VERIFIED-SOURCE / EMULATOR /
INFERENCE) are given next to each renderer and collected in TEMPLATES (written to
Tests/GoneTraceTests/Fixtures/classify/SOURCES.md by the `fixtures` command).
App-defined message texts (what the simulated functions choose to log) are free text
inside those verified framings; they are marked "app text".

Python 3.11 standard library only.  Deterministic for a given seed and start time.

Usage:
  gonetrace_sim.py samples  --out samples --truth Tests/.../samples/expected.jsonl [--start ISO]
  gonetrace_sim.py corpus   --size 100M --envelope lines|cli-json|s3-export|tail --out DIR --truth FILE [--seed N] [--start ISO]
  gonetrace_sim.py fixtures --out Tests/GoneTraceTests/Fixtures/classify

Importable API:
  generate_samples(start_ms) -> (events, truth)
  write_events(events, envelope, out, file_map=None, ...) -> {path: bytes}
"""

from __future__ import annotations

import argparse
import gzip
import heapq
import json
import math
import os
import random
import shutil
import sys
import time

# ---------------------------------------------------------------------------
# Template registry (section + mark).  Written to SOURCES.md.
# ---------------------------------------------------------------------------

TEMPLATES = [
    # id, template, section, mark
    ("exec.prefix", "(<apigw requestId>) <message>  -- WebSocket requestId = 16 chars [A-Za-z0-9_-]{15}=", "§1.2, §1.4(0)", "VERIFIED-REAL"),
    ("exec.stream", "execution-log stream name = 32 lowercase hex chars", "§1.1", "VERIFIED-REAL"),
    ("exec.extended", "Extended Request Id: <id>", "§1.3 (§1.5 lists it too)", "VERIFIED-REAL (REST) / EMULATOR (WS)"),
    ("exec.starting", "Starting execution for request: <id>", "§1.3 (§1.5 lists it too)", "VERIFIED-REAL (REST) / EMULATOR (WS)"),
    ("exec.authz.start", "Starting authorizer: <authorizerId> for request: <id>", "§1.3 authorizer block", "VERIFIED-REAL (REST TOKEN authorizer); INFERENCE that a WS REQUEST authorizer logs the same"),
    ("exec.authz.policy", "Using valid authorizer policy for principal: <masked principal, last 6 chars>", "§1.3 authorizer block", "VERIFIED-REAL (REST); INFERENCE for WS"),
    ("exec.authz.done", "Successfully completed authorizer execution", "§1.3 authorizer block", "VERIFIED-REAL (REST); INFERENCE for WS"),
    ("exec.route", "WebSocket Request Route: [<routeKey>]", "§1.5", "EMULATOR"),
    ("exec.connecting", "Client [UserAgent: <ua>, SourceIp: <ip>] is connecting to WebSocket API [<apiId>].", "§1.5", "EMULATOR"),
    ("exec.received_msg", "WebSocket API [<apiId>] received message from client [Connection Id: <cid>].", "§1.5", "EMULATOR"),
    ("exec.uri", "Endpoint request URI: https://lambda.<region>.amazonaws.com/2015-03-31/functions/arn:aws:lambda:<region>:<acct>:function:<fn>/invocations", "§1.3", "VERIFIED-REAL (REST)"),
    ("exec.req_headers", "Endpoint request headers: {x-amzn-lambda-integration-tag=<id>, Authorization=****...<6 hex>, X-Amz-Date=<yyyyMMddTHHmmssZ>, x-amzn-apigateway-api-id=<apiId>, ... [TRUNCATED]", "§1.3", "VERIFIED-REAL (REST)"),
    ("exec.body", "Endpoint request body after transformations: <proxy event JSON>[ [TRUNCATED]]  (requestContext keys/order from the real $connect/$default/$disconnect events; cut at 1024 chars)", "§1.3, §1.4(a), §2.4, §3.1 (cut length: §1.2 EMULATOR comment)", "VERIFIED-REAL shapes; truncation length INFERENCE"),
    ("exec.sending", "Sending request to https://lambda.<region>.amazonaws.com/2015-03-31/functions/<arn>/invocations", "§1.3", "VERIFIED-REAL (REST)"),
    ("exec.received", "Received response. Status: <n>, Integration latency: <n> ms", "§1.3 (test-invoke wording), §1.5", "VERIFIED-REAL (test-invoke) / EMULATOR (WS)"),
    ("exec.resp_headers", "Endpoint response headers: {Date=<http date>, Content-Type=application/json, Content-Length=<n>, Connection=keep-alive, x-amzn-RequestId=<lambda uuid>, [X-Amz-Function-Error=Unhandled, ]x-amzn-Remapped-Content-Length=0, X-Amz-Executed-Version=$LATEST, X-Amzn-Trace-Id=root=1-<8hex>-<24hex>;parent=<16hex>;sampled=0}", "§1.3", "VERIFIED-REAL"),
    ("exec.resp_body", "Endpoint response body before transformations: <json>", "§1.3, §1.5", "VERIFIED-REAL (REST) / EMULATOR (WS)"),
    ("exec.lambda_failed", "Lambda execution failed with status 200 due to customer function error: <errorMessage>. Lambda request id: <lambda uuid>", "§1.3", "VERIFIED-REAL (REST test-invoke); INFERENCE for WS"),
    ("exec.method_completed", "Method completed with status: <n>  (only for failed $connect / failed routes)", "§1.2, §1.3", "VERIFIED-REAL (REST); INFERENCE for WS"),
    ("exec.connected", "Client [Connection Id: <cid>] connected to API [<apiId>] successfully.", "§1.5", "EMULATOR"),
    ("exec.msg_sent", "Message from client [Connection Id: <cid>] sent to API [<apiId>] with response status code [<n>].", "§1.5", "EMULATOR"),
    ("exec.disconnected", "Client [Connection Id: <cid>] disconnected from API [<apiId>] with integration response status code [<n>]. Close reason: [<code>: <reason>]", "§1.5", "EMULATOR"),
    ("exec.success", "Successfully completed execution", "§1.3", "VERIFIED-REAL (REST)"),
    ("exec.aws_reqid", "AWS Integration Endpoint RequestId : <lambda uuid>   (spaces around the colon)", "§1.3", "VERIFIED-REAL"),
    ("close.1000", "disconnectStatusCode 1000, disconnectReason \"Connection Closed Normally\" (server DeleteConnection)", "§2.4", "VERIFIED-REAL"),
    ("close.1001.empty", "disconnectStatusCode 1001, disconnectReason \"\" (browser close)", "§2.4", "VERIFIED-REAL"),
    ("close.1005", "disconnectStatusCode 1005, disconnectReason \"Client-side close frame status not set\"", "§2.4", "VERIFIED-DOC + VERIFIED-REAL"),
    ("close.1001.idle", "disconnectStatusCode 1001, disconnectReason \"Going away\" ~600 s after last traffic (idle timeout)", "§2.4, §5.1", "VERIFIED-REAL (code/reason); timing INFERENCE"),
    ("close.1001.max", "disconnectStatusCode 1001, disconnectReason \"Going away\" at connectedAt + 7 200 000 ms (2-hour cap)", "§5.1, Gaps 4", "INFERENCE (code/reason for the 2-hour cap not verified)"),
    ("close.1009", "disconnectStatusCode 1009, disconnectReason \"\" (frame too big)", "§2.4, §5.1", "VERIFIED-DOC (code); reason text INFERENCE (unknown, empty used)"),
    ("access.json", "{\"requestId\":\"$context.requestId\",\"ip\":\"$context.identity.sourceIp\",\"caller\":\"$context.identity.caller\",\"user\":\"$context.identity.user\",\"requestTime\":\"$context.requestTime\",\"eventType\":\"$context.eventType\",\"routeKey\":\"$context.routeKey\",\"status\":\"$context.status\",\"connectionId\":\"$context.connectionId\",\"userAgent\":\"$context.identity.userAgent\",\"principalId\":\"$context.authorizer.principalId\",\"requestTimeEpoch\":\"$context.requestTimeEpoch\",\"connectedAt\":\"$context.connectedAt\"}  (unset = \"-\")", "§2.1 (variables), §2.3 (rendering of the first 9 keys)", "VERIFIED-DOC variables + VERIFIED-REAL rendering"),
    ("lambda.start", "START RequestId: <uuid> Version: $LATEST\\n", "§3.10", "VERIFIED-DOC"),
    ("lambda.end", "END RequestId: <uuid>\\n", "§3.10", "VERIFIED-DOC"),
    ("lambda.report", "REPORT RequestId: <uuid>\\tDuration: <f> ms\\tBilled Duration: <n> ms\\tMemory Size: <n> MB\\tMax Memory Used: <n> MB\\t[Init Duration: <f> ms\\t]\\n  (Python functions use the `Billed Duration: <n> ms \\t` quirk)", "§3.10", "VERIFIED-DOC"),
    ("lambda.stream", "<yyyy>/<MM>/<dd>/[$LATEST]<32 hex>", "§3.10", "VERIFIED-DOC"),
    ("lambda.node.text", "<ISO ms Z>\\t<requestId>\\t<LEVEL>\\t<message, \\n replaced by \\r>\\n", "§3.3 (LogPatch.ts), §3.10", "VERIFIED-SOURCE + VERIFIED-DOC"),
    ("lambda.python.text", "[<LEVEL>]\\t<ISO ms Z>\\t<requestId>\\t<message>\\n", "§3.5 (runtime logging format), §3.10", "VERIFIED-SOURCE"),
    ("lambda.json.platform", "{\"time\":...,\"type\":\"platform.start\",\"record\":{\"requestId\":...,\"version\":\"$LATEST\"}} / {\"time\":...,\"type\":\"platform.report\",\"record\":{\"requestId\":...,\"metrics\":{\"durationMs\":...,\"billedDurationMs\":...,\"memorySizeMB\":...,\"maxMemoryUsedMB\":...},\"status\":\"success\"}}", "§3.10", "VERIFIED-REAL"),
    ("lambda.json.app", "{\"timestamp\":...,\"level\":...,\"requestId\":...,\"message\":...[,\"errorType\",\"errorMessage\",\"stackTrace\"]}\\n", "§3.10 (formatter.ts)", "VERIFIED-SOURCE (key order); the GoneException line itself INFERENCE"),
    ("lambda.raw", "Java / Go / PHP / .NET functions: message written as-is, no runtime prefix, \\n -> \\r inside", "(not in log-formats.md)", "INFERENCE"),
    ("sdk.node-v2.invoke_error", "<ISO>\\t<reqid>\\tERROR\\tInvoke Error \\t{\"errorType\":\"GoneException\",\"errorMessage\":\"410\",\"code\":\"GoneException\",\"message\":\"410\",\"statusCode\":410,\"time\":...,\"requestId\":...,\"retryable\":false,\"retryDelay\":...,\"stack\":[\"GoneException: 410\",...8 frames]}", "§3.3", "VERIFIED-REAL (error JSON) + VERIFIED-SOURCE (framing); the combined line INFERENCE as in §3.3"),
    ("sdk.node-v2.stale", "<ISO>\\t<reqid>\\tINFO\\tFound stale connection, deleting <connectionId>", "anchors.md §1 [K12] (aws-samples/simple-websockets-chat-app sendmessage/app.js, read via the code index)", "VERIFIED-SOURCE (app text of the AWS sample)"),
    ("sdk.node-v3.app", "Error sending to connection <cid>: GoneException: UnknownError", "§3.4", "VERIFIED-REAL (user log text)"),
    ("sdk.node-v3.badrequest", "Error sending to connection test-connection-123: BadRequestException: Invalid connectionId", "§3.4", "VERIFIED-REAL"),
    ("sdk.node-v3.inspect", "GoneException: UnknownError\\r    at de_GoneExceptionRes (...)\\r ... {\\r  '$fault': 'client',\\r  '$metadata': {\\r    httpStatusCode: 410,\\r    requestId: '<uuid>',\\r    extendedRequestId: undefined,\\r    cfId: undefined,\\r    attempts: 1,\\r    totalRetryDelay: 0\\r  }\\r}", "§3.4", "INFERENCE ($metadata shape VERIFIED-REAL for a 200; stack frame paths invented)"),
    ("sdk.node-v3.invoke_error", "Invoke Error \\t{\"errorType\":\"GoneException\",\"errorMessage\":\"UnknownError\",\"name\":\"GoneException\",\"$fault\":\"client\",\"$metadata\":{...},\"message\":\"UnknownError\",\"stack\":[...]}", "§3.3 framing + §3.4 serialized shape", "INFERENCE (shape semi-verified)"),
    ("sdk.node-v3.jsonlog", "{\"timestamp\":...,\"level\":\"ERROR\",\"requestId\":...,\"message\":\"<text> GoneException: UnknownError\\n    at ...\",\"errorType\":\"GoneException\",\"errorMessage\":\"UnknownError\",\"stackTrace\":[...]}", "§3.10", "INFERENCE (formatter VERIFIED-SOURCE)"),
    ("sdk.boto3.logger_exception", "[ERROR]\\t<ISO>\\t<reqid>\\t<app text>\\rTraceback (most recent call last):\\r  File ...\\rbotocore.errorfactory.GoneException: An error occurred (GoneException) when calling the <Op> operation: \\n", "§3.5", "VERIFIED-SOURCE (MSG_TEMPLATE, logging format) + VERIFIED-REAL (botocore frames from the Chalice stackTrace); final module-qualified line INFERENCE"),
    ("sdk.boto3.uncaught", "[ERROR] GoneException: An error occurred (GoneException) when calling the <Op> operation: \\rTraceback (most recent call last):\\r\\u00a0\\u00a0File ...\\n  (no request id)", "§3.5", "VERIFIED-SOURCE (bootstrap.py framing); whole line INFERENCE"),
    ("sdk.boto3.throttled", "An error occurred (LimitExceededException) when calling the PostToConnection operation: ", "§3.5 template, §5.5 exception list", "INFERENCE"),
    ("sdk.boto3.forbidden", "An error occurred (ForbiddenException) when calling the PostToConnection operation: Forbidden", "§3.5 template, §1.4(b)/§5.3 'Forbidden'", "INFERENCE"),
    ("sdk.java-v1", "com.amazonaws.services.apigatewaymanagementapi.model.GoneException: null (Service: AmazonApiGatewayManagementApi; Status Code: 410; Error Code: GoneException; Request ID: <uuid>)\\r\\tat com.amazonaws.http.AmazonHttpClient$RequestExecutor.handleErrorResponse(AmazonHttpClient.java:1742)\\r\\tat ...handleServiceErrorResponse(AmazonHttpClient.java:1371)", "§3.6", "VERIFIED-REAL"),
    ("sdk.java-v2", "software.amazon.awssdk.services.apigatewaymanagementapi.model.GoneException: null (Service: ApiGatewayManagementApi, Status Code: 410, Request ID: <uuid>) (SDK Attempt Count: 1)", "§3.6", "INFERENCE (strong)"),
    ("sdk.go-v2.410", "operation error ApiGatewayManagementApi: <Op>, https response error StatusCode: 410, RequestID: <uuid>, GoneException: ", "§3.7", "INFERENCE (formatter VERIFIED-SOURCE)"),
    ("sdk.go-v2.403", "operation error ApiGatewayManagementApi: PostToConnection, https response error StatusCode: 403, RequestID: <uuid>, ForbiddenException", "§3.7", "VERIFIED-REAL"),
    ("sdk.go-v2.429", "operation error ApiGatewayManagementApi: PostToConnection, https response error StatusCode: 429, RequestID: <uuid>, LimitExceededException: ", "§3.7", "INFERENCE"),
    ("sdk.php", "Aws\\ApiGatewayManagementApi\\Exception\\ApiGatewayManagementApiException Error executing \"PostToConnection\" on \"https://<apiId>.execute-api.<region>.amazonaws.com/prod/@connections/<id with = as %3D>\"; AWS HTTP error: Client error: `POST <same url>` resulted in a `410 Gone` response Unable to parse error information from response - Error parsing JSON: Syntax error", "§3.8", "VERIFIED-REAL"),
    ("noise.cosmos.dotnet-v2", "Microsoft.Azure.Documents.GoneException: The requested resource is no longer available at the server.\\rActivityId: <uuid>, documentdb-dotnet-sdk/1.19.1 Host/32-bit MicrosoftWindowsNT/6.2.9200.0\\r   at Microsoft.Azure.Documents.TimeoutHelper.ThrowGoneIfElapsed()", "not in log-formats.md: https://github.com/Azure/azure-cosmos-dotnet-v2/issues/408 (found with the search tool, corpus issues; also named in anchors.md [K15])", "VERIFIED-REAL (Cosmos DB user paste); raw-line framing INFERENCE"),
    ("noise.cosmos.dotnet-v3", "GoneException:\\rThe requested resource is no longer available at the server.\\rActivityId: <uuid>, Windows/10.0.17763 cosmos-netstandard-sdk/3.9.0", "not in log-formats.md: https://github.com/Azure/azure-cosmos-dotnet-v3/issues/2111 (search tool, corpus issues)", "VERIFIED-REAL (user paste; the paste shows a literal \\r\\n that we render as \\r)"),
    ("env.lines", "<yyyy-MM-ddTHH:mm:ss.SSSZ> <message without its trailing \\n>", "§4.4", "VERIFIED-REAL"),
    ("env.cli-json", "aws logs filter-log-events output: json.dump(indent=4) of {events:[{logStreamName,timestamp,message,ingestionTime,eventId}],searchedLogStreams:[],nextToken}", "§4.1 (+ aws-cli awscli/formatter.py JSONFormatter: json.dump(response, stream, indent=4))", "VERIFIED-DOC + VERIFIED-SOURCE"),
    ("env.s3-export", "exportedlogs/<taskId>/<logStreamName>/000000.gz, 000001.gz ...; aws-logs-write-test marker; lines as env.lines (a message ending in \\n leaves a blank line)", "§4.4", "VERIFIED-REAL/VERIFIED-DOC; nested folders for '/' in stream names INFERENCE"),
    ("env.tail", "<ISO with microseconds>+00:00 <logStreamName> <message.rstrip()>", "§4.2", "VERIFIED-SOURCE"),
]

# ---------------------------------------------------------------------------
# Small helpers: time formatting and ids
# ---------------------------------------------------------------------------

B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
B64LAST = "AQgw"  # 11 bytes base64 -> 15th char has its 2 low bits zero (seen in every real id)
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]

REGION = "us-east-1"
ACCOUNT = "493817265024"
STAGE = "prod"

_gm_cache: dict = {}


def _gm(sec: int):
    t = _gm_cache.get(sec)
    if t is None:
        if len(_gm_cache) > 20000:
            _gm_cache.clear()
        g = time.gmtime(sec)
        t = (g, "%04d-%02d-%02dT%02d:%02d:%02d" % (g.tm_year, g.tm_mon, g.tm_mday, g.tm_hour, g.tm_min, g.tm_sec))
        _gm_cache[sec] = t
    return t


def iso_ms(ms: int) -> str:
    """2024-05-09T10:00:00.123Z"""
    return "%s.%03dZ" % (_gm(ms // 1000)[1], ms % 1000)


def iso_us_tail(ms: int) -> str:
    """aws logs tail: datetime.isoformat(timespec='microseconds') in UTC (§4.2)."""
    return "%s.%03d000+00:00" % (_gm(ms // 1000)[1], ms % 1000)


def clf(ms: int) -> str:
    """CLF requestTime: 20/Jan/2024:11:55:08 +0000 (§2.1/§2.4)."""
    g = _gm(ms // 1000)[0]
    return "%02d/%s/%04d:%02d:%02d:%02d +0000" % (g.tm_mday, MONTHS[g.tm_mon - 1], g.tm_year, g.tm_hour, g.tm_min, g.tm_sec)


def http_date(ms: int) -> str:
    """Date=Tue, 26 Feb 2019 15:29:33 GMT (§1.3 Endpoint response headers)."""
    g = _gm(ms // 1000)[0]
    return "%s, %02d %s %04d %02d:%02d:%02d GMT" % (DAYS[g.tm_wday], g.tm_mday, MONTHS[g.tm_mon - 1], g.tm_year, g.tm_hour, g.tm_min, g.tm_sec)


def python_asctime(ms: int) -> str:
    """%Y-%m-%dT%H:%M:%S.%(msecs)03dZ (§3.5 runtime logging format)."""
    return iso_ms(ms)


def parse_iso(s: str) -> int:
    s = s.strip()
    if s.endswith("Z"):
        s = s[:-1] + "+00:00"
    from datetime import datetime
    d = datetime.fromisoformat(s)
    return int(round(d.timestamp() * 1000))


def parse_size(s: str) -> int:
    s = s.strip().upper()
    mult = 1
    for suf, m in (("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30)):
        if s.endswith(suf + "B"):
            s = s[:-2]
            mult = m
            break
        if s.endswith(suf):
            s = s[:-1]
            mult = m
            break
    return int(float(s) * mult)


class Ids:
    """Deterministic id factory."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self._ctr = 0

    def ws(self, ms: int, kind: str) -> str:
        """16-char WebSocket id [A-Za-z0-9_-]{15}= (§3.1 INFERENCE from real samples: connection ids
        carry 'MC', request ids 'MF' at positions 11-12; first chars drift with time)."""
        self._ctr += 1
        n = (self._ctr * 0x5DEECE66D) & 0xFFFFFFFFF  # bijective on 36 bits -> unique
        p = (ms >> 11) & 0xFFFFFF
        r = self.rng.getrandbits(14)
        b = B64URL
        return (b[(p >> 18) & 63] + b[(p >> 12) & 63] + b[(p >> 6) & 63] + b[p & 63]
                + b[(n >> 30) & 63] + b[(n >> 24) & 63] + b[(n >> 18) & 63] + b[(n >> 12) & 63]
                + b[(n >> 6) & 63] + b[n & 63]
                + ("MC" if kind == "C" else "MF")
                + b[(r >> 8) & 63] + b[(r >> 2) & 63] + B64LAST[r & 3] + "=")

    def uuid(self) -> str:
        h = "%032x" % self.rng.getrandbits(128)
        return "%s-%s-4%s-%s%s-%s" % (h[:8], h[8:12], h[13:16], "89ab"[int(h[16], 16) & 3], h[17:20], h[20:32])

    def hex(self, n: int = 32) -> str:
        return "%0*x" % (n, self.rng.getrandbits(4 * n))

    def b64(self, nbytes: int) -> str:
        import base64
        return base64.b64encode(self.rng.getrandbits(8 * nbytes).to_bytes(nbytes, "big")).decode()

    def digits(self, n: int) -> str:
        return "%0*d" % (n, self.rng.getrandbits(int(n * 3.33) + 1) % (10 ** n))


# ---------------------------------------------------------------------------
# Event sinks
# ---------------------------------------------------------------------------


class ListSink:
    """Collects events in memory (samples, fixtures)."""

    def __init__(self):
        self.events = []
        self.seq = 0

    def emit(self, group, stream, ts, msg):
        self.seq += 1
        self.events.append((ts, self.seq, group, stream, msg))

    def close_stream(self, group, stream):
        pass

    def sorted_events(self):
        self.events.sort()
        return [{"logGroup": g, "logStream": s, "timestamp": ts, "message": m} for ts, _, g, s, m in self.events]


class StreamingSink:
    """Buffers events and flushes everything older than a watermark, time-sorted, to a writer."""

    def __init__(self, writer):
        self.writer = writer
        self.buf = []
        self.seq = 0
        self.pending_close = []
        self.pending_bytes = 0

    def emit(self, group, stream, ts, msg):
        self.seq += 1
        self.pending_bytes += len(msg) + 26
        self.buf.append((ts, self.seq, group, stream, msg))

    def close_stream(self, group, stream):
        self.pending_close.append((group, stream))

    def flush(self, watermark=None):
        buf = self.buf
        if not buf:
            return
        buf.sort()
        if watermark is None:
            out, self.buf = buf, []
            self.pending_bytes = 0
        else:
            # binary search for first ts >= watermark
            lo, hi = 0, len(buf)
            while lo < hi:
                mid = (lo + hi) // 2
                if buf[mid][0] < watermark:
                    lo = mid + 1
                else:
                    hi = mid
            out, self.buf = buf[:lo], buf[lo:]
        add = self.writer.add
        nbytes = 0
        for ts, _, g, s, m in out:
            nbytes += len(m) + 26
            add(g, s, ts, m)
        self.pending_bytes = max(0, self.pending_bytes - nbytes)
        if watermark is None or self.pending_close:
            keep = []
            for g, s in self.pending_close:
                if watermark is None or not any(e[2] == g and e[3] == s for e in self.buf):
                    self.writer.close_stream(g, s)
                else:
                    keep.append((g, s))
            self.pending_close = keep


# ---------------------------------------------------------------------------
# World model
# ---------------------------------------------------------------------------

IDLE_MS = 600_000
MAX_MS = 7_200_000

USER_AGENTS = [
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36",
    "okhttp/4.12.0",
    "Python/3.11 websockets/12.0",
    "Amazon CloudFront",
    "Dart/3.3 (dart:io)",
]

# Functions: name -> (kind, runtime, memory MB, sdk label)
FUNCS = {
    "chat-connect": ("python", "python3.12", 256, "python-boto3"),      # $connect
    "chat-message": ("node", "nodejs20.x", 256, "node-v3"),             # sendmessage
    "chat-typing": ("node-json", "nodejs20.x", 128, "node-v3-json"),    # typing (Lambda JSON log format)
    "chat-default": ("python", "python3.12", 128, "python-boto3"),      # $default
    "chat-disconnect": ("node", "nodejs16.x", 128, "node-v2"),          # $disconnect
    "chat-broadcast": ("java", "java17", 512, "java-v2"),               # scheduled announcements
    "chat-admin": ("java", "java11", 512, "java-v1"),                   # moderation kicks
    "chat-presence": ("go", "provided.al2023", 128, "go-v2"),           # presence sweeper (GetConnection)
    "chat-notify": ("php", "provided.al2", 512, "php"),                 # push notifications
    "chat-archive": ("dotnet", "dotnet8", 512, None),                   # history archive (Cosmos DB noise)
}
ROUTE_FN = {"$connect": "chat-connect", "$disconnect": "chat-disconnect", "sendmessage": "chat-message",
            "typing": "chat-typing", "$default": "chat-default"}


class Client:
    __slots__ = ("name", "principal", "ip", "ua", "conns", "key", "room", "plan")

    def __init__(self, name, principal, ip, ua, room):
        self.name = name
        self.principal = principal
        self.ip = ip
        self.ua = ua
        self.conns = []
        self.key = principal if principal else ip + "|" + ua
        self.room = room
        self.plan = None


class Conn:
    __slots__ = ("cid", "client", "ip", "ua", "principal", "t_req", "t_resp", "t_open", "t_close",
                 "connected_at", "end_reason", "close_code", "close_reason", "disc_logged", "last_in",
                 "last_out", "connect_inv", "room", "alive_gen")

    def __init__(self, cid, client, t_req):
        self.cid = cid
        self.client = client
        self.ip = client.ip
        self.ua = client.ua
        self.principal = client.principal
        self.t_req = t_req
        self.connected_at = t_req
        self.t_resp = None
        self.t_open = None
        self.t_close = None
        self.end_reason = None
        self.close_code = None
        self.close_reason = None
        self.disc_logged = None
        self.last_in = t_req
        self.last_out = t_req
        self.connect_inv = None
        self.room = client.room
        self.alive_gen = 0


class Container:
    __slots__ = ("stream", "busy_until", "last_used", "fresh")

    def __init__(self, stream):
        self.stream = stream
        self.busy_until = 0
        self.last_used = 0
        self.fresh = True


class Inv:
    """One Lambda invocation.  Renders runtime framing per function kind."""

    __slots__ = ("app", "fn", "kind", "group", "stream", "reqid", "t0", "cur", "cold", "init_ms", "mem", "container")

    def __init__(self, app, fn, t0):
        self.app = app
        self.fn = fn
        self.kind = FUNCS[fn][0]
        self.mem = FUNCS[fn][2]
        self.group = "/aws/lambda/" + fn
        self.reqid = app.ids.uuid()
        self.t0 = t0
        self.cur = t0
        c, cold = app.acquire_container(fn, t0)
        self.container = c
        self.stream = c.stream
        self.cold = cold
        self.init_ms = (app.rng.uniform(900, 2600) if self.kind == "java" else app.rng.uniform(120, 480)) if cold else 0.0
        emit = app.sink.emit
        if self.kind == "node-json":
            # §3.10 VERIFIED-REAL platform.start
            emit(self.group, self.stream, t0, '{"time":"%s","type":"platform.start","record":{"requestId":"%s","version":"$LATEST"}}' % (iso_ms(t0), self.reqid))
        else:
            # §3.10 VERIFIED-DOC START line
            emit(self.group, self.stream, t0, "START RequestId: %s Version: $LATEST\n" % self.reqid)

    def advance(self, lo, hi):
        self.cur += self.app.rng.randint(lo, hi)
        return self.cur

    def log(self, level, msg, ts=None, extra=None):
        """Application log line through the runtime of this function."""
        if ts is None:
            ts = self.cur
        k = self.kind
        if k == "node":
            # §3.3 VERIFIED-SOURCE LogPatch.ts: `${time}\t${requestId}\t${level}\t${message}`, \n -> \r
            line = "%s\t%s\t%s\t%s\n" % (iso_ms(ts), self.reqid, level, msg.replace("\n", "\r"))
        elif k == "python":
            # §3.5 VERIFIED-SOURCE runtime logging format "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n"
            line = "[%s]\t%s\t%s\t%s\n" % (level, python_asctime(ts), self.reqid, msg.replace("\n", "\r"))
        elif k == "node-json":
            # §3.10 VERIFIED-SOURCE formatter.ts key order timestamp, level, requestId, message (+ error fields)
            d = {"timestamp": iso_ms(ts), "level": level, "requestId": self.reqid, "message": msg}
            if extra:
                d.update(extra)
            line = json.dumps(d, separators=(",", ":"), ensure_ascii=False) + "\n"
        else:
            # Java / Go / PHP / .NET: raw stdout line (INFERENCE, not in log-formats.md)
            line = msg.replace("\n", "\r") + "\n"
        self.app.sink.emit(self.group, self.stream, ts, line)
        return ts

    def raw(self, msg, ts=None):
        """A line written by the runtime itself (e.g. Python uncaught error record, no request id)."""
        if ts is None:
            ts = self.cur
        self.app.sink.emit(self.group, self.stream, ts, msg)
        return ts

    def finish(self, t_end=None):
        app = self.app
        if t_end is None:
            t_end = self.cur + app.rng.randint(1, 6)
        self.cur = t_end
        dur = max(0.5, (t_end - self.t0) - app.rng.random())
        billed = int(math.ceil(dur))
        used = min(self.mem, int(self.mem * 0.3) + app.rng.randint(0, int(self.mem * 0.25)))
        if self.kind == "node-json":
            # §3.10 VERIFIED-REAL platform.report
            app.sink.emit(self.group, self.stream, t_end,
                          '{"time":"%s","type":"platform.report","record":{"requestId":"%s","metrics":{"durationMs":%.3f,"billedDurationMs":%d,"memorySizeMB":%d,"maxMemoryUsedMB":%d},"status":"success"}}'
                          % (iso_ms(t_end), self.reqid, dur, billed, self.mem, used))
        else:
            # §3.10 VERIFIED-DOC END / REPORT (Python functions: `Billed Duration: 27 ms \t` quirk)
            app.sink.emit(self.group, self.stream, t_end, "END RequestId: %s\n" % self.reqid)
            quirk = " " if self.kind == "python" else ""
            init = ("Init Duration: %.2f ms\t" % self.init_ms) if self.cold else ""
            app.sink.emit(self.group, self.stream, t_end,
                          "REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %d ms%s\tMemory Size: %d MB\tMax Memory Used: %d MB\t%s\n"
                          % (self.reqid, dur, billed, quirk, self.mem, used, init))
        self.container.busy_until = t_end + 1
        self.container.last_used = t_end
        return t_end


class App:
    """One WebSocket chat app: API Gateway + Lambda functions + backend store."""

    def __init__(self, sink, seed=1, start_ms=0, api_id=None, truth_sink=None, exec_detail="full"):
        self.rng = random.Random(seed)
        self.ids = Ids(random.Random(seed * 7919 + 17))
        self.sink = sink
        self.start_ms = start_ms
        self.api_id = api_id or "".join(self.rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(10))
        self.domain = "%s.execute-api.%s.amazonaws.com" % (self.api_id, REGION)
        self.exec_group = "API-Gateway-Execution-Logs_%s/%s" % (self.api_id, STAGE)
        self.access_group = "/aws/apigateway/%s/access" % self.api_id
        self.exec_streams = [self.ids.hex(32) for _ in range(4)]
        self.access_streams = [self.ids.hex(32) for _ in range(2)]
        self.authorizer_id = "".join(self.rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(6))
        self.exec_detail = exec_detail
        self.containers = {fn: [] for fn in FUNCS}
        self.conns = {}            # cid -> Conn
        self.by_key = {}           # identity key -> [Conn]
        self.store = {}            # cid -> room (backend "connections"/room-membership table)
        self.rooms = {}            # room -> {cid: True}
        self.purge_at = {}         # cid -> time after which the store entry is purged (TTL)
        self.truth = []
        self.truth_sink = truth_sink
        self.stats = {"calls": 0, "gone": 0}
        self.ip_ctr = 0
        self.container_keepalive = 25 * 60_000

    # ---- infrastructure -------------------------------------------------------------

    def lambda_stream(self, t):
        g = _gm(t // 1000)[0]
        # §3.10 VERIFIED-DOC stream name 2019/06/07/[$LATEST]e6f4...
        return "%04d/%02d/%02d/[$LATEST]%s" % (g.tm_year, g.tm_mon, g.tm_mday, self.ids.hex(32))

    def acquire_container(self, fn, t):
        lst = self.containers[fn]
        best = None
        alive = []
        for c in lst:
            if t - c.last_used > self.container_keepalive and c.busy_until <= t:
                self.sink.close_stream("/aws/lambda/" + fn, c.stream)
                continue
            alive.append(c)
            if best is None and c.busy_until <= t:
                best = c
        self.containers[fn] = alive
        if best is not None:
            best.busy_until = t + 10 ** 9
            return best, False
        c = Container(self.lambda_stream(t))
        c.busy_until = t + 10 ** 9
        alive.append(c)
        return c, True

    def new_ip(self):
        self.ip_ctr += 1
        n = self.ip_ctr
        # documentation/test ranges plus a few public-looking ranges; unique per client
        bases = [(203, 0, 113), (198, 51, 100), (192, 0, 2), (100, 64, 12), (49, 105, 91), (81, 2, 69), (130, 176, 133)]
        b = bases[n % len(bases)]
        k = n // len(bases)
        return "%d.%d.%d.%d" % (b[0], b[1], (b[2] + k // 250) % 256, 1 + k % 250)

    def new_client(self, name, principal=None, ip=None, ua=None, room="lobby"):
        c = Client(name, principal, ip or self.new_ip(), ua or self.rng.choice(USER_AGENTS), room)
        return c

    def xray(self, t):
        return "1-%08x-%s" % (t // 1000, self.ids.hex(24))

    # ---- execution log / access log renderers ----------------------------------------

    def _ex(self, stream, ts, rid, msg):
        # §1.2 VERIFIED-REAL: "(<requestId>) <message>", no trailing newline
        self.sink.emit(self.exec_group, stream, ts, "(%s) %s" % (rid, msg))

    def _lambda_uri(self, fn):
        return "https://lambda.%s.amazonaws.com/2015-03-31/functions/arn:aws:lambda:%s:%s:function:%s/invocations" % (REGION, REGION, ACCOUNT, fn)

    def _body(self, obj):
        # §1.3/§1.2: long payloads cut with " [TRUNCATED]" (limit 1024: EMULATOR comment, INFERENCE)
        s = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
        if len(s) > 1024:
            s = s[:1024] + " [TRUNCATED]"
        return s

    def _request_context(self, conn, rid, t, route, event_type, message_id=None, code=None, reason=None):
        # Key order from the real events in §2.4 / §3.1 / §1.4(a) (VERIFIED-REAL)
        rc = {"routeKey": route}
        if message_id:
            rc["messageId"] = message_id
        if code is not None:
            rc["disconnectStatusCode"] = code
        if conn.principal:
            rc["authorizer"] = {"principalId": conn.principal, "integrationLatency": 0}
        rc["eventType"] = event_type
        rc["extendedRequestId"] = rid
        rc["requestTime"] = clf(t)
        rc["messageDirection"] = "IN"
        if code is not None:
            rc["disconnectReason"] = reason
        rc["stage"] = STAGE
        rc["connectedAt"] = conn.connected_at
        rc["requestTimeEpoch"] = t
        rc["identity"] = {"userAgent": conn.ua, "sourceIp": conn.ip}
        rc["requestId"] = rid
        rc["domainName"] = self.domain
        rc["connectionId"] = conn.cid
        rc["apiId"] = self.api_id
        return rc

    def _resp_headers(self, t, lambda_reqid, length, failed=False):
        # §1.3 VERIFIED-REAL Endpoint response headers
        return ("Endpoint response headers: {Date=%s, Content-Type=application/json, Content-Length=%d, Connection=keep-alive, "
                "x-amzn-RequestId=%s, %sx-amzn-Remapped-Content-Length=0, X-Amz-Executed-Version=$LATEST, "
                "X-Amzn-Trace-Id=root=%s;parent=%s;sampled=0}"
                % (http_date(t), length, lambda_reqid, "X-Amz-Function-Error=Unhandled, " if failed else "",
                   self.xray(t), self.ids.hex(16)))

    def access_row(self, ts, rid, conn, t_req, event_type, route, status):
        # §2.1 variables + §2.3 VERIFIED-REAL rendering; one fixed format (see TEMPLATES access.json)
        self.sink.emit(self.access_group, self.access_streams[hash_small(rid) % len(self.access_streams)], ts,
                       '{"requestId":"%s","ip":"%s","caller":"-","user":"-","requestTime":"%s","eventType":"%s","routeKey":"%s","status":"%s","connectionId":"%s","userAgent":"%s","principalId":"%s","requestTimeEpoch":"%d","connectedAt":"%d"}'
                       % (rid, conn.ip, clf(t_req), event_type, route, status, conn.cid, conn.ua.replace('"', '\\"'),
                          conn.principal or "-", t_req, conn.connected_at))

    def exec_request(self, conn, rid, t, route, event_type, inv_fn, body_obj, handler, *, with_auth=False,
                     message_id=None, code=None, reason=None):
        """Render one WebSocket request in the execution log around a Lambda invocation.
        handler(inv) runs the function body and returns (status, response_body, error_message|None)."""
        rng = self.rng
        stream = self.exec_streams[hash_small(rid) % len(self.exec_streams)]
        # exec_detail "full": every template below; "compact" (bundled samples, to stay small):
        # request body, response headers, the lifecycle line and the integration request id only
        full = self.exec_detail == "full"
        ex = self._ex
        cur = t
        if full:
            ex(stream, cur, rid, "Extended Request Id: %s" % rid)                # §1.3 VERIFIED-REAL (REST) / §1.5 EMULATOR
        if with_auth and conn.principal:
            a = rng.randint(12, 60)
            if full:
                ex(stream, cur, rid, "Starting authorizer: %s for request: %s" % (self.authorizer_id, rid))  # §1.3 VERIFIED-REAL (REST)
            cur += a
            if full:
                ex(stream, cur, rid, "Using valid authorizer policy for principal: %s%s" % ("*" * max(0, len(conn.principal) - 6), conn.principal[-6:]))  # §1.3
                ex(stream, cur, rid, "Successfully completed authorizer execution")    # §1.3 VERIFIED-REAL (REST)
        if full:
            ex(stream, cur, rid, "Starting execution for request: %s" % rid)       # §1.3 / §1.5
        if full:
            ex(stream, cur, rid, "WebSocket Request Route: [%s]" % route)          # §1.5 EMULATOR
        if full and event_type == "CONNECT":
            ex(stream, cur, rid, "Client [UserAgent: %s, SourceIp: %s] is connecting to WebSocket API [%s]." % (conn.ua, conn.ip, self.api_id))  # §1.5 EMULATOR
        elif full and event_type == "MESSAGE":
            ex(stream, cur, rid, "WebSocket API [%s] received message from client [Connection Id: %s]." % (self.api_id, conn.cid))  # §1.5 EMULATOR
        cur += 1
        if full:
            ex(stream, cur, rid, "Endpoint request URI: %s" % self._lambda_uri(inv_fn))   # §1.3 VERIFIED-REAL
            g = _gm(cur // 1000)[0]
            ex(stream, cur, rid, "Endpoint request headers: {x-amzn-lambda-integration-tag=%s, Authorization=****...%s, X-Amz-Date=%04d%02d%02dT%02d%02d%02dZ, x-amzn-apigateway-api-id=%s, ... [TRUNCATED]"
               % (rid, self.ids.hex(6), g.tm_year, g.tm_mon, g.tm_mday, g.tm_hour, g.tm_min, g.tm_sec, self.api_id))  # §1.3 VERIFIED-REAL
        ex(stream, cur, rid, "Endpoint request body after transformations: %s" % self._body(body_obj))  # §1.3 + event shapes §2.4/§3.1
        if full:
            ex(stream, cur, rid, "Sending request to %s" % self._lambda_uri(inv_fn))   # §1.3 VERIFIED-REAL
        inv = Inv(self, inv_fn, cur + rng.randint(4, 15))
        status, resp_body, err = handler(inv)
        t_end = inv.finish()
        t_resp = t_end + rng.randint(2, 6)
        lat = t_resp - cur
        if full:
            ex(stream, t_resp, rid, "Received response. Status: 200, Integration latency: %d ms" % lat)  # §1.3 test-invoke wording / §1.5 EMULATOR
        ex(stream, t_resp, rid, self._resp_headers(t_resp, inv.reqid, len(resp_body), failed=err is not None))  # §1.3 VERIFIED-REAL
        if full:
            ex(stream, t_resp, rid, "Endpoint response body before transformations: %s" % resp_body)  # §1.3 / §1.5
        if err is not None:
            ex(stream, t_resp, rid, "Lambda execution failed with status 200 due to customer function error: %s. Lambda request id: %s" % (err, inv.reqid))  # §1.3 VERIFIED-REAL (REST)
            ex(stream, t_resp, rid, "Method completed with status: %d" % status)  # §1.3 REST; INFERENCE for WS
        elif event_type == "CONNECT":
            if status == 200:
                ex(stream, t_resp, rid, "Client [Connection Id: %s] connected to API [%s] successfully." % (conn.cid, self.api_id))  # §1.5 EMULATOR
            else:
                ex(stream, t_resp, rid, "Method completed with status: %d" % status)  # §1.3 REST; INFERENCE for WS
        elif event_type == "MESSAGE":
            ex(stream, t_resp, rid, "Message from client [Connection Id: %s] sent to API [%s] with response status code [%d]." % (conn.cid, self.api_id, status))  # §1.5 EMULATOR
        else:
            ex(stream, t_resp, rid, "Client [Connection Id: %s] disconnected from API [%s] with integration response status code [%d]. Close reason: [%d: %s]" % (conn.cid, self.api_id, status, code, reason))  # §1.5 EMULATOR
        if full and err is None and status == 200:
            ex(stream, t_resp, rid, "Successfully completed execution")            # §1.3 VERIFIED-REAL (REST)
        ex(stream, t_resp, rid, "AWS Integration Endpoint RequestId : %s" % inv.reqid)  # §1.3 VERIFIED-REAL
        self.access_row(t_resp + 1, rid, conn, t, event_type, route, status)
        return inv, t_resp, status

    # ---- the 410 core ------------------------------------------------------------------

    def outcome(self, cid, t, inv):
        """World truth for a management-API call to cid at time t from invocation inv.
        None = success; else (cause, detail, newConnectionId)."""
        c = self.conns.get(cid)
        if c is None:
            return ("unknown", "never-seen", None)
        if c.t_open is None or t < c.t_open:
            if c.t_resp is None or t < c.t_resp:
                if inv is not None and inv is c.connect_inv:
                    return ("pre-connect-post", "posted-from-connect-handler", None)
                return ("pre-connect-post", "posted-before-connect-completed", None)
            return ("pre-connect-post", "connect-rejected", None)
        if c.t_close is None or t < c.t_close:
            return None
        return self.after_close(c, t)

    def after_close(self, c, t):
        """Cause of a call at t to c, closed before t.  Depends on the client's later connections,
        so it is worked out again when the truth is written (`settle`): a long invocation (a
        broadcast) is simulated at once, before the connections its later calls race with."""
        # reconnect: newest successful connection of the same client opened after c and before t,
        # not closed by a logged $disconnect before t
        newer = None
        for n in reversed(self.by_key.get(c.client.key, ())):
            if n is c or n.t_open is None or n.t_open <= c.t_open or n.t_open >= t:
                continue
            newer = n
            break
        if newer is not None and not (newer.t_close is not None and newer.t_close <= t and newer.disc_logged):
            # detail "newer-connection" (matches Sources/GoneTrace/Classifier/Verdict.swift); whether the
            # client was matched by principalId or by sourceIp+userAgent shows in the fixture name only
            return ("reconnect-with-old-id", "newer-connection", newer.cid)
        if not c.disc_logged:
            return ("terminated-connection", "unlogged-disconnect", None)
        return ("terminated-connection", c.end_reason, None)

    def settle(self, entry):
        """The truth record of a logged 410, its cause worked out again on the world as it is now."""
        rec, t = entry[1], entry[2]
        if rec["cause"] in ("terminated-connection", "reconnect-with-old-id"):
            c = self.conns.get(rec["connectionId"])
            if c is not None and c.t_close is not None and c.t_close <= t:
                rec["cause"], rec["detail"], rec["newConnectionId"] = self.after_close(c, t)
        return rec

    def unlogged_ambiguous(self, cid, t):
        """True if a post at t to an id whose close was not logged would look like idle/max from the logs."""
        c = self.conns.get(cid)
        if c is None or c.t_close is None or c.disc_logged or c.t_close > t:
            return False
        return t - c.last_in >= IDLE_MS - 30_000 or t - c.connected_at >= MAX_MS - 60_000

    def record(self, t_first, t_call, op, cid, inv, cause, detail, new_cid, sdk, revealed):
        if not revealed:
            cid_out, cause, detail, new_cid = None, "unknown", "no-target-id", None
        else:
            cid_out = cid
        rec = {"time": iso_ms(t_first), "operation": op, "connectionId": cid_out, "lambdaRequestId": inv.reqid,
               "cause": cause, "detail": detail, "newConnectionId": new_cid, "sdk": sdk}
        self.stats["gone"] += 1
        (self.truth_sink if self.truth_sink is not None else self.truth).append((t_first, rec, t_call))
        return rec

    def call(self, inv, cid, op="PostToConnection", style="app", t=None, app_text=None):
        """One management-API call from inv to cid.  Renders the 410 if the world says so.
        Returns True on success, False on 410."""
        rng = self.rng
        if t is None:
            t = inv.advance(3, 25)
        self.stats["calls"] += 1
        oc = self.outcome(cid, t, inv)
        if oc is None:
            c = self.conns.get(cid)
            if c is not None and op == "PostToConnection":
                c.last_out = t
            return True
        cause, detail, new_cid = oc
        lat = rng.randint(12, 45)
        t1 = t + lat
        inv.cur = t1
        mgmt = self.ids.uuid()
        kind_sdk = FUNCS[inv.fn][3]
        revealed = True
        emitted = []
        k = inv.kind
        if kind_sdk == "node-v3":
            # app line §3.4 VERIFIED-REAL; dump §3.4 INFERENCE; Invoke Error §3.3/§3.4 INFERENCE
            if "app" in style:
                emitted.append(inv.log("ERROR", "Error sending to connection %s: GoneException: UnknownError" % cid, ts=t1))
            else:
                revealed = False
            if "dump" in style:
                emitted.append(inv.log("ERROR", node_v3_inspect(op, mgmt), ts=inv.advance(0, 2)))
            if "uncaught" in style:
                emitted.append(inv.log("ERROR", "Invoke Error \t" + node_v3_invoke_error_json(op, mgmt), ts=inv.advance(1, 4)))
        elif kind_sdk == "node-v3-json":
            # §3.10 INFERENCE: console.error(`typing indicator to ${id} failed`, err) in JSON log format
            text = "typing indicator to %s failed" % cid
            emitted.append(inv.log("ERROR", text + " " + node_v3_inspect(op, mgmt, nl="\n"), ts=t1,
                    extra={"errorType": "GoneException", "errorMessage": "UnknownError",
                           "stackTrace": ["GoneException: UnknownError"] + node_v3_frames(op)}))
        elif kind_sdk == "node-v2":
            if style == "stale":
                # AWS sample app text (anchors.md [K12], VERIFIED-SOURCE)
                emitted.append(inv.log("INFO", "Found stale connection, deleting %s" % cid, ts=t1))
            else:
                # §3.3 VERIFIED-REAL error JSON + VERIFIED-SOURCE framing
                revealed = False
                emitted.append(inv.log("ERROR", "Invoke Error \t" + node_v2_error_json(t1, mgmt, rng), ts=t1))
        elif kind_sdk == "python-boto3":
            msg = boto3_message("GoneException", op, "")
            if "exc" in style:
                text = (app_text or "Failed to post to connection %s") % cid
                emitted.append(inv.log("ERROR", text + "\n" + boto3_traceback(op, "GoneException", msg), ts=t1))
            else:
                revealed = False
            if "uncaught" in style:
                emitted.append(inv.raw(boto3_uncaught("GoneException", msg, op), ts=inv.advance(1, 5)))
        elif kind_sdk == "java-v2":
            exc = ("software.amazon.awssdk.services.apigatewaymanagementapi.model.GoneException: null "
                   "(Service: ApiGatewayManagementApi, Status Code: 410, Request ID: %s) (SDK Attempt Count: 1)" % mgmt)  # §3.6 INFERENCE
            if style == "noid":
                revealed = False
                emitted.append(inv.log("ERROR", "Post failed: " + exc, ts=t1))
            else:
                emitted.append(inv.log("ERROR", "Failed to post announcement to %s: %s" % (cid, exc), ts=t1))
        elif kind_sdk == "java-v1":
            # §3.6 VERIFIED-REAL
            exc = ("com.amazonaws.services.apigatewaymanagementapi.model.GoneException: null (Service: AmazonApiGatewayManagementApi; "
                   "Status Code: 410; Error Code: GoneException; Request ID: %s)\n"
                   "\tat com.amazonaws.http.AmazonHttpClient$RequestExecutor.handleErrorResponse(AmazonHttpClient.java:1742)\n"
                   "\tat com.amazonaws.http.AmazonHttpClient$RequestExecutor.handleServiceErrorResponse(AmazonHttpClient.java:1371)" % mgmt)
            emitted.append(inv.log("ERROR", "%s failed for connection %s\n%s" % (op, cid, exc), ts=t1))
        elif kind_sdk == "go-v2":
            # §3.7 INFERENCE (formatter VERIFIED-SOURCE)
            emitted.append(inv.log("ERROR", "connection %s is gone: operation error ApiGatewayManagementApi: %s, https response error StatusCode: 410, RequestID: %s, GoneException: " % (cid, op, mgmt), ts=t1))
        elif kind_sdk == "php":
            # §3.8 VERIFIED-REAL
            url = "https://%s/%s/@connections/%s" % (self.domain, STAGE, cid.replace("=", "%3D"))
            emitted.append(inv.log("ERROR", 'Aws\\ApiGatewayManagementApi\\Exception\\ApiGatewayManagementApiException Error executing "PostToConnection" on "%s"; AWS HTTP error: Client error: `POST %s` resulted in a `410 Gone` response Unable to parse error information from response - Error parsing JSON: Syntax error' % (url, url), ts=t1))
        else:
            raise ValueError("no 410 renderer for " + inv.fn)
        self.record(min(emitted), t, op, cid, inv, cause, detail, new_cid, kind_sdk, revealed)
        return False

    # ---- store ---------------------------------------------------------------------------

    def store_add(self, cid, room):
        self.store[cid] = room
        self.rooms.setdefault(room, {})[cid] = True

    def store_del(self, cid):
        room = self.store.pop(cid, None)
        if room is not None:
            self.rooms.get(room, {}).pop(cid, None)
        self.purge_at.pop(cid, None)

    def room_members(self, room, t, exclude=None):
        out = []
        members = self.rooms.get(room)
        if not members:
            return out
        for cid in list(members):
            if cid == exclude:
                continue
            if self.unlogged_ambiguous(cid, t):
                # backend TTL purge (keeps unlogged-disconnect truths unambiguous, see report)
                self.store_del(cid)
                continue
            out.append(cid)
        return out

    # ---- world actions -------------------------------------------------------------------

    def connect(self, client, t, *, welcome=None, reject=None, slow_ms=0, store=True):
        """Client opens a connection.  welcome: None | 'handled' | 'raise' (buggy welcome post from
        the $connect handler); reject: None | 403 | 500 (handler stores the id, then rejects)."""
        rid = self.ids.ws(t, "F")
        cid = self.ids.ws(t, "C")
        conn = Conn(cid, client, t)
        conn.ip, conn.ua = client.ip, client.ua
        self.conns[cid] = conn
        self.by_key.setdefault(client.key, []).append(conn)
        client.conns.append(conn)
        rng = self.rng
        wsk = self.ids.b64(16)
        hdr = {"Host": self.domain}
        if client.ua.startswith("Mozilla"):
            hdr["Sec-WebSocket-Extensions"] = "permessage-deflate; client_max_window_bits"
        hdr["Sec-WebSocket-Key"] = wsk
        hdr["Sec-WebSocket-Version"] = "13"
        hdr["User-Agent"] = client.ua
        hdr["X-Amzn-Trace-Id"] = "Root=" + self.xray(t)
        hdr["X-Forwarded-For"] = client.ip
        hdr["X-Forwarded-Port"] = "443"
        hdr["X-Forwarded-Proto"] = "https"
        body = {"headers": hdr, "multiValueHeaders": {k: [v] for k, v in hdr.items()},
                "requestContext": self._request_context(conn, rid, t, "$connect", "CONNECT"), "isBase64Encoded": False}
        result = {}

        def handler(inv):
            conn.connect_inv = inv
            inv.advance(2, 8)
            inv.log("INFO", "Storing connection %s for %s" % (cid, client.principal or "anonymous"))  # app text, §3.5 framing
            if store:
                self.store_add(cid, client.room)
            inv.advance(8, 25)
            # connect integration will finish after slow work; compute response time bound now so that
            # outcome() knows the connection is still pending during this invocation
            conn.t_resp = 10 ** 15
            if slow_ms:
                inv.log("INFO", "Loading profile and room history for %s" % (client.principal or cid))  # app text
            if welcome:
                ok = self.call(inv, cid, "PostToConnection", style="exc+uncaught" if welcome == "raise" else "exc",
                               app_text="Could not send welcome message to %s")
                if welcome == "raise" and not ok:
                    return 500, '{"errorMessage":"An error occurred (GoneException) when calling the PostToConnection operation: ","errorType":"GoneException","requestId":"%s","stackTrace":["  File \\"/var/task/app.py\\", line 41, in handler\\n    apigw.post_to_connection(ConnectionId=connection_id, Data=welcome)\\n"]}' % inv.reqid, "An error occurred (GoneException) when calling the PostToConnection operation: "
            if slow_ms:
                inv.cur += slow_ms
            if reject == 403:
                inv.log("WARNING", "Rejecting connection %s: user is banned" % cid)  # app text
                return 403, '{"statusCode": 403}', None
            if reject == 500:
                inv.log("ERROR", "Rejecting connection %s: could not load session" % cid)  # app text
                return 500, '{"statusCode": 500}', None
            return 200, '{"statusCode": 200}', None

        inv, t_resp, status = self.exec_request(conn, rid, t, "$connect", "CONNECT", "chat-connect", body, handler, with_auth=True)
        conn.t_resp = t_resp
        if status == 200:
            conn.t_open = t_resp + 1
            conn.last_in = conn.last_out = conn.t_open
        result["status"] = status
        return conn

    def send(self, conn, t, route="sendmessage", text="hello", style="app", targets=None, no_store_delete=False,
             reply_style="exc", close_after_ms=None, close_code=1005, huge=False):
        """Client sends a message on route.  The route's Lambda posts to room members (sendmessage /
        typing) or replies to the sender ($default)."""
        if conn.t_close is not None and conn.t_close <= t:
            return None
        rid = self.ids.ws(t, "F")
        mid = self.ids.ws(t, "C")
        conn.last_in = t
        payload = json.dumps({"action": route if route != "$default" else "help", "data": text}, separators=(",", ":"))
        body = {"requestContext": self._request_context(conn, rid, t, route, "MESSAGE", message_id=mid),
                "body": payload, "isBase64Encoded": False}
        fn = ROUTE_FN[route]
        t_close = [None]

        def handler(inv):
            failed_err = None
            if route == "$default":
                if close_after_ms is not None:
                    # client closes right after sending; the reply arrives after the close
                    t_close[0] = t + close_after_ms
                    self._close_now(conn, t_close[0], "client-closed", close_code,
                                    "Client-side close frame status not set" if close_code == 1005 else "")
                    inv.cur = max(inv.cur, t_close[0] + self.rng.randint(200, 600))
                inv.advance(5, 20)
                self.call(inv, conn.cid, "PostToConnection", style=reply_style, app_text="Could not reply to %s")
                return 200, '{"statusCode": 200}', None
            members = targets if targets is not None else self.room_members(conn.room, t, exclude=conn.cid)
            if route == "sendmessage":
                inv.log("INFO", "Relaying message from %s to %d connections" % (conn.cid, len(members)), ts=inv.advance(3, 10))  # app text
            for cid in members:
                if cid == "test-connection-123":
                    # §3.4 VERIFIED-REAL BadRequestException text (noise, not a 410)
                    inv.log("ERROR", "Error sending to connection test-connection-123: BadRequestException: Invalid connectionId", ts=inv.advance(10, 30))
                    continue
                st = style if isinstance(style, str) else style.get(cid, "app")
                ok = self.call(inv, cid, "PostToConnection", style=st)
                if not ok:
                    if "uncaught" in st:
                        failed_err = "UnknownError"
                        break
                    if route == "sendmessage" and not no_store_delete:
                        self.store_del(cid)
            if failed_err:
                return 500, '{"errorType":"GoneException","errorMessage":"UnknownError"}', failed_err
            return 200, '{"statusCode":200,"body":"Data sent."}', None

        inv, t_resp, status = self.exec_request(conn, rid, t, route, "MESSAGE", fn, body, handler, message_id=mid)
        return inv

    def big_message(self, conn, t, cleanup=True):
        """Client sends a frame > 32 KB: API Gateway closes with 1009 (§5.1 VERIFIED-DOC)."""
        conn.last_in = t
        self.close(conn, t + self.rng.randint(5, 40), "message-too-big", 1009, "", cleanup=cleanup)  # reason text unknown (Gaps 4): ""

    def _close_now(self, conn, t, reason_tag, code, reason_text):
        conn.t_close = t
        conn.end_reason = reason_tag
        conn.close_code = code
        conn.close_reason = reason_text
        conn.disc_logged = True

    def close(self, conn, t, reason_tag, code=None, reason_text=None, logged=True, cleanup=True, notify_style="stale",
              render=True):
        """Connection ends at t.  reason_tag: client-closed | idle-timeout | max-duration |
        deleted-by-backend | message-too-big.  logged=False: best-effort $disconnect lost."""
        if conn.t_close is None or conn.t_close > t:
            if code is None:
                code, reason_text = {"idle-timeout": (1001, "Going away"), "max-duration": (1001, "Going away"),
                                     "deleted-by-backend": (1000, "Connection Closed Normally"),
                                     "message-too-big": (1009, ""), "client-closed": (1001, "")}[reason_tag]
            conn.t_close = t
            conn.end_reason = reason_tag
            conn.close_code = code
            conn.close_reason = reason_text
            conn.disc_logged = logged
        if not logged or not render:
            return None
        code, reason_text = conn.close_code, conn.close_reason
        rid = self.ids.ws(t, "F")
        body = {"headers": {"Host": self.domain, "x-api-key": "", "X-Forwarded-For": "", "x-restapi": ""},
                "multiValueHeaders": {"Host": [self.domain], "x-api-key": [""], "X-Forwarded-For": [""], "x-restapi": [""]},
                "requestContext": self._request_context(conn, rid, t, "$disconnect", "DISCONNECT", code=code, reason=reason_text),
                "isBase64Encoded": False}

        def handler(inv):
            inv.advance(3, 12)
            if cleanup:
                self.store_del(conn.cid)
            # notify the room (SDK v2 sample-app style: 410 -> "Found stale connection, deleting")
            members = self.room_members(conn.room, inv.cur, exclude=conn.cid)
            for cid in members:
                st = notify_style if isinstance(notify_style, str) else notify_style.get(cid, "stale")
                ok = self.call(inv, cid, "PostToConnection", style=st)
                if not ok:
                    if st == "stale":
                        self.store_del(cid)
                    else:
                        return 500, '{"errorType":"GoneException","errorMessage":"410"}', "410"
            return 200, '{"statusCode": 200}', None

        inv, t_resp, status = self.exec_request(conn, rid, t, "$disconnect", "DISCONNECT", "chat-disconnect", body, handler,
                                                code=code, reason=reason_text)
        return inv

    def broadcast(self, t, targets=None, noid=(), summary=True):
        """Scheduled Java v2 announcement broadcaster: posts to every stored connection, never deletes."""
        inv = Inv(self, "chat-broadcast", t)
        members = targets if targets is not None else [c for c in list(self.store) if not self.unlogged_ambiguous(c, t) or self.store_del(c)]
        inv.log("INFO", "Broadcasting announcement to %d connections" % len(members), ts=inv.advance(20, 80))  # app text
        failed = 0
        for cid in members:
            ok = self.call(inv, cid, "PostToConnection", style="noid" if cid in noid else "app", t=inv.advance(2, 9))
            failed += (not ok)
        inv.log("INFO", "Announcement delivered to %d of %d connections" % (len(members) - failed, len(members)), ts=inv.advance(1, 5))  # app text
        inv.finish()
        return inv

    def sweep(self, t, targets=None, noise=()):
        """Go v2 presence sweeper: GetConnection on stored ids, deletes gone ones.  noise: '403', '429'."""
        inv = Inv(self, "chat-presence", t)
        members = targets if targets is not None else list(self.store)[:60]
        inv.log("INFO", "presence sweep: checking %d connections" % len(members), ts=inv.advance(3, 10))  # app text
        for n in noise:
            if n == "429":
                # §3.7 INFERENCE (429 LimitExceededException, Go v2 formatter)
                inv.log("WARN", "throttled, will retry: operation error ApiGatewayManagementApi: PostToConnection, https response error StatusCode: 429, RequestID: %s, LimitExceededException: " % self.ids.uuid(), ts=inv.advance(5, 20))
            elif n == "403":
                # §3.7 VERIFIED-REAL 403 ForbiddenException
                inv.log("ERROR", "ping failed: operation error ApiGatewayManagementApi: PostToConnection, https response error StatusCode: 403, RequestID: %s, ForbiddenException" % self.ids.uuid(), ts=inv.advance(5, 20))
        gone = 0
        for cid in members:
            if self.unlogged_ambiguous(cid, inv.cur):
                self.store_del(cid)
                continue
            ok = self.call(inv, cid, "GetConnection", t=inv.advance(2, 12))
            if not ok:
                gone += 1
                self.store_del(cid)
        inv.log("INFO", "presence sweep done: %d gone" % gone, ts=inv.advance(1, 4))  # app text
        inv.finish()
        return inv

    def kick(self, t, cid, post_first=True, cleanup=True):
        """Java v1 moderation: post a notice, then DeleteConnection."""
        inv = Inv(self, "chat-admin", t)
        inv.log("INFO", "Kicking connection %s" % cid, ts=inv.advance(5, 20))  # app text
        if post_first:
            self.call(inv, cid, "PostToConnection", t=inv.advance(3, 10))
        tdel = inv.advance(3, 12)
        ok = self.call(inv, cid, "DeleteConnection", t=tdel)
        inv.finish()
        if ok:
            c = self.conns.get(cid)
            if c is not None:
                self.close(c, tdel + self.rng.randint(20, 60), "deleted-by-backend", 1000, "Connection Closed Normally",
                           cleanup=cleanup)
        return inv

    def notify(self, t, cid):
        """PHP push-notification worker posting to a user's stored connection id."""
        inv = Inv(self, "chat-notify", t)
        inv.log("INFO", "Delivering notification to %s" % cid, ts=inv.advance(10, 40))  # app text
        self.call(inv, cid, "PostToConnection", t=inv.advance(3, 20))
        inv.finish()
        return inv

    def default_noise(self, conn, t, kind):
        """$default handler (boto3) hitting 429 / 403 -- look-alike noise (not 410)."""
        rid = self.ids.ws(t, "F")
        mid = self.ids.ws(t, "C")
        conn.last_in = t
        body = {"requestContext": self._request_context(conn, rid, t, "$default", "MESSAGE", message_id=mid),
                "body": '{"action":"help"}', "isBase64Encoded": False}

        def handler(inv):
            inv.advance(5, 20)
            if kind == "429":
                # §3.5 template, INFERENCE
                inv.log("WARNING", "Throttled replying to %s, retrying: %s" % (conn.cid, boto3_message("LimitExceededException", "PostToConnection", "")))
                inv.advance(100, 300)
                conn.last_out = inv.cur
            else:
                # §3.5 template, INFERENCE ("Forbidden" body text)
                inv.log("ERROR", "Could not reply to %s\n%s" % (conn.cid, boto3_traceback("PostToConnection", "ForbiddenException", boto3_message("ForbiddenException", "PostToConnection", "Forbidden"))))
            return 200, '{"statusCode": 200}', None

        self.exec_request(conn, rid, t, "$default", "MESSAGE", "chat-default", body, handler, message_id=mid)

    def cosmos_noise(self, t, variant="v2"):
        """chat-archive (.NET) logging an Azure Cosmos DB GoneException -- NOT an API Gateway 410."""
        inv = Inv(self, "chat-archive", t)
        inv.log("INFO", "Archiving chat history batch", ts=inv.advance(5, 20))  # app text
        if variant == "v2":
            # VERIFIED-REAL https://github.com/Azure/azure-cosmos-dotnet-v2/issues/408
            inv.log("ERROR", "Microsoft.Azure.Documents.GoneException: The requested resource is no longer available at the server.\nActivityId: %s, documentdb-dotnet-sdk/1.19.1 Host/32-bit MicrosoftWindowsNT/6.2.9200.0\n   at Microsoft.Azure.Documents.TimeoutHelper.ThrowGoneIfElapsed()" % self.ids.uuid(), ts=inv.advance(200, 900))
        else:
            # VERIFIED-REAL https://github.com/Azure/azure-cosmos-dotnet-v3/issues/2111
            inv.log("ERROR", "GoneException:\nThe requested resource is no longer available at the server.\nActivityId: %s, Windows/10.0.17763 cosmos-netstandard-sdk/3.9.0" % self.ids.uuid(), ts=inv.advance(200, 900))
        inv.finish()
        return inv

    def sorted_truth(self):
        self.truth.sort(key=lambda x: (x[0], x[1]["lambdaRequestId"]))
        return [self.settle(e) for e in self.truth]


def hash_small(s: str) -> int:
    h = 0
    for ch in s[-6:]:
        h = (h * 131 + ord(ch)) & 0xFFFFFF
    return h


# ---------------------------------------------------------------------------
# SDK renderings
# ---------------------------------------------------------------------------

NODE_V2_STACK = [
    # §3.3 VERIFIED-REAL (aws-sdk-js-v3 #2763 / aws-sdk-js #3773)
    "GoneException: 410",
    "    at Object.extractError (/var/runtime/node_modules/aws-sdk/lib/protocol/json.js:52:27)",
    "    at Request.extractError (/var/runtime/node_modules/aws-sdk/lib/protocol/rest_json.js:55:8)",
    "    at Request.callListeners (/var/runtime/node_modules/aws-sdk/lib/sequential_executor.js:106:20)",
    "    at Request.emit (/var/runtime/node_modules/aws-sdk/lib/sequential_executor.js:78:10)",
    "    at Request.emit (/var/runtime/node_modules/aws-sdk/lib/request.js:688:14)",
    "    at Request.transition (/var/runtime/node_modules/aws-sdk/lib/request.js:22:10)",
    "    at AcceptorStateMachine.runTo (/var/runtime/node_modules/aws-sdk/lib/state_machine.js:14:12)",
    "    at /var/runtime/node_modules/aws-sdk/lib/state_machine.js:26:10",
]


def node_v2_error_json(t, mgmt, rng):
    """§3.3 VERIFIED-REAL SDK v2 GoneException serialised by the Node runtime (Invoke Error)."""
    return ('{"errorType":"GoneException","errorMessage":"410","code":"GoneException","message":"410","statusCode":410,'
            '"time":"%s","requestId":"%s","retryable":false,"retryDelay":%s,"stack":%s}'
            % (iso_ms(t), mgmt, repr(rng.uniform(5, 99)), json.dumps(NODE_V2_STACK, separators=(",", ":"))))


def node_v3_frames(op):
    # §3.4 INFERENCE: frame function names/paths are placeholders (only `de_GoneExceptionRes` is named there)
    return ["    at de_GoneExceptionRes (/var/runtime/node_modules/@aws-sdk/client-apigatewaymanagementapi/dist-cjs/index.js:290:21)",
            "    at de_%sCommandError (/var/runtime/node_modules/@aws-sdk/client-apigatewaymanagementapi/dist-cjs/index.js:231:14)" % op,
            "    at async /var/runtime/node_modules/@aws-sdk/node_modules/@smithy/middleware-serde/dist-cjs/index.js:35:20"]


def node_v3_inspect(op, mgmt, nl="\r"):
    """§3.4 INFERENCE: util.inspect(err) of an SDK v3 GoneException ($metadata shape VERIFIED-REAL)."""
    lines = ["GoneException: UnknownError"] + node_v3_frames(op)
    lines[-1] += " {"
    lines += ["  '$fault': 'client',", "  '$metadata': {", "    httpStatusCode: 410,", "    requestId: '%s'," % mgmt,
              "    extendedRequestId: undefined,", "    cfId: undefined,", "    attempts: 1,", "    totalRetryDelay: 0", "  }", "}"]
    return nl.join(lines)


def node_v3_invoke_error_json(op, mgmt):
    """§3.3 framing + §3.4 serialized shape (INFERENCE)."""
    d = {"errorType": "GoneException", "errorMessage": "UnknownError", "name": "GoneException", "$fault": "client",
         "$metadata": {"httpStatusCode": 410, "requestId": mgmt, "attempts": 1, "totalRetryDelay": 0},
         "message": "UnknownError", "stack": ["GoneException: UnknownError"] + node_v3_frames(op)}
    return json.dumps(d, separators=(",", ":"))


def boto3_message(code, op, message):
    # §3.5 VERIFIED-SOURCE botocore ClientError.MSG_TEMPLATE
    return "An error occurred (%s) when calling the %s operation: %s" % (code, op, message)


BOTO3_FRAMES = [
    # app frame (app text) + botocore frames from the VERIFIED-REAL Chalice stackTrace (§3.5)
    ('  File "/var/task/app.py", line 41, in handler', "    apigw.post_to_connection(ConnectionId=connection_id, Data=payload)"),
    ('  File "/var/task/botocore/client.py", line 530, in _api_call', "    return self._make_api_call(operation_name, kwargs)"),
    ('  File "/var/task/botocore/client.py", line 960, in _make_api_call', "    raise error_class(parsed_response, operation_name)"),
]


def boto3_traceback(op, code, msg):
    """logger.exception() traceback text; last line module-qualified (§3.5 INFERENCE)."""
    out = ["Traceback (most recent call last):"]
    for a, b in BOTO3_FRAMES:
        out += [a, b]
    out.append("botocore.errorfactory.%s: %s" % (code, msg))
    return "\n".join(out)


def boto3_uncaught(code, msg, op):
    """§3.5 VERIFIED-SOURCE bootstrap.py framing: "[ERROR] <type>: <msg>" + traceback, \\r-joined,
    leading spaces -> U+00A0; no request id.  Whole line INFERENCE."""
    parts = ["[ERROR] %s: %s" % (code, msg), "Traceback (most recent call last):"]
    for a, b in BOTO3_FRAMES:
        parts.append(a.replace("  ", "\u00a0\u00a0", 1))
        parts.append(b.replace("    ", "\u00a0\u00a0\u00a0\u00a0", 1))
    return "\r".join(parts) + "\n"


# ---------------------------------------------------------------------------
# Envelope writers
# ---------------------------------------------------------------------------


class _GzText:
    """Minimal text wrapper over a GzipFile that also closes the underlying file."""

    __slots__ = ("gz", "raw")

    def __init__(self, gz, raw):
        self.gz = gz
        self.raw = raw

    def write(self, s):
        self.gz.write(s.encode("utf-8"))

    def close(self):
        self.gz.close()
        self.raw.close()


def default_file_name(group):
    return group.strip("/").replace("/", "_")


class EnvelopeWriter:
    """Streams events (per group, time-sorted per group) into one of the envelopes.
    envelope: lines | cli-json | s3-export | tail."""

    def __init__(self, envelope, out, file_map=None, seed=1, page_events=10000, chunk_bytes=64 << 20,
                 gzip_level=6, ext=None, block_lines=64):
        self.envelope = envelope
        self.out = out
        self.file_map = file_map or {}
        self.rng = random.Random(seed * 31 + 5)
        self.page_events = page_events
        self.chunk_bytes = chunk_bytes
        self.gzip_level = gzip_level
        self.ext = ext
        self.block_lines = block_lines
        self.files = {}     # group -> file handle (lines, tail, cli-json)
        self.pages = {}     # group -> list of event dicts (cli-json)
        self.pending_page = {}  # group -> full page waiting for proof that more follow
        self.s3 = {}        # (group, stream) -> [gzfile, bytes, chunk_no, block, prev_block]
        self.task_ids = {}
        self.bytes = 0      # bytes of log content written (uncompressed for s3-export)
        self.raw_in = 0     # sum(len(message) + 26) of events added
        self.raw_out = 0    # same, for events whose output has been written
        self.paths = {}     # path -> bytes
        os.makedirs(out, exist_ok=True)

    def _path(self, group):
        if group in self.file_map:
            return os.path.join(self.out, self.file_map[group])
        ext = self.ext or {"lines": ".log", "tail": ".tail.txt", "cli-json": ".json"}[self.envelope]
        return os.path.join(self.out, default_file_name(group) + ext)

    def _fh(self, group):
        f = self.files.get(group)
        if f is None:
            p = self._path(group)
            os.makedirs(os.path.dirname(p) or ".", exist_ok=True)
            f = open(p, "w", encoding="utf-8", newline="", buffering=1 << 20)
            self.files[group] = f
            self.paths[p] = 0
        return f

    def add(self, group, stream, ts, msg):
        env = self.envelope
        n = len(msg) + 26
        self.raw_in += n
        if env != "cli-json":
            self.raw_out += n
        if env == "lines":
            # §4.4: "<ISO ms Z> <message>", message's own trailing \n dropped
            if msg.endswith("\n"):
                msg = msg[:-1]
            s = "%s %s\n" % (iso_ms(ts), msg)
            self._fh(group).write(s)
            self.bytes += len(s)
        elif env == "tail":
            # §4.2 DetailedLogEventsFormatter: '%s %s %s' % (isoformat(timespec='microseconds'), stream, message); rstrip + '\n'
            s = ("%s %s %s" % (iso_us_tail(ts), stream, msg)).rstrip() + "\n"
            self._fh(group).write(s)
            self.bytes += len(s)
        elif env == "cli-json":
            page = self.pages.setdefault(group, [])
            if group in self.pending_page:
                self._write_page(group, self.pending_page.pop(group), more=True)
            page.append({"logStreamName": stream, "timestamp": ts, "message": msg,
                         "ingestionTime": ts + 150 + self.rng.randint(0, 1800),
                         "eventId": self._event_id(ts)})
            if len(page) >= self.page_events:
                self.pending_page[group] = page
                self.pages[group] = []
        elif env == "s3-export":
            self._s3_add(group, stream, ts, msg)
        else:
            raise ValueError(env)

    def _event_id(self, ts):
        # 56 decimal digits (§4.1 VERIFIED-DOC shape); leading digits follow the timestamp
        return ("%017d" % (ts * 1000 + self.rng.randint(0, 999)))[:17] + "%039d" % (self.rng.getrandbits(130) % (10 ** 39))

    def _next_token(self):
        alphabet = B64URL
        return "".join(alphabet[self.rng.getrandbits(6)] for _ in range(108))

    def _write_page(self, group, events, more):
        self.raw_out += sum(len(e["message"]) + 26 for e in events)
        doc = {"events": events, "searchedLogStreams": []}
        if more:
            doc["nextToken"] = self._next_token()
        # aws-cli v1 JSONFormatter: json.dump(response, stream, indent=4); stream.write('\n')
        s = json.dumps(doc, indent=4) + "\n"
        self._fh(group).write(s)
        self.bytes += len(s)

    # -- s3 export --
    def _task(self, group):
        t = self.task_ids.get(group)
        if t is None:
            h = "%032x" % self.rng.getrandbits(128)
            t = "%s-%s-4%s-%s%s-%s" % (h[:8], h[8:12], h[13:16], "89ab"[int(h[16], 16) & 3], h[17:20], h[20:32])
            self.task_ids[group] = t
            os.makedirs(os.path.join(self.out, "exportedlogs"), exist_ok=True)
            marker = os.path.join(self.out, "exportedlogs", "aws-logs-write-test")
            if not os.path.exists(marker):
                with open(marker, "w") as f:
                    f.write("Permission Check Successful")
                self.paths[marker] = len("Permission Check Successful")
        return t

    def _s3_open(self, group, stream, chunk):
        root = os.path.join(self.out, self.file_map.get(group, ""), "exportedlogs", self._task(group)) if group in self.file_map \
            else os.path.join(self.out, "exportedlogs", self._task(group))
        d = os.path.join(root, *stream.split("/"))  # '/' in stream names -> nested folders (INFERENCE, §4.4)
        os.makedirs(d, exist_ok=True)
        p = os.path.join(d, "%06d.gz" % chunk)
        self.paths[p] = 0
        # mtime=0 and no file name in the gzip header -> byte-identical output for the same seed
        raw = open(p, "wb")
        gz = gzip.GzipFile(filename="", mode="wb", compresslevel=self.gzip_level, fileobj=raw, mtime=0)
        return _GzText(gz, raw), p

    def _s3_add(self, group, stream, ts, msg):
        key = (group, stream)
        st = self.s3.get(key)
        if st is None:
            if group in self.file_map:
                # samples: per-group sub-directory; marker belongs beside the task dirs
                self._task(group)
            fh, p = self._s3_open(group, stream, 0)
            st = [fh, 0, 0, [], None, p]
            self.s3[key] = st
        # §4.4: "<ISO> <message>"; a message ending in \n leaves a blank line
        s = "%s %s\n" % (iso_ms(ts), msg)
        st[3].append(s)
        if len(st[3]) >= self.block_lines:
            self._s3_block(key, st)

    def _s3_block(self, key, st, final=False):
        block, st[3] = st[3], []
        prev = st[4]
        # "Time-based sorting on chunks of log data inside an exported file is not guaranteed": swap
        # neighbouring blocks now and then
        if prev is None and not final and self.rng.random() < 0.35:
            st[4] = block
            return
        parts = [block, prev] if prev is not None else [block]
        st[4] = None
        for b in parts:
            data = "".join(b)
            if st[0] is None:
                st[0], st[5] = self._s3_open(key[0], key[1], st[2])
            st[0].write(data)
            st[1] += len(data)
            self.bytes += len(data)
        if st[1] >= self.chunk_bytes:
            st[0].close()
            st[2] += 1
            st[0] = None  # next chunk opened lazily
            st[1] = 0

    def close_stream(self, group, stream):
        if self.envelope != "s3-export":
            return
        key = (group, stream)
        st = self.s3.pop(key, None)
        if st is None:
            return
        if st[3] or st[4]:
            if st[4] is not None and not st[3]:
                st[3], st[4] = st[4], None
            self._s3_block(key, st, final=True)
            if st[4] is not None:
                st[3], st[4] = st[4], None
                self._s3_block(key, st, final=True)
        if st[0] is not None:
            st[0].close()

    def close(self):
        if self.envelope == "cli-json":
            for g in list(self.pending_page):
                page = self.pending_page.pop(g)
                rest = self.pages.get(g, [])
                self._write_page(g, page, more=bool(rest))
            for g, page in self.pages.items():
                if page:
                    self._write_page(g, page, more=False)
            self.pages = {}
        if self.envelope == "s3-export":
            for key in list(self.s3):
                self.close_stream(*key)
        for f in self.files.values():
            f.close()
        self.files = {}
        for p in list(self.paths):
            if os.path.exists(p):
                self.paths[p] = os.path.getsize(p)
        return self.paths


def write_events(events, envelope, out, file_map=None, **kw):
    """Write a list of event dicts {logGroup, logStream, timestamp, message} in one envelope.
    Returns {path: size}."""
    w = EnvelopeWriter(envelope, out, file_map=file_map, **kw)
    for e in sorted(events, key=lambda e: e["timestamp"]):
        w.add(e["logGroup"], e["logStream"], e["timestamp"], e["message"])
    return w.close()


# ---------------------------------------------------------------------------
# Curated samples scenario
# ---------------------------------------------------------------------------

SAMPLES_API_ID = "k7x2m9q4ab"


def _m(start_ms, minutes, seconds=0.0):
    return start_ms + int(round(minutes * 60_000 + seconds * 1000))


def generate_samples(start_ms: int, exec_detail: str = "compact"):
    """Hand-scripted ~95 minutes of one chat app with at least one 410 of every cause/detail and the
    look-alike noise lines.  Returns (events, truth) -- events sorted by timestamp."""
    sink = ListSink()
    app = App(sink, seed=20240509, start_ms=start_ms, api_id=SAMPLES_API_ID, exec_detail=exec_detail)
    app.container_keepalive = 40 * 60_000
    M = lambda mi, s=0.0: _m(start_ms, mi, s)
    UA = USER_AGENTS
    cl = {}

    def client(name, principal=None, ua=0, room="lobby", ip=None):
        c = app.new_client(name, principal=principal, ua=UA[ua], room=room, ip=ip)
        cl[name] = c
        return c

    alice = client("alice", "user|alice-7f3a21", 0)
    bob = client("bob", "user|bob-19c2e0", 1)
    carl = client("carl", None, 4)
    dana = client("dana", None, 2)
    erin = client("erin", "user|erin-5520ab", 3)
    fred = client("fred", None, 5, room="support")
    gus = client("gus", "user|gus-0b771c", 0, room="ops")
    hana = client("hana", None, 6)
    ivan = client("ivan", "user|ivan-e41d09", 1)
    jo = client("jo", None, 7)
    kate = client("kate", "user|kate-8a03f2", 2)
    mike = client("mike", None, 1, room="support")
    nina = client("nina", None, 0)
    olga = client("olga", "user|olga-3c9e44", 0, room="dev")
    pete = client("pete", "user|pete-71b0d5", 3, room="dev")
    quinn = client("quinn", None, 2, room="dev")
    rosa = client("rosa", "user|rosa-a1e6f8", 0, room="dev")
    sam = client("sam", None, 3, room="ops")
    tara = client("tara", "user|tara-2d5c90", 1, room="ops")
    uma = client("uma", None, 4, room="ops")
    walt = client("walt", "user|walt-6e8b13", 0)
    vic = client("vic", None, 5, room="ops")
    lena = client("lena", "user|lena-94f0c7", 0, room="ticker")

    # --- state before the window: a legacy id in the notification table (never seen in any log), a
    # long-lived ticker subscriber connected 30 min before the window (its $connect is not in the window)
    legacy_cid = app.ids.ws(start_ms - 86_400_000, "C")
    lena_conn = Conn(app.ids.ws(M(-30, -10), "C"), lena, M(-30, -10))
    lena_conn.t_resp = lena_conn.connected_at + 40
    lena_conn.t_open = lena_conn.connected_at + 41
    lena_conn.last_in = M(-1)
    app.conns[lena_conn.cid] = lena_conn
    app.by_key.setdefault(lena.key, []).append(lena_conn)
    app.store_add(lena_conn.cid, "ticker")
    app.store_add("test-connection-123", "lobby")  # a developer's test row (BadRequestException noise)

    C = {}
    acts = []

    def at(t, f):
        acts.append((t, len(acts), f))

    def conn_(key, cli, t, **kw):
        at(t, lambda: C.__setitem__(key, app.connect(cli, t, **kw)))

    def send_(key, t, **kw):
        at(t, lambda: app.send(C[key], t, **kw))

    def close_(key, t, *a, **kw):
        at(t, lambda: app.close(C[key], t, *a, **kw))

    # 0-5 min: lobby fills up
    conn_("alice", alice, M(0, 30))
    conn_("bob", bob, M(0, 45))
    conn_("carl", carl, M(1, 20))
    # dana: $connect handler posts a welcome to its own id -> 410, re-raises -> connect fails (500)
    conn_("dana0", dana, M(2, 0), welcome="raise")
    # dana retries; the handler now swallows the error -> 410 logged, connect succeeds
    conn_("dana", dana, M(2, 6), welcome="handled")
    # alice -> lobby: dana0's stored id (connect-rejected) + a developer's test row (BadRequest noise)
    send_("alice", M(2, 40), text="morning all")
    at(M(2, 41), lambda: app.store_del("test-connection-123"))
    # erin: slow $connect (profile load); alice posts while it is pending -> posted-before-connect-completed
    conn_("erin", erin, M(4, 0), slow_ms=2600)
    send_("alice", M(4, 0.9), text="who's joining?")
    # fred: handler stores the id, then rejects the connection (403)
    conn_("fred", fred, M(5, 0), reject=403)
    # PHP notifier: legacy id from yesterday -> never-seen
    at(M(5, 30), lambda: app.notify(M(5, 30), legacy_cid))
    # carl closes (1005); $disconnect handler leaves the room row behind (cleanup bug)
    close_("carl", M(8, 0), "client-closed", 1005, "Client-side close frame status not set", cleanup=False)
    send_("alice", M(9, 0), text="carl?")                      # carl's stale row -> client-closed (node v3)
    conn_("gus", gus, M(10, 0))                               # silent room -> idles out 600 s later
    conn_("hana", hana, M(11, 0))                             # CloudFront client, 40 KB frame -> 1009
    at(M(13, 0), lambda: app.big_message(C["hana"], M(13, 0)))
    # typing indicators go to an explicit recipient list (kept by the client) -> hana is gone
    at(M(14, 0), lambda: app.send(C["bob"], M(14, 0), route="typing", text="", targets=[C["hana"].cid, C["alice"].cid]))
    conn_("ivan", ivan, M(15, 0))                             # will be kicked
    conn_("jo", jo, M(16, 0))                                 # network drop, $disconnect never logged
    at(M(18, 0), lambda: app.kick(M(18, 0), C["ivan"].cid))
    # duplicate moderation job: DeleteConnection on the already-deleted id -> 410 deleted-by-backend (Java v1)
    at(M(18, 40), lambda: app.kick(M(18, 40), C["ivan"].cid, post_first=False))
    send_("jo", M(18, 50), text="brb, train tunnel")
    close_("jo", M(19, 0), "client-closed", 1006, "", logged=False)
    at(M(20, 0), lambda: app.close(C["gus"], C["gus"].last_out + IDLE_MS + 37, "idle-timeout", cleanup=False))
    conn_("kate", kate, M(20, 5))
    send_("alice", M(21, 0), text="jo, you there?")           # jo's row -> unlogged-disconnect (node v3)
    at(M(22, 0), lambda: app.notify(M(22, 0), C["jo"].cid))   # PHP -> unlogged-disconnect
    close_("kate", M(24, 0), "client-closed", 1001, "", cleanup=False)

    def kate_back():
        kate.ip = app.new_ip()                                # same principal, other network
        C["kate2"] = app.connect(kate, M(24, 10))
    at(M(24, 10), kate_back)
    # Go presence sweeper: gus -> idle-timeout (GetConnection); look-alike 429 + 403 lines
    at(M(25, 0), lambda: app.sweep(M(25, 0), targets=[C["alice"].cid, C["gus"].cid, C["bob"].cid], noise=("429", "403")))
    # bob -> lobby: kate's old id -> reconnect-with-old-id (same principal): app line + util.inspect dump, one call
    at(M(26, 0), lambda: app.send(C["bob"], M(26, 0), text="welcome back kate", style={C["kate"].cid: "app+dump"}))
    conn_("mike", mike, M(27, 0))
    # Java v2 announcement to every stored id: fred (connect-rejected, logged without the id -> no-target-id)
    at(M(30, 0), lambda: app.broadcast(M(30, 0), noid={C["fred"].cid}))
    close_("mike", M(33, 0), "client-closed", 1001, "", cleanup=False)
    conn_("mike2", mike, M(33, 5))                            # same ip + UA
    conn_("nina", nina, M(34, 0))

    def nina_bye():
        # nina sends on $default and closes 60 ms later; the boto3 reply hits the closed connection
        app.send(C["nina"], M(35, 0), route="$default", text="help", close_after_ms=60, close_code=1005)
        app.close(C["nina"], C["nina"].t_close, "client-closed")
    at(M(35, 0), nina_bye)
    conn_("olga", olga, M(36, 0))
    conn_("pete", pete, M(36, 30))
    conn_("quinn", quinn, M(37, 0))
    close_("olga", M(40, 0), "client-closed", 1001, "", cleanup=False)
    # pete types 3 times to olga's stale id (the typing handler never deletes) -> 3 x 410, same id
    for mi in (41.0, 41.5, 42.0):
        at(M(mi), (lambda mi=mi: app.send(C["pete"], M(mi), route="typing", text="", targets=[C["olga"].cid, C["quinn"].cid])))
    at(M(44, 0), lambda: app.default_noise(C["quinn"], M(44, 0), "429"))
    at(M(44, 30), lambda: app.default_noise(C["quinn"], M(44, 30), "403"))
    conn_("rosa", rosa, M(45, 0))
    close_("rosa", M(50, 0), "client-closed", 1005, "Client-side close frame status not set", cleanup=False)
    # quinn -> dev: olga (app line) and rosa: app line + dump + Invoke Error for ONE call (handler aborts)
    at(M(52, 0), lambda: app.send(C["quinn"], M(52, 0), text="rosa: thanks!", style={C["rosa"].cid: "app+dump+uncaught"}))
    conn_("sam", sam, M(53, 0))
    conn_("tara", tara, M(53, 20))
    conn_("uma", uma, M(54, 0))
    close_("tara", M(56, 0), "client-closed", 1001, "", cleanup=False)
    # sam leaves: Node v2 $disconnect handler notifies ops -> tara stale -> "Found stale connection, deleting"
    close_("sam", M(58, 0), "client-closed", 1005, "Client-side close frame status not set")
    # Java v2 again: mike's old id -> reconnect-with-old-id (same ip + UA)
    at(M(60, 0), lambda: app.broadcast(M(60, 0)))
    at(M(65, 0), lambda: app.cosmos_noise(M(65, 0)))
    conn_("walt", walt, M(66, 0))
    send_("walt", M(67, 0), text="anyone from support?")
    close_("walt", M(72, 0), "client-closed", 1001, "", cleanup=False)
    # admin kicks walt after he left: PostToConnection 410 + DeleteConnection 410 (Java v1)
    at(M(75, 0), lambda: app.kick(M(75, 0), C["walt"].cid))
    conn_("vic", vic, M(76, 0))
    close_("uma", M(78, 0), "client-closed", 1001, "", cleanup=False)
    # vic leaves; this $disconnect deployment rethrows -> bare Invoke Error (no id) for uma's stale row
    close_("vic", M(80, 0), "client-closed", 1005, "Client-side close frame status not set", notify_style="uncaught")
    # lena (ticker, connected 30 min before the window): 2-hour cap
    at(lena_conn.connected_at + MAX_MS + 212, lambda: app.close(lena_conn, lena_conn.connected_at + MAX_MS + 212, "max-duration", cleanup=False))
    at(M(90, 0), lambda: app.broadcast(M(90, 0), targets=[lena_conn.cid, C["alice"].cid, C["erin"].cid]))
    at(M(90, 30), lambda: app.sweep(M(90, 30), targets=[lena_conn.cid, C["bob"].cid]))
    close_("alice", M(93, 0), "client-closed", 1001, "")
    close_("bob", M(94, 0), "client-closed", 1005, "Client-side close frame status not set")
    acts.sort(key=lambda x: (x[0], x[1]))
    for _, _, f in acts:
        f()
    events = sink.sorted_events()
    return events, app.sorted_truth()


SAMPLES_LAMBDA_LINES = ["chat-connect", "chat-message", "chat-broadcast", "chat-presence", "chat-archive"]
SAMPLES_LAMBDA_TAIL = ["chat-typing", "chat-default", "chat-disconnect", "chat-admin", "chat-notify"]


def write_samples(events, out):
    """Mixed envelopes for the bundled samples (same writer code as corpus/fixtures)."""
    by_group = {}
    for e in events:
        by_group.setdefault(e["logGroup"], []).append(e)
    sizes = {}
    for g, evs in by_group.items():
        if g.startswith("API-Gateway-Execution-Logs_"):
            sizes.update(write_events(evs, "cli-json", out, file_map={g: "execution-logs.json"}, page_events=50, seed=11))
        elif g.startswith("/aws/apigateway/"):
            sizes.update(write_events(evs, "s3-export", os.path.join(out, "access-export"), seed=12, chunk_bytes=8_000, block_lines=6))
        else:
            fn = g.rsplit("/", 1)[1]
            if fn in SAMPLES_LAMBDA_TAIL:
                sizes.update(write_events(evs, "tail", out, file_map={g: "lambda-%s.tail.txt" % fn}))
            else:
                sizes.update(write_events(evs, "lines", out, file_map={g: "lambda-%s.log" % fn}))
    return sizes


# ---------------------------------------------------------------------------
# Random corpus
# ---------------------------------------------------------------------------


class CorpusSim:
    """Discrete-event simulation of many clients; streams to an EnvelopeWriter with flat memory."""

    def __init__(self, writer, truth_path, seed, start_ms, target_bytes, arrivals_per_min=None):
        self.writer = writer
        self.sink = StreamingSink(writer)
        self.truth_buf = []
        self.truth_f = open(truth_path, "w", encoding="utf-8", buffering=1 << 20)
        self.app = App(self.sink, seed=seed, start_ms=start_ms, truth_sink=self.truth_buf, exec_detail="full")
        self.rng = random.Random(seed * 1_000_003 + 1)
        self.t = start_ms
        self.start_ms = start_ms
        self.target = target_bytes
        self.heap = []
        self.seq = 0
        self.n_clients = 0
        self.rate = arrivals_per_min or 6.0
        self.rooms = ["room-%03d" % i for i in range(60)]
        self.truth_counts = {}
        self.truth_total = 0
        # envelope bytes per raw message byte (for the stop condition while events are still buffered)
        self.overhead = {"cli-json": 2.2, "tail": 1.35}.get(writer.envelope, 1.0)

    def at(self, t, fn, *args):
        self.seq += 1
        heapq.heappush(self.heap, (t, self.seq, fn, args))

    def run(self):
        app, rng = self.app, self.rng
        self.at(self.t + 1000, self.arrive)
        self.at(self.t + 5 * 60_000, self.sweep)
        self.at(self.t + 30 * 60_000, self.broadcast)
        self.at(self.t + 60_000, self.housekeeping)
        self.at(self.t + 7 * 60_000, self.misc)
        while self.heap:
            t, _, fn, args = heapq.heappop(self.heap)
            self.t = t
            fn(t, *args)
            w = self.writer
            ratio = (w.bytes / w.raw_out) if w.raw_out > 1_000_000 else self.overhead
            if (w.raw_in + self.sink.pending_bytes) * ratio >= self.target:
                break
        self.sink.flush(None)
        self.flush_truth(None)
        self.truth_f.close()
        return self

    def flush_truth(self, watermark):
        buf = self.truth_buf
        buf.sort(key=lambda x: (x[0], x[1]["lambdaRequestId"]))
        if watermark is None:
            out, rest = buf, []
        else:
            i = 0
            while i < len(buf) and buf[i][0] < watermark:
                i += 1
            out, rest = buf[:i], buf[i:]
        for e in out:
            r = self.app.settle(e)
            self.truth_f.write(json.dumps(r, separators=(",", ":")) + "\n")
            k = r["cause"] + "/" + r["detail"]
            self.truth_counts[k] = self.truth_counts.get(k, 0) + 1
            self.truth_total += 1
        self.truth_buf[:] = rest

    # -- periodic --
    def housekeeping(self, t):
        wm = t - 10 * 60_000
        self.sink.flush(wm)
        self.flush_truth(wm)
        app = self.app
        # forget old connections (bounded memory): closed > 4 h ago and not stored
        if self.rng.random() < 0.2:
            cutoff = t - 4 * 3_600_000
            dead = [cid for cid, c in app.conns.items()
                    if ((c.t_close is not None and c.t_close < cutoff) or (c.t_open is None and c.t_req < cutoff))
                    and cid not in app.store]
            for cid in dead:
                c = app.conns.pop(cid)
                lst = app.by_key.get(c.client.key)
                if lst is not None:
                    try:
                        lst.remove(c)
                    except ValueError:
                        pass
                    if not lst:
                        del app.by_key[c.client.key]
            # store TTL: 3 h
            for cid in list(app.store):
                c = app.conns.get(cid)
                if c is None or (c.t_close is not None and c.t_close < t - 3 * 3_600_000) or (c.t_open is None and c.t_req < t - 3 * 3_600_000):
                    app.store_del(cid)
        self.at(t + 60_000, self.housekeeping)

    def sweep(self, t):
        app = self.app
        cands = list(app.store)
        self.rng.shuffle(cands)
        noise = []
        if self.rng.random() < 0.15:
            noise.append("429")
        if self.rng.random() < 0.05:
            noise.append("403")
        app.sweep(t, targets=cands[:40], noise=noise)
        self.at(t + 5 * 60_000, self.sweep)

    def broadcast(self, t):
        app = self.app
        members = [c for c in list(app.store) if not app.unlogged_ambiguous(c, t)]
        for c in list(app.store):
            if app.unlogged_ambiguous(c, t):
                app.store_del(c)
        noid = {c for c in members if self.rng.random() < 0.08}
        app.broadcast(t, targets=members, noid=noid)
        self.at(t + 30 * 60_000, self.broadcast)

    def misc(self, t):
        app, rng = self.app, self.rng
        r = rng.random()
        if r < 0.30:
            # notification to a user's stored id (may be stale), sometimes a legacy id never seen
            if rng.random() < 0.12 or not app.store:
                app.notify(t, app.ids.ws(t - 86_400_000 * rng.randint(1, 30), "C"))
            else:
                cid = rng.choice(list(app.store)[-200:])
                if not app.unlogged_ambiguous(cid, t):
                    app.notify(t, cid)
        elif r < 0.42:
            app.cosmos_noise(t, variant=rng.choice(("v2", "v3")))
        elif r < 0.60:
            # moderation: kick a random open connection, or a duplicate job on an old id
            opens = [c for c in list(app.conns.values())[-300:] if c.t_open is not None and c.t_close is None]
            if opens and rng.random() < 0.7:
                app.kick(t, rng.choice(opens).cid, cleanup=rng.random() < 0.4)
            else:
                olds = [c for c in list(app.conns.values())[-300:] if c.t_close is not None and c.disc_logged]
                if olds:
                    app.kick(t, rng.choice(olds).cid, post_first=rng.random() < 0.5)
        self.at(t + int(rng.expovariate(1 / 90_000)) + 1000, self.misc)

    # -- clients --
    def arrive(self, t):
        app, rng = self.app, self.rng
        self.n_clients += 1
        principal = ("user|%s" % app.ids.hex(12)) if rng.random() < 0.55 else None
        c = app.new_client("c%d" % self.n_clients, principal=principal, room=rng.choice(self.rooms))
        self.start_session(c, t)
        self.at(t + int(rng.expovariate(self.rate / 60_000)) + 1, self.arrive)

    def start_session(self, c, t):
        app, rng = self.app, self.rng
        r = rng.random()
        kw = {}
        if r < 0.012:
            kw["welcome"] = rng.choice(("raise", "handled"))
        elif r < 0.024:
            kw["reject"] = rng.choice((403, 500))
        elif r < 0.06:
            kw["slow_ms"] = rng.randint(1500, 3500)
        conn = app.connect(c, t, **kw)
        if kw.get("slow_ms"):
            # someone in the room talks while the connect is pending
            others = [x for x in app.rooms.get(c.room, {}) if x != conn.cid]
            if others:
                o = app.conns.get(others[-1])
                if o is not None and o.t_open is not None and o.t_close is None and o.t_open < t:
                    app.send(o, t + rng.randint(300, kw["slow_ms"] - 200), text=rand_text(rng), style="app")
        if conn.t_open is None:
            if rng.random() < 0.6:
                self.at(t + rng.randint(2000, 20000), self.reconnect, c)
            return
        # plan
        p = rng.random()
        if p < 0.50:
            plan = ("client-closed", rng.randint(60_000, 40 * 60_000))
        elif p < 0.64:
            plan = ("idle-timeout", rng.randint(20_000, 6 * 60_000))
        elif p < 0.68:
            plan = ("max-duration", MAX_MS)
        elif p < 0.70:
            plan = ("message-too-big", rng.randint(30_000, 20 * 60_000))
        elif p < 0.78:
            plan = ("drop", rng.randint(30_000, 20 * 60_000))
        else:
            plan = ("client-closed", rng.randint(5 * 60_000, 70 * 60_000))
        gen = conn.alive_gen
        kind, dur = plan
        if kind == "max-duration":
            self.at(conn.connected_at + MAX_MS + rng.randint(50, 900), self.end, conn, gen, "max-duration")
            self.at(t + rng.randint(20_000, 240_000), self.talk, conn, gen, 240_000)
        elif kind == "idle-timeout":
            self.at(t + rng.randint(5_000, 60_000), self.talk, conn, gen, 90_000, t + dur)
            self.at(t + dur + IDLE_MS, self.idle_check, conn, gen)
        else:
            self.at(t + rng.randint(5_000, 60_000), self.talk, conn, gen, 120_000, t + dur)
            self.at(t + dur, self.end, conn, gen, kind)

    def talk(self, t, conn, gen, mean, until=None):
        if conn.t_close is not None or conn.alive_gen != gen:
            return
        if until is not None and t >= until:
            return
        app, rng = self.app, self.rng
        r = rng.random()
        if r < 0.70:
            st = "app"
            q = rng.random()
            if q < 0.12:
                st = "app+dump"
            elif q < 0.16:
                st = "app+dump+uncaught"
            elif q < 0.19:
                st = "dump+uncaught"  # no app line -> no-target-id
            app.send(conn, t, text=rand_text(rng), style=st, no_store_delete=rng.random() < 0.3)
        elif r < 0.88:
            members = app.room_members(conn.room, t, exclude=conn.cid)
            app.send(conn, t, route="typing", text="", targets=members)
        elif r < 0.97:
            if rng.random() < 0.06:
                app.send(conn, t, route="$default", text="help", close_after_ms=rng.randint(20, 120),
                         close_code=rng.choice((1005, 1001)))
                if conn.t_close is not None:
                    app.close(conn, conn.t_close, "client-closed", cleanup=rng.random() < 0.5)
                    self.maybe_reconnect(conn, conn.t_close)
                    return
            else:
                app.send(conn, t, route="$default", text="help")
        else:
            app.default_noise(conn, t, rng.choice(("429", "429", "403")))
        if conn.t_close is None:
            self.at(t + int(rng.expovariate(1 / mean)) + 500, self.talk, conn, gen, mean, until)

    def idle_check(self, t, conn, gen):
        if conn.t_close is not None or conn.alive_gen != gen:
            return
        last = max(conn.last_in, conn.last_out)
        if t - last >= IDLE_MS:
            self.app.close(conn, last + IDLE_MS + self.rng.randint(5, 900), "idle-timeout",
                           cleanup=self.rng.random() < 0.4, logged=self.rng.random() < 0.97 or True)
            self.maybe_reconnect(conn, conn.t_close)
        elif last + IDLE_MS + 1 < conn.connected_at + MAX_MS:
            self.at(last + IDLE_MS + 1, self.idle_check, conn, gen)
        else:
            # Kept busy (by posts to it) until API Gateway's 2-hour maximum, which closes it first.
            self.at(conn.connected_at + MAX_MS + self.rng.randint(50, 900), self.end, conn, gen, "max-duration")

    def end(self, t, conn, gen, kind):
        if conn.t_close is not None or conn.alive_gen != gen:
            return
        app, rng = self.app, self.rng
        if kind == "max-duration":
            app.close(conn, t, "max-duration", cleanup=rng.random() < 0.4)
        elif kind == "message-too-big":
            app.big_message(conn, t, cleanup=rng.random() < 0.4)
        elif kind == "drop":
            app.close(conn, t, "client-closed", 1006, "", logged=False)
        else:
            code = rng.choice((1001, 1001, 1005))
            app.close(conn, t, "client-closed", code, "Client-side close frame status not set" if code == 1005 else "",
                      cleanup=rng.random() < 0.5, notify_style="stale" if rng.random() < 0.9 else "uncaught")
        self.maybe_reconnect(conn, conn.t_close or t)

    def maybe_reconnect(self, conn, t):
        if self.rng.random() < 0.45:
            self.at(t + self.rng.randint(1_500, 60_000), self.reconnect, conn.client)

    def reconnect(self, t, client):
        if client.conns and client.conns[-1].t_open is not None and client.conns[-1].t_close is None:
            return
        if client.principal and self.rng.random() < 0.3:
            client.ip = self.app.new_ip()
        self.start_session(client, t)


WORDS = ("ok", "sure", "deploy", "lunch", "meeting", "ship it", "lgtm", "on my way", "brb", "thanks", "the build is red",
         "see the dashboard", "retrying", "who has the pager", "rollback?", "done")


def rand_text(rng):
    n = rng.randint(1, 6)
    s = " ".join(rng.choice(WORDS) for _ in range(n))
    if rng.random() < 0.04:
        s += " " + "x" * rng.randint(800, 1400)  # long message -> truncated body in the execution log
    return s


# ---------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------


def _fixture_app(start_ms, seed):
    sink = ListSink()
    app = App(sink, seed=seed, start_ms=start_ms, api_id=SAMPLES_API_ID, exec_detail="full")
    return sink, app


def fixture_cases(start_ms):
    """Yield (name, events, truth)."""
    M = lambda mi, s=0.0: _m(start_ms, mi, s)
    U = USER_AGENTS
    cases = []

    def case(name, seed, fn):
        sink, app = _fixture_app(start_ms, seed)
        fn(app, M, U)
        cases.append((name, sink.sorted_events(), app.sorted_truth()))

    # pre-connect-post
    def f_connect_handler_raise(app, M, U):
        c = app.new_client("d", None, ua=U[2])
        app.connect(c, M(0, 5), welcome="raise")
    case("pre-connect-post--posted-from-connect-handler--python-boto3-uncaught", 101, f_connect_handler_raise)

    def f_connect_handler_handled(app, M, U):
        c = app.new_client("d", "user|dana-1", ua=U[0])
        app.connect(c, M(0, 5), welcome="handled")
    case("pre-connect-post--posted-from-connect-handler--python-boto3", 102, f_connect_handler_handled)

    def f_before_connect(app, M, U):
        a = app.new_client("a", "user|alice-1", ua=U[0])
        e = app.new_client("e", None, ua=U[3])
        ca = app.connect(a, M(0, 0))
        app.connect(e, M(1, 0), slow_ms=2500)
        app.send(ca, M(1, 1.2), text="hi", style="app")
    case("pre-connect-post--posted-before-connect-completed--node-v3", 103, f_before_connect)

    def f_rejected(app, M, U):
        f = app.new_client("f", None, ua=U[5])
        cf = app.connect(f, M(0, 0), reject=403)
        app.broadcast(M(3, 0), targets=[cf.cid])
    case("pre-connect-post--connect-rejected--java-v2", 104, f_rejected)

    def f_rejected_php(app, M, U):
        f = app.new_client("f", "user|fred-2", ua=U[1])
        cf = app.connect(f, M(0, 0), reject=500)
        app.notify(M(1, 0), cf.cid)
    case("pre-connect-post--connect-rejected--php", 105, f_rejected_php)

    # terminated-connection
    def f_client_closed_v2(app, M, U):
        a = app.new_client("a", None, ua=U[0], room="ops")
        b = app.new_client("b", None, ua=U[1], room="ops")
        c = app.new_client("c", None, ua=U[4], room="ops")
        ca, cb, cc = app.connect(a, M(0)), app.connect(b, M(0, 20)), app.connect(c, M(0, 40))
        app.close(cb, M(2), "client-closed", 1001, "", cleanup=False)
        app.close(cc, M(4), "client-closed", 1005, "Client-side close frame status not set")
    case("terminated-connection--client-closed--node-v2", 106, f_client_closed_v2)

    def f_client_closed_boto3(app, M, U):
        n = app.new_client("n", None, ua=U[0])
        cn = app.connect(n, M(0))
        app.send(cn, M(1), route="$default", text="help", close_after_ms=50, close_code=1005)
        app.close(cn, cn.t_close, "client-closed")
    case("terminated-connection--client-closed--python-boto3", 107, f_client_closed_boto3)

    def f_idle(app, M, U):
        g = app.new_client("g", "user|gus-3", ua=U[0], room="ops")
        cg = app.connect(g, M(0))
        app.close(cg, cg.last_out + IDLE_MS + 40, "idle-timeout", cleanup=False)
        app.sweep(M(12), targets=[cg.cid])
    case("terminated-connection--idle-timeout--go-v2", 108, f_idle)

    def f_max(app, M, U):
        l = app.new_client("l", "user|lena-4", ua=U[0], room="ticker")
        cl_ = app.connect(l, M(0))
        for k in range(1, 13):
            app.send(cl_, M(9.5 * k), route="$default", text="ping")
        app.close(cl_, cl_.connected_at + MAX_MS + 300, "max-duration", cleanup=False)
        app.broadcast(M(121), targets=[cl_.cid])
    case("terminated-connection--max-duration--java-v2", 109, f_max)

    def f_deleted(app, M, U):
        i = app.new_client("i", "user|ivan-5", ua=U[1])
        ci = app.connect(i, M(0))
        app.kick(M(2), ci.cid)
        app.kick(M(2, 40), ci.cid, post_first=False)
    case("terminated-connection--deleted-by-backend--java-v1", 110, f_deleted)

    def f_too_big(app, M, U):
        b = app.new_client("b", "user|bob-6", ua=U[1])
        h = app.new_client("h", None, ua=U[6])
        cb, ch = app.connect(b, M(0)), app.connect(h, M(0, 30))
        app.big_message(ch, M(2))
        app.send(cb, M(3), route="typing", text="", targets=[ch.cid])
    case("terminated-connection--message-too-big--node-v3-json", 111, f_too_big)

    def f_unlogged(app, M, U):
        j = app.new_client("j", None, ua=U[7])
        cj = app.connect(j, M(0))
        app.send(cj, M(1), text="brb", style="app")
        app.close(cj, M(2), "client-closed", 1006, "", logged=False)
        app.notify(M(4), cj.cid)
    case("terminated-connection--unlogged-disconnect--php", 112, f_unlogged)

    def f_unlogged_v3(app, M, U):
        a = app.new_client("a", "user|alice-7", ua=U[0])
        j = app.new_client("j", None, ua=U[4])
        ca, cj = app.connect(a, M(0)), app.connect(j, M(0, 10))
        app.close(cj, M(2), "client-closed", 1006, "", logged=False)
        app.send(ca, M(3), text="jo?", style="app")
    case("terminated-connection--unlogged-disconnect--node-v3", 113, f_unlogged_v3)

    # reconnect
    def f_reconnect_principal(app, M, U):
        b = app.new_client("b", "user|bob-8", ua=U[1])
        k = app.new_client("k", "user|kate-8", ua=U[2])
        cb, ck = app.connect(b, M(0)), app.connect(k, M(0, 15))
        app.close(ck, M(2), "client-closed", 1001, "", cleanup=False)
        k.ip = app.new_ip()
        ck2 = app.connect(k, M(2, 8))
        app.send(cb, M(3), text="wb", style={ck.cid: "app+dump"})
    case("reconnect-with-old-id--newer-connection--node-v3-same-principal", 114, f_reconnect_principal)

    def f_reconnect_ipua(app, M, U):
        m = app.new_client("m", None, ua=U[1], room="dev")
        cm = app.connect(m, M(0))
        app.close(cm, M(3), "client-closed", 1005, "Client-side close frame status not set", cleanup=False)
        cm2 = app.connect(m, M(3, 4))
        app.broadcast(M(5), targets=[cm.cid, cm2.cid])
    case("reconnect-with-old-id--newer-connection--java-v2-same-ip-user-agent", 115, f_reconnect_ipua)

    # unknown
    def f_never(app, M, U):
        app.notify(M(1), app.ids.ws(M(-3000), "C"))
    case("unknown--never-seen--php", 116, f_never)

    def f_never_go(app, M, U):
        app.sweep(M(1), targets=[app.ids.ws(M(-900), "C")])
    case("unknown--never-seen--go-v2", 117, f_never_go)

    def f_noid(app, M, U):
        f = app.new_client("f", None, ua=U[5])
        cf = app.connect(f, M(0))
        app.close(cf, M(1), "client-closed", 1001, "", cleanup=False)
        app.broadcast(M(2), targets=[cf.cid], noid={cf.cid})
    case("unknown--no-target-id--java-v2", 118, f_noid)

    def f_noid_v2(app, M, U):
        u = app.new_client("u", None, ua=U[4], room="ops")
        v = app.new_client("v", None, ua=U[5], room="ops")
        cu, cv = app.connect(u, M(0)), app.connect(v, M(0, 20))
        app.close(cu, M(1), "client-closed", 1001, "", cleanup=False)
        app.close(cv, M(2), "client-closed", 1005, "Client-side close frame status not set", notify_style="uncaught")
    case("unknown--no-target-id--node-v2", 119, f_noid_v2)

    # negatives
    def f_cosmos(app, M, U):
        app.cosmos_noise(M(0), "v2")
        app.cosmos_noise(M(1), "v3")
    case("negative--cosmosdb", 120, f_cosmos)

    def f_badreq(app, M, U):
        a = app.new_client("a", None, ua=U[0])
        ca = app.connect(a, M(0))
        app.send(ca, M(1), text="test", targets=["test-connection-123"])
    case("negative--bad-request", 121, f_badreq)

    def f_403(app, M, U):
        a = app.new_client("a", None, ua=U[0])
        ca = app.connect(a, M(0))
        app.default_noise(ca, M(1), "403")
        app.sweep(M(2), targets=[ca.cid], noise=("403",))
    case("negative--forbidden-403", 122, f_403)

    def f_429(app, M, U):
        a = app.new_client("a", None, ua=U[0])
        ca = app.connect(a, M(0))
        app.default_noise(ca, M(1), "429")
        app.sweep(M(2), targets=[ca.cid], noise=("429",))
    case("negative--throttled-429", 123, f_429)

    def f_repeated(app, M, U):
        o = app.new_client("o", "user|olga-9", ua=U[0], room="dev")
        p = app.new_client("p", "user|pete-9", ua=U[3], room="dev")
        co, cp = app.connect(o, M(0)), app.connect(p, M(0, 20))
        app.close(co, M(2), "client-closed", 1001, "", cleanup=False)
        for mi in (3, 3.5, 4):
            app.send(cp, M(mi), route="typing", text="", targets=[co.cid])
    case("repeated--same-stale-id", 124, f_repeated)

    def f_multiline(app, M, U):
        q = app.new_client("q", None, ua=U[2], room="dev")
        r = app.new_client("r", "user|rosa-10", ua=U[0], room="dev")
        cq, cr = app.connect(q, M(0)), app.connect(r, M(0, 20))
        app.close(cr, M(2), "client-closed", 1005, "Client-side close frame status not set", cleanup=False)
        app.send(cq, M(3), text="thanks", style={cr.cid: "app+dump+uncaught"})
    case("multiline--one-call", 125, f_multiline)

    return cases


def write_fixture(dirpath, events):
    os.makedirs(dirpath, exist_ok=True)
    fmap = {}
    for e in events:
        g = e["logGroup"]
        if g.startswith("API-Gateway-Execution-Logs_"):
            fmap[g] = "exec.log"
        elif g.startswith("/aws/apigateway/"):
            fmap[g] = "access.log"
        else:
            fmap[g] = "lambda.log"
    # merge all Lambda groups into lambda.log: one writer with every lambda group mapped to the same file
    w = EnvelopeWriter("lines", dirpath, file_map=fmap)
    handles = {}
    for e in events:
        p = fmap[e["logGroup"]]
        if p not in handles:
            handles[p] = e["logGroup"]
        w.add(handles[p], e["logStream"], e["timestamp"], e["message"])
    return w.close()


def sources_md():
    lines = ["# Sources of the simulated log templates",
             "",
             "Generated by `scripts/sim/gonetrace_sim.py fixtures`. Every template the simulator renders, with the",
             "section of `/work/shared/reference/log-formats.md` it comes from and that section's evidence mark.",
             "App-defined message texts (what the simulated functions choose to log, e.g. `Storing connection <id>`)",
             "are free text inside these framings and are not listed.",
             "",
             "| id | template | section | mark |",
             "| --- | --- | --- | --- |"]
    for tid, tpl, sec, mark in TEMPLATES:
        lines.append("| %s | `%s` | %s | %s |" % (tid, tpl.replace("|", "\\|").replace("`", "'"), sec, mark))
    lines += ["",
              "## Ground-truth rules (how `cause`/`detail` were decided by the simulator)",
              "",
              "Precedence, for a call to connection id X at time t:",
              "1. X never appears in any lifecycle record -> `unknown/never-seen`.",
              "2. No line of the failed call names X (e.g. `Post failed: <exception>`, a bare `Invoke Error`) -> `unknown/no-target-id`, `connectionId: null`.",
              "3. X's `$connect` integration had not returned yet at t: from the `$connect` invocation of X itself -> `pre-connect-post/posted-from-connect-handler`, otherwise `pre-connect-post/posted-before-connect-completed`.",
              "4. X's `$connect` ended with a status other than 200 -> `pre-connect-post/connect-rejected` (even if the client connected again later).",
              "5. The same client (same principalId; else same sourceIp+userAgent) has a newer successful connection N, opened after X and before t, not closed by a logged `$disconnect` before t -> `reconnect-with-old-id/newer-connection` with `newConnectionId: N` (fixture names say whether the client matched by principal or by ip+user agent).",
              "6. X was closed before t: no `$disconnect` logged -> `terminated-connection/unlogged-disconnect`; otherwise by the close: 1001 `Going away` < 2 h -> `idle-timeout`, 1001 `Going away` at connectedAt + 2 h -> `max-duration`, 1000 `Connection Closed Normally` -> `deleted-by-backend`, 1009 -> `message-too-big`, 1001 `` / 1005 `Client-side close frame status not set` -> `client-closed`.",
              "",
              "Unlogged-disconnect ids are only posted to while t - (last logged inbound message or connect) < 10 min and t - connectedAt < 2 h, so the logs never make them look like an idle timeout or the 2-hour cap.",
              "`time` is the CloudWatch timestamp of the earliest log event of the failed call (app line, SDK dump or uncaught record).",
              ""]
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# Validation helpers
# ---------------------------------------------------------------------------


def validate_tree(root):
    """Check every file under root: gzip opens, JSON parses, .log/.txt lines start with a timestamp."""
    import re
    ts_re = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z ")
    tail_re = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00 \S+ ")
    problems = []
    nfiles = 0
    for d, _, files in os.walk(root):
        for fname in files:
            p = os.path.join(d, fname)
            nfiles += 1
            try:
                if fname.endswith(".gz"):
                    with gzip.open(p, "rt", encoding="utf-8", newline="") as f:
                        for i, line in enumerate(f.read().split("\n")):
                            if line and not ts_re.match(line):
                                problems.append("%s:%d no timestamp" % (p, i + 1))
                                break
                elif fname.endswith(".json"):
                    txt = open(p, encoding="utf-8").read()
                    if fname == "expected.json":
                        json.loads(txt)
                    else:
                        dec = json.JSONDecoder()
                        pos = 0
                        while pos < len(txt):
                            while pos < len(txt) and txt[pos] in " \n\r\t":
                                pos += 1
                            if pos >= len(txt):
                                break
                            _, pos = dec.raw_decode(txt, pos)
                elif fname.endswith(".jsonl"):
                    for line in open(p, encoding="utf-8"):
                        json.loads(line)
                elif fname.endswith(".log"):
                    with open(p, encoding="utf-8", newline="") as f:
                        for i, line in enumerate(f.read().split("\n")):
                            if line and not ts_re.match(line):
                                problems.append("%s:%d no timestamp" % (p, i + 1))
                                break
                elif fname.endswith(".tail.txt"):
                    with open(p, encoding="utf-8", newline="") as f:
                        for i, line in enumerate(f.read().split("\n")):
                            if line and not tail_re.match(line):
                                problems.append("%s:%d no tail timestamp" % (p, i + 1))
                                break
            except Exception as ex:  # noqa
                problems.append("%s: %s" % (p, ex))
    return nfiles, problems


def check_consistency(events, truth, merged_lambda=False):
    """Cross-check ground truth against the rendered events.  Returns a list of problems.
    - every truth record has a Lambda event at its `time` inside invocation `lambdaRequestId`
      that mentions a 410 (GoneException / 410 Gone), and the connectionId (or its %3D form) appears
      in that invocation; connectionId null -> no line of that call names an id;
    - merged_lambda: lines without a request id (raw runtime/app lines) never fall inside an
      invocation window of another function (so a merged lambda.log stays attributable)."""
    import re
    problems = []
    inv_of = []   # per event index: reqid of the enclosing invocation (per stream)
    cur = {}
    windows = {}  # group -> list of (start, end)
    open_start = {}
    lam = [e for e in events if e["logGroup"].startswith("/aws/lambda/")]
    by_inv = {}
    for e in lam:
        key = (e["logGroup"], e["logStream"])
        m = e["message"]
        mm = re.match(r'START RequestId: (\S+)', m) or re.match(r'\{"time":"[^"]+","type":"platform.start","record":\{"requestId":"([^"]+)"', m)
        if mm:
            cur[key] = mm.group(1)
            open_start[key] = e["timestamp"]
        rid = cur.get(key)
        by_inv.setdefault(rid, []).append(e)
        if m.startswith("REPORT RequestId:") or '"type":"platform.report"' in m:
            windows.setdefault(e["logGroup"], []).append((open_start.get(key, e["timestamp"]), e["timestamp"]))
            cur[key] = None
    for r in truth:
        evs = by_inv.get(r["lambdaRequestId"], [])
        if not evs:
            problems.append("no invocation %s" % r["lambdaRequestId"])
            continue
        ts = parse_iso(r["time"])
        hit = [e for e in evs if e["timestamp"] == ts and ("Gone" in e["message"] or "stale connection" in e["message"])]
        if not hit:
            problems.append("no 410 line at %s in %s" % (r["time"], r["lambdaRequestId"]))
        cid = r["connectionId"]
        if cid is not None and not any(cid in e["message"] or cid.replace("=", "%3D") in e["message"] for e in evs):
            problems.append("connectionId %s not in invocation %s" % (cid, r["lambdaRequestId"]))
    if merged_lambda:
        for e in lam:
            m = e["message"]
            if re.match(r'(START|END|REPORT) RequestId|\{"time"|\[[A-Z]+\]\t|\d{4}-\d\d-\d\dT[^\t]+\t[0-9a-f-]{36}\t|\{"timestamp"', m):
                continue
            for g, ws in windows.items():
                if g == e["logGroup"]:
                    continue
                if any(a <= e["timestamp"] <= b for a, b in ws):
                    problems.append("raw line of %s at %s inside an invocation of %s" % (e["logGroup"], iso_ms(e["timestamp"]), g))
    return problems


def truth_counts(truth):
    out = {}
    for r in truth:
        k = r["cause"] + "/" + r["detail"]
        out[k] = out.get(k, 0) + 1
    return dict(sorted(out.items()))


# ---------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------


def cmd_samples(args):
    start_ms = parse_iso(args.start) if args.start else parse_iso("2024-05-09T10:00:00Z")
    events, truth = generate_samples(start_ms)
    if os.path.isdir(args.out):
        shutil.rmtree(args.out)
    sizes = write_samples(events, args.out)
    os.makedirs(os.path.dirname(args.truth) or ".", exist_ok=True)
    with open(args.truth, "w", encoding="utf-8") as f:
        for r in truth:
            f.write(json.dumps(r, separators=(",", ":")) + "\n")
    probs = check_consistency(events, truth)
    for pr in probs:
        print("CONSISTENCY: " + pr, file=sys.stderr)
    total = sum(sizes.values())
    print("samples: %d events, %d truth records, %d files, %d bytes" % (len(events), len(truth), len(sizes), total))
    for k, v in truth_counts(truth).items():
        print("  %-55s %d" % (k, v))
    return 0


def cmd_corpus(args):
    start_ms = parse_iso(args.start) if args.start else parse_iso("2024-05-09T00:00:00Z")
    target = parse_size(args.size)
    if os.path.isdir(args.out) and os.listdir(args.out) and not args.force:
        print("refusing to write into non-empty %s (use --force)" % args.out, file=sys.stderr)
        return 2
    os.makedirs(args.out, exist_ok=True)
    os.makedirs(os.path.dirname(os.path.abspath(args.truth)), exist_ok=True)
    w = EnvelopeWriter(args.envelope, args.out, seed=args.seed, gzip_level=args.gzip_level)
    t0 = time.time()
    sim = CorpusSim(w, args.truth, args.seed, start_ms, target, arrivals_per_min=args.rate).run()
    sizes = w.close()
    dt = time.time() - t0
    total = sum(sizes.values())
    print("corpus: envelope=%s content=%.1f MB on-disk=%.1f MB files=%d sim-time=%.1f h clients=%d in %.1f s -> %.1f MB/s (content)"
          % (args.envelope, w.bytes / 1e6, total / 1e6, len(sizes), (sim.t - start_ms) / 3.6e6, sim.n_clients, dt, w.bytes / 1e6 / dt))
    print("truth: %d records (%s)" % (sim.truth_total, args.truth))
    for k, v in sorted(sim.truth_counts.items()):
        print("  %-55s %d" % (k, v))
    return 0


def cmd_fixtures(args):
    start_ms = parse_iso(args.start) if args.start else parse_iso("2024-05-09T10:00:00Z")
    os.makedirs(args.out, exist_ok=True)
    n = 0
    for name, events, truth in fixture_cases(start_ms):
        d = os.path.join(args.out, name)
        if os.path.isdir(d):
            shutil.rmtree(d)
        write_fixture(d, events)
        for pr in check_consistency(events, truth, merged_lambda=True):
            print("CONSISTENCY %s: %s" % (name, pr), file=sys.stderr)
        with open(os.path.join(d, "expected.json"), "w", encoding="utf-8") as f:
            f.write(json.dumps(truth, indent=2) + "\n")
        n += 1
        print("  %-75s %d verdict(s)" % (name, len(truth)))
    with open(os.path.join(args.out, "SOURCES.md"), "w", encoding="utf-8") as f:
        f.write(sources_md())
    print("fixtures: %d cases in %s" % (n, args.out))
    return 0


def cmd_validate(args):
    n, problems = validate_tree(args.path)
    print("validated %d files, %d problems" % (n, len(problems)))
    for p in problems[:50]:
        print("  " + p)
    return 1 if problems else 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("samples")
    s.add_argument("--out", required=True)
    s.add_argument("--truth", required=True)
    s.add_argument("--start")
    s.set_defaults(func=cmd_samples)
    c = sub.add_parser("corpus")
    c.add_argument("--size", required=True)
    c.add_argument("--envelope", choices=["lines", "cli-json", "s3-export", "tail"], default="lines")
    c.add_argument("--out", required=True)
    c.add_argument("--truth", required=True)
    c.add_argument("--seed", type=int, default=1)
    c.add_argument("--start")
    c.add_argument("--rate", type=float, default=6.0, help="client arrivals per minute")
    c.add_argument("--gzip-level", type=int, default=6)
    c.add_argument("--force", action="store_true")
    c.set_defaults(func=cmd_corpus)
    f = sub.add_parser("fixtures")
    f.add_argument("--out", required=True)
    f.add_argument("--start")
    f.set_defaults(func=cmd_fixtures)
    v = sub.add_parser("validate")
    v.add_argument("path")
    v.set_defaults(func=cmd_validate)
    args = ap.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
