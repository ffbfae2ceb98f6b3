#!/usr/bin/env python3
"""Compares two files of decisions line by line, ignoring decision ids and timestamps.

usage: compare_decisions.py OURS.jsonl REFERENCE.jsonl
Exits 1 (listing the first differences) if any decision differs.
"""
import json
import sys


def masked(line):
    d = json.loads(line)
    if "error" in d:
        return {"error": True}
    d.pop("decision_id", None)
    d.pop("timestamp", None)
    for e in d.get("telemetry_envelopes", []):
        e.pop("timestamp", None)
    return d


ours, ref = open(sys.argv[1]).read().splitlines(), open(sys.argv[2]).read().splitlines()
bad = [i for i, (a, b) in enumerate(zip(ours, ref), 1) if masked(a) != masked(b)]
if len(ours) != len(ref):
    print(f"line counts differ: {len(ours)} vs {len(ref)}")
for i in bad[:5]:
    a, b = masked(ours[i - 1]), masked(ref[i - 1])
    print(f"line {i}:", {k: (a.get(k), b.get(k)) for k in set(a) | set(b) if a.get(k) != b.get(k)})
print(f"{len(ours) - len(bad)} identical, {len(bad)} different")
sys.exit(1 if bad or len(ours) != len(ref) else 0)
