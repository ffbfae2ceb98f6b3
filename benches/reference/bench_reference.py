#!/usr/bin/env python3
"""Times the reference router (pyhall-wcp) on the shared scenario.

usage: bench_reference.py SCENARIO_DIR REQUESTS_JSONL IN_PROCESS_DECISIONS [DUMP_FILE]

Prints one JSON object: in-process decisions/s with p50/p99 per decision (inputs pre-parsed,
single thread; skipped when IN_PROCESS_DECISIONS is 0), and the end-to-end rate over
REQUESTS_JSONL (parse + validate + decide + serialize each line, like `proctor route`). With
DUMP_FILE, also writes every end-to-end decision there (one JSON per line) so the two
implementations can be compared.
"""
import json
import sys
import time
from pathlib import Path

from pyhall.models import RouteInput
from pyhall.policy_gate import PolicyGate
from pyhall.registry import Registry
from pyhall.router import make_decision
from pyhall.rules import load_rules

scenario, requests_path, n_inproc = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
dump = open(sys.argv[4], "w") if len(sys.argv) > 4 else None

rules = load_rules(scenario / "rules.json")
registry = Registry(registry_dir=str(scenario / "registry"))
gate = PolicyGate().evaluate  # the reference stub; scenario/gate.json is its declarative twin


def decide(inp):
    return make_decision(
        inp,
        rules,
        registry.controls_present(),
        registry.worker_available,
        registry.get_privilege_envelope,
        registry.policy_allows_privilege,
        gate,
    )


inputs = [RouteInput.model_validate(json.loads(l)) for l in open(scenario / "requests.jsonl")]
for inp in inputs[:200]:  # warm-up
    decide(inp)
samples = []
start = time.perf_counter()
for i in range(n_inproc):
    t0 = time.perf_counter_ns()
    decide(inputs[i % len(inputs)])
    samples.append(time.perf_counter_ns() - t0)
elapsed = time.perf_counter() - start
samples.sort() if samples else samples.append(0)

lines = 0
out = dump or open("/dev/null", "w")
start = time.perf_counter()
with open(requests_path) as f:
    for line in f:
        try:
            inp = RouteInput.model_validate(json.loads(line))
            out.write(decide(inp).model_dump_json() + "\n")
        except Exception as exc:  # invalid lines get an error object, as in proctor route
            out.write(json.dumps({"error": {"message": str(exc)}}) + "\n")
        lines += 1
e2e = time.perf_counter() - start
out.close()

print(json.dumps({
    "in_process_decisions": n_inproc,
    "in_process_rate": n_inproc / elapsed if n_inproc else None,
    "p50_us": samples[len(samples) // 2] / 1000,
    "p99_us": samples[int(len(samples) * 0.99)] / 1000,
    "end_to_end_lines": lines,
    "end_to_end_seconds": e2e,
    "end_to_end_rate": lines / e2e,
}))
