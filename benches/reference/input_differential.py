#!/usr/bin/env python3
"""Differential test of the RouteInput parser (SPEC.md §1.14) against the reference's pydantic
model: random requests with odd field values are validated by pyhall-wcp and decided by
`proctor conformance decide`; the accepted/rejected verdict, the rejected field names and the
artifact hash of the coerced values (a catch-all rule allows everything valid) must agree.

usage (inside a venv with pyhall-wcp installed):
  input_differential.py COUNT SEED PROCTOR_BINARY
"""
import subprocess
import hashlib
import json
import random
import sys
from pydantic import ValidationError
from pyhall.models import RouteInput
rng = random.Random(int(sys.argv[2]))
POOL = [None, True, False, 0, 1, -1, 2, 0.0, 1.0, 1.5, -0.0, 1e20, 42, "42", " 42 ", "42.0", "x", "", " ", "\t", "\x1c", "\u00a0", "\u200b", "dev", "DEV", "prod", "PUBLIC", "P0", "low", "true", "True", "no", "off", "1", "0", [], [1], {}, {"a": 1}, {"é": [1.5, None, "\x00"]}, "é", "\U0001f600", "a\nb", 1e-05, 123456789012, -5]
FIELDS = ["capability_id", "env", "data_label", "tenant_risk", "qos_class", "tenant_id", "correlation_id", "request", "blast_radius", "blast_score", "privilege_context", "dry_run", "tenant_credential"]
base = {"capability_id": "cap.x", "env": "dev", "data_label": "PUBLIC", "tenant_risk": "low", "qos_class": "P2", "tenant_id": "t", "correlation_id": "c"}
rules = {"rules": [{"rule_id": "all", "match": {}, "decision": {"candidate_workers_ranked": [{"worker_species_id": "wrk.a"}], "preconditions": {"must_have_correlation_id": False}}}]}
reg = {"workers": [{"worker_id": "org.a.w", "worker_species_id": "wrk.a"}], "egress_allowlist": {}}
hall = {"hall_config": {"enforce_correlation_id": False, "enforce_blast_scoring_in_prod": False}, "policy_gate": None, "privilege_callables": False, "attestation_callables": False}
lines = []
for i in range(int(sys.argv[1])):
    inp = dict(base)
    for f in rng.sample(FIELDS, rng.randint(1, 3)):
        if rng.random() < 0.1:
            inp.pop(f, None)
        else:
            inp[f] = rng.choice(POOL)
    try:
        m = RouteInput.model_validate(inp)
        exp = {"input_valid": True, "artifact_hash_in": hashlib.sha256(json.dumps(m.model_dump(), sort_keys=True, default=str).encode()).hexdigest()}
    except ValidationError as e:
        exp = {"input_valid": False, "invalid_fields": sorted({str(err["loc"][0]) for err in e.errors()})}
    lines.append(json.dumps({"id": f"in-{i}", "rules": rules, "registry": reg, "hall": hall, "input": inp, "expected": exp}))

out = subprocess.run([sys.argv[3], "conformance", "decide"], input="\n".join(lines) + "\n", capture_output=True, text=True, check=True).stdout.splitlines()
bad = 0
for line, answer in zip(lines, out):
    s, d = json.loads(line), json.loads(answer)
    e = s["expected"]
    if not e["input_valid"]:
        ok = d.get("input_valid") is False and d["invalid_fields"] == e["invalid_fields"]
    else:
        code = (d.get("deny_reason_if_denied") or {}).get("code")
        # Out-of-range scores are valid input that the router denies (no hash to compare).
        ok = d.get("input_valid", True) is not False and (d.get("artifact_hash") == e["artifact_hash_in"] or code == "DENY_INVALID_INPUT")
    if not ok:
        bad += 1
        if bad <= 10:
            print(json.dumps(s["input"]), "expected", e, "got", {k: d.get(k) for k in ("input_valid", "invalid_fields", "artifact_hash")})
print(f"{len(lines) - bad} agree, {bad} differ")
sys.exit(1 if bad or len(out) != len(lines) else 0)
