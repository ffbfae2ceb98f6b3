#!/usr/bin/env python3
"""Writes the shared router benchmark scenario (stdlib only, fixed seed, so it is reproducible).

Output (committed, read by both the Rust benches and the reference bench):
  scenario/rules.json        50 rules: 48 capability-specific, 2 catch-alls (last), no shadowing
  scenario/registry/*.json   200 worker records over 40 capabilities
  scenario/gate.json         the allow-all stub policy gate, as a declarative gate
  scenario/requests.jsonl    1,000 mixed requests (allowed and denied, every major deny path)
"""
import json
import random
from pathlib import Path

rng = random.Random(20261125)
out = Path(__file__).resolve().parent / "scenario"
(out / "registry").mkdir(parents=True, exist_ok=True)
for old in (out / "registry").glob("*.json"):
    old.unlink()

DOMAINS = ["doc", "web", "mail", "db", "img", "code", "pay", "secret"]
VERBS = ["summarize", "fetch", "classify", "translate", "resize"]
CAPS = [f"cap.{d}.{v}" for d in DOMAINS for v in VERBS]  # 40 capabilities
CONTROLS = [
    "ctrl.obs.audit-log-append-only", "ctrl.pol.default-deny", "ctrl.supply-chain.sbom",
    "ctrl.data.pii-redaction", "ctrl.authz.rbac", "ctrl.obs.trace_propagation",
    "ctrl.blast_radius_scoring", "ctrl.privilege_envelopes_required",
]
ENVS, LABELS, RISKS, QOS = ["dev", "stage", "prod", "edge"], ["PUBLIC", "INTERNAL", "RESTRICTED"], ["low", "medium", "high"], ["P0", "P1", "P2", "P3"]


def species_of(cap, i):
    d, v = cap.split(".")[1:]
    return f"wrk.{d}.{v}er" + ("" if i == 0 else f".v{i + 1}")


# 200 workers: 5 instances per capability, spread over 3 species versions.
n = 0
for cap in CAPS:
    for i in range(5):
        species = species_of(cap, i % 3)
        rec = {
            "worker_id": f"org.bench.{cap.split('.', 1)[1]}.i-{i}",
            "worker_species_id": species,
            "capabilities": [cap],
            "risk_tier": rng.choice(["low", "medium", "high"]),
            "required_controls": rng.sample(CONTROLS[:4], 2),
            "currently_implements": rng.sample(CONTROLS[:6], 4) + ["ctrl.blast_radius_scoring", "ctrl.privilege_envelopes_required"],
            "allowed_environments": ENVS,
            "blast_radius": {"data": 1, "network": 1, "financial": 0, "time": 1, "reversibility": "reversible"},
            "privilege_envelope": {"secrets_access": [], "network_egress": "allowlist", "tools": [],
                                   "egress": {"allowlist": rng.sample(["api.example.com", "s3.amazonaws.com", "hooks.slack.com"], 1)}},
            "owner": "org.bench",
        }
        (out / "registry" / f"{n:03d}-{species}.json").write_text(json.dumps(rec, indent=1) + "\n")
        n += 1


def cond(values):
    r = rng.random()
    if r < 0.45:
        return {"any": True}
    if r < 0.9:
        return {"in": sorted(rng.sample(values, rng.randint(len(values) - 1, len(values))), key=values.index)}
    return rng.choice(values)


# 48 rules, 6 per domain: each owns distinct capabilities, so none shadows another.
rules = []
for k in range(48):
    caps = [CAPS[k % 40]] if k < 40 else [CAPS[(k * 7) % 40 + 0], CAPS[(k * 11) % 40]]
    caps = [c for c in caps if all(c not in (r["match"]["capability_id"] if isinstance(r["match"]["capability_id"], str) else []) for r in rules[:40])] or caps
    match = {"capability_id": caps[0] if len(caps) == 1 else {"in": caps}}
    match["env"] = cond(ENVS)
    match["data_label"] = cond(LABELS)
    match["tenant_risk"] = cond(RISKS)
    match["qos_class"] = cond(QOS)
    controls = rng.sample(CONTROLS[:6], rng.choice([0, 1, 2]))
    if rng.random() < 0.3:
        controls.append("ctrl.blast_radius_scoring")
    if rng.random() < 0.3:
        controls.append("ctrl.privilege_envelopes_required")
    if rng.random() < 0.1:
        controls.append("ctrl.missing.everywhere")
    cap0 = caps[0]
    cands = [{"worker_species_id": species_of(cap0, i), "score_hint": round(1 - i * 0.25, 2)} for i in range(rng.randint(1, 3))]
    if rng.random() < 0.15:
        cands.insert(0, {"worker_species_id": "wrk.retired.worker", "score_hint": 1.0})
    rules.append({
        "rule_id": f"rr_{cap0.replace('.', '_')}_{k:03d}",
        "match": match,
        "decision": {
            "candidate_workers_ranked": cands,
            "required_controls_suggested": controls,
            "recommended_profiles": [{"profile_id": "prof.default", "why": "baseline"}],
            "escalation": {"policy_gate": rng.random() < 0.3, "human_required_default": False},
            "preconditions": {},
        },
    })
# Rules 40..47 reuse capabilities of 0..39 with an {"in": [...]} list; drop any that an earlier
# rule would shadow so prod requests are decided in full, not denied at the shadow check.
def covers(e, l):
    if e == {"any": True} or e == l:
        return True
    if isinstance(e, dict) and "in" in e:
        if isinstance(l, str):
            return l in e["in"]
        return isinstance(l, dict) and "in" in l and set(l["in"]) <= set(e["in"])
    return False


def shadows(e, l):
    return all(covers(e.get(k), l.get(k)) if l.get(k) is not None else e.get(k) in (None, {"any": True}) for k in set(e) | set(l))


kept = []
for r in rules:
    if not any(shadows(p["match"], r["match"]) or all(r["match"].get(k) == v for k, v in p["match"].items()) for p in kept):
        kept.append(r)
rules = kept[:48]
rules.append({"rule_id": "rr_review_queue_dev", "match": {"capability_id": {"any": True}, "env": {"in": ["dev", "stage"]}},
              "decision": {"candidate_workers_ranked": [{"worker_species_id": species_of("cap.doc.summarize", 0)}], "escalation": {"policy_gate": False, "rationale": "unrouted: human review"}}})
rules.append({"rule_id": "rr_review_queue_edge", "match": {"capability_id": {"any": True}, "env": "edge", "data_label": "PUBLIC"},
              "decision": {"candidate_workers_ranked": [{"worker_species_id": species_of("cap.doc.summarize", 1)}], "escalation": {"policy_gate": False}}})
(out / "rules.json").write_text(json.dumps({"rules": rules}, indent=1) + "\n")
(out / "gate.json").write_text(json.dumps({"rules": [], "default": ["ALLOW", "policy.v0", "stub_allow"]}) + "\n")

# 1,000 requests: mostly known capabilities, some unknown, a few malformed-but-parseable.
with (out / "requests.jsonl").open("w") as f:
    for i in range(1000):
        req = {"text": "quarterly numbers " * rng.randint(1, 6), "max_words": rng.randint(20, 200)}
        if rng.random() < 0.2:
            req["egress"] = True
        if rng.random() < 0.15:
            req["writes"] = True
        inp = {
            "capability_id": rng.choice(CAPS) if rng.random() < 0.9 else f"cap.unknown.op{i % 7}",
            "env": rng.choice(["dev", "dev", "stage", "prod", "prod", "edge"]),
            "data_label": rng.choice(LABELS),
            "tenant_risk": rng.choice(RISKS),
            "qos_class": rng.choice(QOS),
            "tenant_id": rng.choice(["acme", "initech", "mcp.my-app", "agent.orchestrator"]),
            "correlation_id": "" if rng.random() < 0.03 else f"{rng.getrandbits(32):08x}-0000-4000-8000-{i:012x}",
            "request": req,
        }
        if rng.random() < 0.1:
            inp["blast_score"] = rng.choice([20, 50, 90, 101])
        if rng.random() < 0.05:
            inp["dry_run"] = True
        f.write(json.dumps(inp) + "\n")
print(f"wrote {out}: {len(rules)} rules, {n} workers, 1000 requests")
