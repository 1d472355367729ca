#!/usr/bin/env python3
"""Scores gonetrace's verdicts against a ground-truth file of injected 410s.

usage: score.py VERDICTS.json TRUTH.jsonl [--tolerance-ms N] [--show N]

A verdict matches a truth entry when both name the same failed call: same Lambda request id
(when both have one) or same connectionId, and times within the tolerance. Prints recall
(410s found), precision (verdicts that are real 410s), and cause accuracy among matches, and
exits 1 when recall < 95%, false verdicts >= 5% or right causes < 90% (the issue's bar).
"""
import argparse, json, sys
from collections import Counter, defaultdict
from datetime import datetime, timezone


def ms(iso):
    return int(datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp() * 1000)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("verdicts")
    ap.add_argument("truth")
    ap.add_argument("--tolerance-ms", type=int, default=2000)
    ap.add_argument("--show", type=int, default=10)
    a = ap.parse_args()
    with open(a.verdicts) as f:
        verdicts = json.load(f)["verdicts"]
    with open(a.truth) as f:
        truth = [json.loads(line) for line in f if line.strip()]

    unmatched = list(range(len(verdicts)))
    by_key = defaultdict(list)
    for i, v in enumerate(verdicts):
        by_key[v.get("lambdaRequestId")].append(i)
        by_key[v.get("connectionId")].append(i)
    matches, missed = [], []
    used = set()
    for t in sorted(truth, key=lambda t: t["time"]):
        tt = ms(t["time"])
        best = None
        for key in (t.get("lambdaRequestId"), t.get("connectionId")):
            if key is None:
                continue
            for i in by_key.get(key, []):
                if i in used:
                    continue
                v = verdicts[i]
                if t.get("lambdaRequestId") and v.get("lambdaRequestId") and v["lambdaRequestId"] != t["lambdaRequestId"]:
                    continue
                if t.get("connectionId") and v.get("connectionId") and v["connectionId"] != t["connectionId"]:
                    continue
                d = abs(ms(v["time"]) - tt)
                if d <= a.tolerance_ms and (best is None or d < best[0]):
                    best = (d, i)
            if best:
                break
        if best:
            used.add(best[1])
            matches.append((t, verdicts[best[1]]))
        else:
            missed.append(t)
    false = [verdicts[i] for i in range(len(verdicts)) if i not in used]

    def right(t, v):
        if t["cause"] != v["cause"]:
            return False
        if t["cause"] == "reconnect-with-old-id":
            return t.get("newConnectionId") in (None, v.get("newConnectionId"))
        return t["detail"] == v["detail"]

    correct = [m for m in matches if right(*m)]
    recall = len(matches) / len(truth) if truth else 1.0
    false_rate = len(false) / len(verdicts) if verdicts else 0.0
    accuracy = len(correct) / len(matches) if matches else 1.0
    print(f"truth {len(truth)}  verdicts {len(verdicts)}  found {len(matches)} ({recall:.1%})  "
          f"false {len(false)} ({false_rate:.1%})  right cause {len(correct)}/{len(matches)} ({accuracy:.1%})")
    confusion = Counter((f"{t['cause']}/{t['detail']}", f"{v['cause']}/{v['detail']}") for t, v in matches if not right(t, v))
    for (want, got), n in confusion.most_common(a.show):
        print(f"  wrong: {n} x truth {want} -> {got}")
    for t in missed[: a.show]:
        print(f"  missed: {t['time']} {t.get('connectionId')} {t['cause']}/{t['detail']} ({t.get('sdk')})")
    for v in false[: a.show]:
        print(f"  false: {v['time']} {v.get('connectionId')} {v['cause']}/{v['detail']} :: {v['evidence'][0]['text'][:120] if v['evidence'] else ''}")
    ok = recall >= 0.95 and false_rate < 0.05 and accuracy >= 0.90
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
