#!/usr/bin/env python3
"""Two (or more) `proctor route` builds, alternated, on one and on every thread: median wall and
CPU time (user + sys of the whole process) per line. CPU time is the comparison to read when
other work shares the machine (the wall clock then measures the scheduler).

usage: route_ab.py BIN[,BIN...] [ROUNDS] [LINES]     (scenario: benches/reference/scenario)
"""
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

here = Path(__file__).resolve().parent
scenario = here / "scenario"
bins = sys.argv[1].split(",")
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
n = int(sys.argv[3]) if len(sys.argv) > 3 else 40000
# The dev/stage requests cycled to n lines (route_cli.py's "dev/stage" input).
requests = (scenario / "requests.jsonl").read_text().splitlines()
devstage = [l for l in requests if json.loads(l)["env"] in ("dev", "stage")]
inp = Path(tempfile.mkdtemp()) / "dev-stage.jsonl"
inp.write_text("\n".join(devstage[i % len(devstage)] for i in range(n)) + "\n")
res = {}
for _ in range(rounds):
    for b in bins:
        for extra in (["--threads", "1"], []):
            r0, t0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
            subprocess.run([b, "route", *extra, "--rules", f"{scenario}/rules.json", "--registry",
                            f"{scenario}/registry", "--policy-gate", f"{scenario}/gate.json",
                            "--input", str(inp)], stdout=subprocess.DEVNULL, check=True)
            t1, r1 = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime
            res.setdefault((b, " ".join(extra) or "threads"), []).append(((t1 - t0) / n * 1e6, cpu / n * 1e6))
os.remove(inp)
for (b, mode), v in res.items():
    print(f"{b:32} {mode:12} wall {statistics.median(x[0] for x in v):.2f} us/line  "
          f"CPU {statistics.median(x[1] for x in v):.2f} us/line")
print("load", open("/proc/loadavg").read().strip())
