#!/usr/bin/env python3
"""Regenerate Tests/GoneTraceTests/Fixtures/cli/*: the verbatim stdout of the
aws CLI (v1, pip `awscli`) talking to a local moto_server.

    python3 Tests/e2e/capture_cli_fixtures.py [--out DIR]

Starts its own moto_server on a free 127.0.0.1 port and stops it at the end.
Messages are copied verbatim from shared/reference/log-formats.md (see
CAPTURE_EVENTS); the event timestamps are "now - 2h" plus offsets, because
CloudWatch (and moto) reject events older than 14 days. Everything else the
fixture shows (ingestionTime, eventId, tokens, query id) comes from moto.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from awsmoto import Aws, MotoServer, load_events, moto_version  # noqa: E402

REPO = HERE.parent.parent
DEFAULT_OUT = REPO / "Tests" / "GoneTraceTests" / "Fixtures" / "cli"

EXEC_GROUP = "API-Gateway-Execution-Logs_k7x2m9q4ab/prod"
EXEC_STREAM_A = "072b030ba126b2f4b2374f342be9ed44"
EXEC_STREAM_B = "5c1f9e0d8b7a46e3a2d4c6b8e0f1a3c5"
LAMBDA_GROUP = "/aws/lambda/chat-broadcast"
LAMBDA_STREAM = "2024/05/09/[$LATEST]e6f4a0c4241adcd70c262d34c0bbc85c"
EMPTY_GROUP = "/aws/lambda/empty-function"
EMPTY_STREAM = "2024/05/09/[$LATEST]00000000000000000000000000000000"

# (group, stream, offset ms from base, message). Messages are verbatim from
# log-formats.md unless the comment says "composed".
CAPTURE_EVENTS = [
    # §1.4 (0): the only real WebSocket execution-log lines
    (EXEC_GROUP, EXEC_STREAM_A, 0,
     "(PDS1PEC4oAMFpyA=) Execution failed due to configuration error: Invalid permissions on Lambda function"),
    (EXEC_GROUP, EXEC_STREAM_A, 1,
     "(PDS1PEC4oAMFpyA=) Execution failed due to configuration error: Authorizer error"),
    # same millisecond as the previous event (tie)
    (EXEC_GROUP, EXEC_STREAM_A, 1,
     "(PDS1PEC4oAMFpyA=) Gateway response type: AUTHORIZER_CONFIGURATION_ERROR with status code: 500"),
    # §1.3: double quotes and backslashes inside the message; stream B starts
    # BEFORE stream A ends, so an interleaved listing differs from a per-stream one
    (EXEC_GROUP, EXEC_STREAM_B, 0,
     '(515f1e99-39db-11e9-9e96-01e5c04505b9) Endpoint response body before transformations: {"body":"{\\\\"latest_receipt_info\\\\":... [TRUNCATED]'),
    (EXEC_GROUP, EXEC_STREAM_B, 2500,
     "(515f1e99-39db-11e9-9e96-01e5c04505b9) Method completed with status: 200"),
    # §3.10 START / END / REPORT with the exact escapes of the doc's raw events
    (LAMBDA_GROUP, LAMBDA_STREAM, 10_000,
     "START RequestId: 4ce9340a-b765-490f-ad8a-02ab3415e2bf Version: $LATEST\n"),
    (LAMBDA_GROUP, LAMBDA_STREAM, 10_010,
     '2019-06-05T19:30:03.173Z\t4ce9340a-b765-490f-ad8a-02ab3415e2bf\tINFO\tEVENT\r{\r  "key": "value"\r}\n'),
    # §3.3 Node "Invoke Error" framing: tab after "Invoke Error ", JSON with \" inside
    (LAMBDA_GROUP, LAMBDA_STREAM, 10_020,
     '2022-09-24T04:57:13.319Z\ta57bdd96-bb4d-4a3c-bff0-226eed1171c1\tERROR\tInvoke Error \t{"errorType":"TypeError","errorMessage":"The \\"data\\" argument must be of type string or an instance of Buffer, TypedArray, or DataView. Received an instance of IncomingMessage","code":"ERR_INVALID_ARG_TYPE","stack":["TypeError [ERR_INVALID_ARG_TYPE]: ...'),
    # §3.4 JS v3 rendering (leading indentation of the notes dropped)
    (LAMBDA_GROUP, LAMBDA_STREAM, 10_030,
     "ERROR [Lambda] Error sending to connection XXX: GoneException: UnknownError"),
    # §3.8: non-BMP character (U+1F6A8), double quotes, backticks, trailing space
    (LAMBDA_GROUP, LAMBDA_STREAM, 10_040,
     '[PRODUCTION]: 2021-08-06 12:41:19\U0001F6A8ERROR: Error executing "PostToConnection" on "https://xxxx.execute-api.ap-southeast-1.amazonaws.com/prod/@connections/DfyBYdK2SQ0CGCA%3D"; AWS HTTP error: Client error: `POST https://xxxxx.execute-api.ap-southeast-1.amazonaws.com/prod/@connections/DfyBYdK2SQ0CGCA%3D` resulted in a `410 Gone` response Unable to parse error information from response - Error parsing JSON: Syntax error '),
    # composed from the §3.5 RIC template (INFERENCE in log-formats.md): \r line
    # breaks and U+00A0 indentation -- here only to see how the CLI escapes them
    (LAMBDA_GROUP, LAMBDA_STREAM, 10_050,
     '[ERROR] GoneException: An error occurred (GoneException) when calling the PostToConnection operation: \rTraceback (most recent call last):\r\u00a0\u00a0File "/var/task/app.py", line 12, in handler\r'),
    # composed: an ANSI colour escape (ESC, U+001B) as coloured loggers write
    # them -- to see how the CLI escapes C0 control characters other than \t\r\n
    (LAMBDA_GROUP, LAMBDA_STREAM, 10_055,
     "\x1b[31merror\x1b[39m GoneException: 410"),
    (LAMBDA_GROUP, LAMBDA_STREAM, 10_060,
     "END RequestId: 4ce9340a-b765-490f-ad8a-02ab3415e2bf\n"),
    (LAMBDA_GROUP, LAMBDA_STREAM, 10_060,
     "REPORT RequestId: 4ce9340a-b765-490f-ad8a-02ab3415e2bf\tDuration: 26.73 ms\tBilled Duration: 27 ms \tMemory Size: 128 MB\tMax Memory Used: 75 MB\t\n"),
]

QUERY = "fields @timestamp, @message, @logStream, @log | sort @timestamp asc"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)

    base = (int(time.time()) - 2 * 3600) * 1000  # whole second, 2 h ago
    events = [
        {"logGroup": g, "logStream": s, "timestamp": base + off, "message": m}
        for g, s, off, m in CAPTURE_EVENTS
    ]
    commands: list[dict] = []

    with tempfile.TemporaryDirectory(prefix="gonetrace-capture-") as tmp:
        tmp = Path(tmp)
        server = MotoServer(log_path=tmp / "moto.log")
        try:
            aws = Aws(endpoint=server.endpoint, home=tmp / "awshome")
            load_events(aws, events)
            # a group whose only stream is empty, for the empty shapes
            aws.run("logs", "create-log-group", "--log-group-name", EMPTY_GROUP)
            aws.run("logs", "create-log-stream", "--log-group-name", EMPTY_GROUP,
                    "--log-stream-name", EMPTY_STREAM)

            def save(name: str, *calls: list[str]) -> bytes:
                """Run each call, append the raw stdout bytes (like `>>`)."""
                blob = b""
                for argv in calls:
                    r = aws.run(*argv)
                    if r.stderr:
                        sys.stderr.write(r.stderr.decode("utf-8", "replace"))
                    blob += r.stdout
                (out / name).write_bytes(blob)
                commands.append({"file": name, "commands": [
                    "aws " + " ".join(_q(a) for a in argv) + " --endpoint-url http://127.0.0.1:<port>"
                    for argv in calls]})
                return blob

            fle = ["logs", "filter-log-events", "--log-group-name"]
            save("filter-log-events.default.json", fle + [EXEC_GROUP])
            save("filter-log-events.lambda.default.json", fle + [LAMBDA_GROUP])
            save("filter-log-events.interleaved.json", fle + [EXEC_GROUP, "--interleaved"])
            save("filter-log-events.page-size-2.json", fle + [EXEC_GROUP, "--page-size", "2"])
            save("filter-log-events.lambda.page-size-2.json", fle + [LAMBDA_GROUP, "--page-size", "2"])

            first = aws.text(*(fle + [EXEC_GROUP, "--max-items", "2"]))
            token = json.loads(first)["NextToken"]
            save("filter-log-events.max-items-2pages.json",
                 fle + [EXEC_GROUP, "--max-items", "2"],
                 fle + [EXEC_GROUP, "--starting-token", token])
            # with --page-size the CLI's NextToken wraps a real service nextToken
            first = aws.text(*(fle + [EXEC_GROUP, "--max-items", "3", "--page-size", "2"]))
            token3 = json.loads(first)["NextToken"]
            save("filter-log-events.max-items-3.page-size-2.2calls.json",
                 fle + [EXEC_GROUP, "--max-items", "3", "--page-size", "2"],
                 fle + [EXEC_GROUP, "--page-size", "2", "--starting-token", token3])
            # --no-paginate: the raw service page, with the service's lower-case nextToken;
            # the user follows it by hand with --next-token
            calls = [fle + [EXEC_GROUP, "--limit", "2", "--no-paginate"]]
            while True:
                o = json.loads(aws.text(*calls[-1]))
                if "nextToken" not in o:
                    break
                calls.append(fle + [EXEC_GROUP, "--limit", "2", "--no-paginate", "--next-token", o["nextToken"]])
            save("filter-log-events.no-paginate.limit-2.all-pages.json", *calls)
            # a user repeating --max-items 2 until no NextToken is printed
            calls = [fle + [EXEC_GROUP, "--max-items", "2"]]
            while True:
                o = json.loads(aws.text(*calls[-1]))
                if "NextToken" not in o:
                    break
                calls.append(fle + [EXEC_GROUP, "--max-items", "2", "--starting-token", o["NextToken"]])
            save("filter-log-events.max-items-2.all-pages.json", *calls)

            save("filter-log-events.empty-group.json", fle + [EMPTY_GROUP])
            save("filter-log-events.no-match.json",
                 fle + [EXEC_GROUP, "--filter-pattern", '"no such text anywhere"'])
            save("filter-log-events.output-text.txt", fle + [EXEC_GROUP, "--output", "text"])
            save("filter-log-events.lambda.output-text.txt", fle + [LAMBDA_GROUP, "--output", "text"])
            save("filter-log-events.output-table.txt", fle + [EXEC_GROUP, "--output", "table"])
            save("filter-log-events.lambda.output-table.txt", fle + [LAMBDA_GROUP, "--output", "table"])
            save("filter-log-events.query-messages-text.txt",
                 fle + [LAMBDA_GROUP, "--query", "events[].[timestamp,message]", "--output", "text"])

            gle = ["logs", "get-log-events", "--log-group-name"]
            save("get-log-events.json", gle + [EXEC_GROUP, "--log-stream-name", EXEC_STREAM_A])
            save("get-log-events.lambda.json", gle + [LAMBDA_GROUP, "--log-stream-name", LAMBDA_STREAM])
            save("get-log-events.limit-2.json",
                 gle + [LAMBDA_GROUP, "--log-stream-name", LAMBDA_STREAM, "--limit", "2"])
            save("get-log-events.limit-2.start-from-head.json",
                 gle + [LAMBDA_GROUP, "--log-stream-name", LAMBDA_STREAM, "--limit", "2", "--start-from-head"])
            page1 = json.loads(aws.text(*(gle + [LAMBDA_GROUP, "--log-stream-name", LAMBDA_STREAM,
                                                 "--limit", "4", "--start-from-head"])))
            save("get-log-events.forward-2pages.json",
                 gle + [LAMBDA_GROUP, "--log-stream-name", LAMBDA_STREAM, "--limit", "4", "--start-from-head"],
                 gle + [LAMBDA_GROUP, "--log-stream-name", LAMBDA_STREAM, "--limit", "4",
                        "--next-token", page1["nextForwardToken"]])
            save("get-log-events.empty-stream.json",
                 gle + [EMPTY_GROUP, "--log-stream-name", EMPTY_STREAM])
            # CloudWatch repeats the same forward token at the end of a stream
            last = json.loads(aws.text(*(gle + [LAMBDA_GROUP, "--log-stream-name", LAMBDA_STREAM])))
            save("get-log-events.past-end.json",
                 gle + [LAMBDA_GROUP, "--log-stream-name", LAMBDA_STREAM,
                        "--next-token", last["nextForwardToken"]])

            start_s = base // 1000 - 3600
            end_s = int(time.time()) + 60
            qargs = ["logs", "start-query", "--log-group-names", EXEC_GROUP, LAMBDA_GROUP,
                     "--start-time", str(start_s), "--end-time", str(end_s),
                     "--query-string", QUERY, "--limit", "10000"]
            started = aws.text(*qargs)
            qid = json.loads(started)["queryId"]
            (out / "start-query.json").write_text(started, encoding="utf-8")
            commands.append({"file": "start-query.json", "commands": [
                "aws " + " ".join(_q(a) for a in qargs) + " --endpoint-url http://127.0.0.1:<port>"]})
            for _ in range(120):
                res = aws.text("logs", "get-query-results", "--query-id", qid)
                if json.loads(res)["status"] == "Complete":
                    break
                time.sleep(0.5)
            else:
                raise TimeoutError("query never completed")
            save("get-query-results.json", ["logs", "get-query-results", "--query-id", qid])

            # empty result: a window with no events
            eargs = ["logs", "start-query", "--log-group-name", EXEC_GROUP,
                     "--start-time", str(start_s - 86400), "--end-time", str(start_s - 3600),
                     "--query-string", QUERY]
            eid = json.loads(aws.text(*eargs))["queryId"]
            save("get-query-results.empty.json", ["logs", "get-query-results", "--query-id", eid])
            commands[-1]["commands"].insert(0, "aws " + " ".join(_q(a) for a in eargs)
                                            + " --endpoint-url http://127.0.0.1:<port>")

            meta = {
                "aws": aws.version(),
                "moto": moto_version(),
                "python": sys.version.split()[0],
                "base_timestamp_ms": base,
                "captured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "endpoint": "http://127.0.0.1:<port> (moto_server, port picked at run time)",
                "env": "AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1, empty AWS_CONFIG_FILE",
                "files": commands,
                "decoded_max_items_tokens": {
                    "filter-log-events.max-items-2pages.json": json.loads(base64.b64decode(token)),
                    "filter-log-events.max-items-3.page-size-2.2calls.json": json.loads(base64.b64decode(token3)),
                },
            }
            (out / "captured-commands.json").write_text(
                json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
            # the events that went in, for decoders to compare against
            (out / "input-events.json").write_text(
                json.dumps(events, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        finally:
            server.stop()
    print(f"wrote {len(commands) + 2} files to {out}")
    return 0


def _q(a: str) -> str:
    import shlex
    return shlex.quote(a)


if __name__ == "__main__":
    sys.exit(main())
