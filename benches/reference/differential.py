#!/usr/bin/env python3
"""Differential test: random WCP scenarios decided by the reference (pyhall-wcp), written in
the tests/vectors/route.jsonl format with the reference's outcome as `expected`, so that
`proctor conformance run FILE` checks Proctor against it.

usage (inside a venv with pyhall-wcp installed):
  differential.py COUNT SEED > scenarios.jsonl && proctor conformance run scenarios.jsonl

The harness follows tests/vectors/README.md. Generated rules, records and hall configs are
well-typed (Proctor rejects, by design, the malformed ones the reference would crash on);
inputs are not: the parser's coercions and rejections are part of what is compared.
"""
import json
import random
import sys
import warnings

from pydantic import ValidationError
from pyhall.models import HallConfig, RouteInput
from pyhall.registry import Registry
from pyhall.router import make_decision
from pyhall.rules import load_rules_from_dict

warnings.simplefilter("ignore")
count, seed = int(sys.argv[1]), int(sys.argv[2])
rng = random.Random(seed)

ENVS, LABELS, RISKS, QOS = ["dev", "stage", "prod", "edge"], ["PUBLIC", "INTERNAL", "RESTRICTED"], ["low", "medium", "high"], ["P0", "P1", "P2", "P3"]
CAPS = ["cap.a", "cap.b", "cap.c", "cap.*"]
SPECIES = ["wrk.a", "wrk.b", "wrk.c", "wrk.d"]
CONTROLS = ["ctrl.x", "ctrl.y", "ctrl.blast_radius_scoring", "ctrl.privilege_envelopes_required", "ctrl.blast-radius-scoring", "BAD ctrl"]
HEX = ["a" * 64, "b" * 64, "A" * 64, "abc", ""]
FIELDS = {"capability_id": CAPS, "env": ENVS, "data_label": LABELS, "tenant_risk": RISKS, "qos_class": QOS}


def condition(values):
    return rng.choices([
        lambda: None,
        lambda: rng.choice(values),
        lambda: {"any": True},
        lambda: {"any": False},
        lambda: {"in": rng.sample(values, rng.randint(0, len(values)))},
        lambda: {"in": rng.sample(values, 1) + [5, None]},
        lambda: {"eq": rng.choice(values)},
        lambda: {"any": True, "in": ["zzz"]},
        lambda: 3,
    ], weights=[30, 12, 20, 3, 20, 4, 3, 4, 2])[0]()


def rule(i):
    match = {}
    for key, values in FIELDS.items():
        if rng.random() < 0.5:
            match[key] = condition(values)
    if rng.random() < 0.1:
        match["team"] = rng.choice(["x", {"any": True}])
    cands = []
    for _ in range(rng.randint(0, 3)):
        c = rng.choice([{"worker_species_id": rng.choice(SPECIES)}, {"worker_species_id": rng.choice(SPECIES), "score_hint": rng.choice([1, 0.5, None])}, {}, {"worker_species_id": ""}])
        cands.append(c)
    decision = {
        "candidate_workers_ranked": cands,
        "required_controls_suggested": rng.sample(CONTROLS[:5], rng.choice([0, 0, 1, 2])),
        "recommended_profiles": rng.choice([[], [{"profile_id": "prof.x"}]]),
        "escalation": {k: rng.random() < 0.3 for k in ["policy_gate", "human_required_default", "msavx_step_up"] if rng.random() < 0.7},
        "preconditions": {k: rng.random() < 0.5 for k in ["must_have_correlation_id", "deny_if_missing_required_controls", "deny_if_no_attestation_in_prod"] if rng.random() < 0.3},
    }
    if rng.random() < 0.3:
        decision["escalation"]["rationale"] = rng.choice(["because", None])
    r = {"rule_id": rng.choice([f"r{i}", f"r{i}", "dup"]), "match": match, "decision": decision}
    if rng.random() < 0.1:
        del r["decision"]
    return r


def record(i):
    species = rng.choice(SPECIES + [""])
    r = {"worker_id": f"org.t.w{i}", "worker_species_id": species, "capabilities": ["cap.a"],
         "currently_implements": rng.sample(CONTROLS, rng.randint(0, 3))}
    if rng.random() < 0.7:
        r["privilege_envelope"] = rng.choice([
            {}, {"tools": []}, {"egress": {"allowlist": ["api.x"]}}, {"egress": {"allowlist": ["api.x", "evil.y"]}},
            {"egress": {"allowlist": []}}, {"egress": {}}, {"egress": "all"}, "envelope", ["egress"], {"egress": {"allowlist": "ab"}},
        ])
    if rng.random() < 0.5:
        r["attestation"] = {"code_hash": rng.choice(HEX)}
    if rng.random() < 0.1:
        del r["worker_id"]
    return r


def hall():
    h = {"hall_config": None, "policy_gate": None, "privilege_callables": rng.random() < 0.6, "attestation_callables": rng.random() < 0.5}
    if rng.random() < 0.6:
        h["hall_config"] = {k: rng.random() < 0.5 for k in ["require_signatory", "require_worker_attestation", "enforce_correlation_id",
                                                          "enforce_required_controls", "enforce_blast_scoring_in_prod", "enforce_privilege_envelopes",
                                                          "require_credential"] if rng.random() < 0.4}
        if rng.random() < 0.5:
            h["hall_config"]["allowed_tenants"] = rng.sample(["acme", "demo", " acme"], rng.randint(0, 2))
    if rng.random() < 0.5:
        results = [["ALLOW", "policy.v1", "ok"], ["DENY", "policy.v2", "no"], ["REQUIRE_HUMAN", "p", "human"], ["allow", "p", "x"], ["__RAISE__", "p", "x"]]
        h["policy_gate"] = {"rules": [{"when": {rng.choice(["tenant_id", "env", "qos_class", "unknown"]): rng.sample(["acme", "prod", "P0", "demo"], 2)},
                                       "result": rng.choice(results)} for _ in range(rng.randint(0, 2))],
                            "default": rng.choice(results[:3])}
    if h["attestation_callables"]:
        h["current_hashes"] = {s: rng.choice(HEX) for s in SPECIES if rng.random() < 0.7}
        if rng.random() < 0.2:
            h["registered_hashes_override"] = {s: rng.choice(HEX) for s in SPECIES if rng.random() < 0.7}
    return h


def route_input():
    inp = {"capability_id": rng.choice(CAPS + ["cap.\x7fa", "c\u00e9"]), "env": rng.choice(ENVS + ["DEV"] * 0),
           "data_label": rng.choice(LABELS), "tenant_risk": rng.choice(RISKS), "qos_class": rng.choice(QOS),
           "tenant_id": rng.choice(["acme", "demo"] * 6 + [" ", "a\nb"]), "correlation_id": rng.choice(["c-1", "c-2"] * 6 + ["", "  ", "x\ty"])}
    req = {}
    for flag in ["egress", "external_call", "writes", "mutates_state"]:
        if rng.random() < 0.25:
            req[flag] = rng.choice([True, False, 0, 1, "", "x", [], [0], {}, 0.0, None])
    if rng.random() < 0.3:
        req["data"] = rng.choice([{"f": 1e-05, "x": "\u00e9\U0001f600", "n": [1, 2.5, None]}, 1.0, -0.0, 123456789.125, "a\"b\\c"])
    inp["request"] = req
    if rng.random() < 0.4:
        inp["blast_score"] = rng.choice([0, 50, 84, 85, 100, 101, -1, "50", " 7 ", "-1", 42.0, None, 90])
    if rng.random() < 0.2:
        inp["dry_run"] = rng.choice([True, False, "yes", "OFF", 1, 0.0])
    if rng.random() < 0.05:  # a few rejected inputs
        inp[rng.choice(["env", "blast_score", "dry_run", "request", "tenant_id"])] = rng.choice(["DEV", True, 4.5, [1], None, "4e1"])
    return inp


def decide(s):
    reg = Registry()
    for w in s["registry"]["workers"]:
        try:
            reg.enroll(w)
        except Exception:
            pass
    reg.add_controls_present(s["registry"].get("controls_present_extra", []))
    if s["registry"].get("workers_available_override") is not None:
        reg.set_workers_available(s["registry"]["workers_available_override"])
    for env, lst in s["registry"]["egress_allowlist"].items():
        reg.set_egress_allowlist(env, lst)
    h = s["hall"]
    gate = None
    if h["policy_gate"] is not None:
        g = h["policy_gate"]

        def gate(ctx, g=g):
            for r in g["rules"]:
                if all(ctx.get(k) in v for k, v in r["when"].items()):
                    res = r["result"]
                    break
            else:
                res = g["default"]
            if res[0] == "__RAISE__":
                raise RuntimeError("gate")
            return tuple(res)
    reg_hash = cur_hash = None
    if h["attestation_callables"]:
        override = h.get("registered_hashes_override")
        reg_hash = (lambda sp, o=override: o.get(sp)) if override is not None else reg.get_worker_hash
        cur_hash = lambda sp, c=h.get("current_hashes", {}): c.get(sp)
    try:
        inp = RouteInput.model_validate(s["input"])
    except ValidationError as e:
        return {"input_valid": False, "invalid_fields": sorted({str(err["loc"][0]) for err in e.errors()})}
    d = make_decision(
        inp, load_rules_from_dict(s["rules"]), reg.controls_present(), reg.worker_available,
        reg.get_privilege_envelope if h["privilege_callables"] else None,
        reg.policy_allows_privilege if h["privilege_callables"] else None,
        gate, hall_config=HallConfig(**h["hall_config"]) if h["hall_config"] is not None else None,
        registry_get_worker_hash=reg_hash, get_current_worker_hash=cur_hash,
    ).model_dump()
    reason = d["deny_reason_if_denied"]
    return {
        "input_valid": True, "denied": d["denied"], "deny_code": reason["code"] if reason else None, "deny_reason": reason,
        **{k: d[k] for k in ["matched_rule_id", "selected_worker_species_id", "candidate_workers_ranked", "required_controls_effective",
                             "recommended_profiles_effective", "escalation_effective", "preconditions_checked", "dry_run",
                             "worker_attestation_checked", "worker_attestation_valid", "artifact_hash"]},
        "telemetry": [{k: v for k, v in e.items() if k != "timestamp"} for e in d["telemetry_envelopes"]],
    }


for i in range(count):
    s = {
        "id": f"diff-{seed}-{i:05d}",
        "rules": {"rules": [rule(j) for j in range(rng.randint(0, 5))]},
        "registry": {"workers": [record(j) for j in range(rng.randint(0, 5))],
                     "egress_allowlist": rng.choice([{}, {"prod": ["api.x"]}, {"edge": ["api.x", "evil.y"]}])},
        "hall": hall(),
        "input": route_input(),
    }
    if rng.random() < 0.5:
        s["registry"]["controls_present_extra"] = rng.sample(CONTROLS, 3)
    if rng.random() < 0.1:
        s["registry"]["workers_available_override"] = rng.sample(SPECIES, 2)
    try:
        s["expected"] = decide(s)
    except Exception as exc:  # the reference crashed: not a comparable scenario
        print(f"skipped {s['id']}: reference raised {type(exc).__name__}: {exc}", file=sys.stderr)
        continue
    print(json.dumps(s))
