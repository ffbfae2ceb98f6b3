#!/usr/bin/env python3
"""`proctor route` end to end against the reference, in the same run (driven by route_cli.sh).

usage: route_cli.py --proctor BIN --ref-python PY [--baseline BIN] [--lines N] [--runs N]
                    [--inputs dev/stage,all]

Inputs (written to --work): the shared scenario's requests cycled to N lines ("all"), and its
dev/stage requests only, cycled to N lines ("dev/stage": no request on which the reference runs
its per-request shadow detection, so its cheapest decisions). For each input and each of
--runs alternated rounds: `proctor route` (the whole process: start, rules and registry
loading, every line parsed, decided, serialized and written to /dev/null), as run by default
(a large input decided on every CPU) and with `--threads 1`, the --baseline
binary the same way, then the reference's end-to-end loop over the same file (its own timer:
loading excluded; every line parsed, validated, decided, serialized and written to /dev/null).

With --baseline, first checks that both binaries print the same bytes for the same input (the
two inputs, plus one with malformed, coerced and blank lines; this tree's binary by default and
with `--threads 1`), decision ids and timestamps masked, with the same exit code and stderr.
"""
import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

here = Path(__file__).resolve().parent
p = argparse.ArgumentParser()
p.add_argument("--proctor", required=True)
p.add_argument("--baseline")
p.add_argument("--ref-python", required=True)
p.add_argument("--scenario", default=str(here / "scenario"))
p.add_argument("--lines", type=int, default=40000)
p.add_argument("--runs", type=int, default=3)
p.add_argument("--work", required=True)
p.add_argument("--inputs", default="dev/stage,all", help="which inputs to time, comma-separated")
a = p.parse_args()
scenario, work = Path(a.scenario), Path(a.work)
THREADS_1 = ("--threads", "1")
route = ["route", "--rules", f"{scenario}/rules.json", "--registry", f"{scenario}/registry",
         "--policy-gate", f"{scenario}/gate.json", "--input"]


def cycled(lines, n):
    return [lines[i % len(lines)] for i in range(n)]


requests = (scenario / "requests.jsonl").read_text().splitlines()
devstage = [l for l in requests if json.loads(l)["env"] in ("dev", "stage")]
inputs = {"dev/stage": cycled(devstage, a.lines), "all": cycled(requests, a.lines)}
inputs = {name: inputs[name] for name in a.inputs.split(",")}
paths = {}
for name, lines in inputs.items():
    paths[name] = work / (name.replace("/", "-") + ".jsonl")
    paths[name].write_text("\n".join(lines) + "\n")


def run(binary, path, out, extra=()):
    with open(out, "wb") as f:
        return subprocess.run([binary, route[0], *extra, *route[1:], str(path)], stdout=f, stderr=subprocess.PIPE)


MASK = [(re.compile(rb'"decision_id":"[0-9a-f-]{36}"'), b'"decision_id":"-"'),
        (re.compile(rb'"timestamp":"[^"]*"'), b'"timestamp":"-"')]


def masked(path):
    data = Path(path).read_bytes()
    for pattern, blank in MASK:
        data = pattern.sub(blank, data)
    return data


if a.baseline:
    odd = work / "odd.jsonl"
    odd.write_bytes(b"\n".join([
        requests[0].encode(), b"", b"   ", b"not json", b"[1, 2]", b"\xff\xfe not utf-8",
        b'{"capability_id": "cap.doc.summarize", "env": "DEV"}',
        # coercions the general path applies (and the fast path leaves to it)
        requests[1].replace('"env": "', '"blast_score": " 42 ", "dry_run": "yes", "env": "').encode(),
        requests[2].replace('"env": "', '"env": "\\u0070rod", "env": "').encode(),
        b'{"capability_id": "c\\u0001\\"q", "env": "dev", "data_label": "PUBLIC", "tenant_risk": "low",'
        b' "qos_class": "P2", "tenant_id": "t\\n", "correlation_id": "x\\\\y", "request": {"\\t": "\\u00e9"}}',
        requests[3].encode(), b"",
    ]))
    print("== same bytes as the baseline? (decision ids and timestamps masked)", flush=True)
    for name, path in [*paths.items(), ("odd lines", odd)]:
        new, old = run(a.proctor, path, work / "new.out"), run(a.baseline, path, work / "old.out")
        one = run(a.proctor, path, work / "one.out", THREADS_1)
        same = all(masked(work / out) == masked(work / "old.out")
                   and r.returncode == old.returncode and r.stderr == old.stderr
                   for out, r in [("new.out", new), ("one.out", one)])
        size = (work / "new.out").stat().st_size
        print(f"   {name:10} {'identical' if same else 'DIFFERENT'}: "
              f"{len(masked(work / 'new.out').splitlines()):,} lines, {size:,} bytes, exit {new.returncode}")
        if not same:
            sys.exit(f"output of {name} differs from the baseline's")

print("== timing", flush=True)
# "proctor": as run by default (a large input on every CPU); "1 thread": `--threads 1`.
binaries = {"proctor": (a.proctor, ()), "1 thread": (a.proctor, THREADS_1),
            **({"baseline": (a.baseline, ())} if a.baseline else {})}


def timed(binary, path, n):
    binary, extra = binary if isinstance(binary, tuple) else (binary, ())
    r0, t0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    with open(os.devnull, "wb") as null:
        subprocess.run([binary, route[0], *extra, *route[1:], str(path)], stdout=null, stderr=subprocess.DEVNULL, check=False)
    t1, r1 = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime
    return {"wall_us": (t1 - t0) / n * 1e6, "cpu_us": cpu / n * 1e6}


one = work / "one.jsonl"
one.write_text(requests[0] + "\n")
results = {name: {k: [] for k in [*binaries, "reference"]} for name in paths}
for r in range(a.runs):
    for name, path in paths.items():
        n = len(inputs[name])
        for label, binary in binaries.items():
            results[name][label].append(timed(binary, path, n))
        ref = json.loads(subprocess.run([a.ref_python, str(here / "bench_reference.py"), str(scenario),
                                         str(path), "0"], capture_output=True, check=True, text=True).stdout)
        results[name]["reference"].append({"wall_us": ref["end_to_end_seconds"] / n * 1e6})
        row = "   ".join(f"{k} {v[-1]['wall_us']:.2f}" for k, v in results[name].items())
        print(f"   round {r + 1}, {name:9}: us per line  {row}", flush=True)
startup = statistics.median(timed(a.proctor, one, 1)["wall_us"] for _ in range(7)) / 1000

print(f"== results ({a.lines:,} lines, {a.runs} alternated rounds; median [min..max] over rounds; "
      f"proctor's figures include its start and loading, {startup:.1f} ms a run)")
summary = {}
for name, res in results.items():
    ref = [x["wall_us"] for x in res["reference"]]
    for label in binaries:
        wall = [x["wall_us"] for x in res[label]]
        cpu = [x["cpu_us"] for x in res[label]]
        ratios = [r / w for r, w in zip(ref, wall)]
        summary[f"{name} {label}"] = {"us_per_line": statistics.median(wall), "ratio": statistics.median(ratios)}
        print(f"   {name:9} {label:8}: {statistics.median(wall):6.2f} us/line wall ({1e6 / statistics.median(wall):>9,.0f} lines/s), "
              f"{statistics.median(cpu):.2f} us CPU; reference {statistics.median(ref):8.1f} us/line; "
              f"ratio {statistics.median(ratios):.1f}x [{min(ratios):.1f}..{max(ratios):.1f}]")
print(json.dumps(summary))
