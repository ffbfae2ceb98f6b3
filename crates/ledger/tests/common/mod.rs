//! Realistic RouteDecision JSON for tests and benches, deterministic from an index.
#![allow(dead_code)]

use serde_json::json;

pub const TENANTS: [&str; 20] = [
    "acme",
    "globex",
    "initech",
    "umbrella",
    "hooli",
    "stark",
    "wayne",
    "wonka",
    "tyrell",
    "cyberdyne",
    "soylent",
    "oscorp",
    "aperture",
    "blackmesa",
    "vandelay",
    "dunder",
    "pied",
    "massive",
    "gringotts",
    "nakatomi",
];
pub const CAPS: [&str; 10] = [
    "cap.pay.invoice",
    "cap.web.fetch",
    "cap.doc.summarize",
    "cap.code.deploy",
    "cap.mail.send",
    "cap.db.query",
    "cap.img.render",
    "cap.kb.search",
    "cap.hr.onboard",
    "cap.ops.restart",
];
pub const ENVS: [&str; 4] = ["dev", "stage", "prod", "edge"];
pub const LABELS: [&str; 3] = ["PUBLIC", "INTERNAL", "RESTRICTED"];
pub const QOS: [&str; 4] = ["P0", "P1", "P2", "P3"];
pub const DENY_CODES: [&str; 5] = [
    "DENY_NO_MATCHING_RULE",
    "DENY_MISSING_REQUIRED_CONTROLS",
    "DENY_REQUIRES_HUMAN",
    "DENY_NO_AVAILABLE_WORKER",
    "DENY_WORKER_TAMPERED",
];

/// A cheap deterministic mix so fields vary independently.
pub fn mix(i: u64, salt: u64) -> u64 {
    let mut x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt.wrapping_mul(0xD1B5_4A32_D192_ED03);
    x ^= x >> 31;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^ (x >> 29)
}

/// Decision `i`: one second apart from 2026-01-01, about 1 in 5 denied, 1 in 10 dry runs.
pub fn decision(i: u64) -> String {
    decision_with(i, 1_767_225_600 + i as i64, &format!("corr-{:08x}", i / 3))
}

pub fn decision_with(i: u64, unix_seconds: i64, correlation_id: &str) -> String {
    let pick = |salt: u64, n: usize| (mix(i, salt) % n as u64) as usize;
    let tenant = TENANTS[pick(1, TENANTS.len())];
    let cap = CAPS[pick(2, CAPS.len())];
    let env = ENVS[pick(3, ENVS.len())];
    let label = LABELS[pick(4, LABELS.len())];
    let qos = QOS[pick(5, QOS.len())];
    let denied = pick(6, 5) == 0;
    let dry_run = pick(7, 10) == 0;
    let worker = format!("wrk.{}.w{}", &cap[4..], pick(8, 3));
    let rule = format!("rr_{}_{:03}", cap.replace('.', "_"), pick(9, 4));
    let ts = chrono::DateTime::from_timestamp(unix_seconds, (mix(i, 10) % 1_000_000) as u32 * 1000)
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%S%.6f+00:00")
        .to_string();
    let decision_id = uuid::Uuid::from_u64_pair(mix(i, 11), mix(i, 12)).to_string();
    let deny = denied.then(|| {
        let code = DENY_CODES[pick(13, DENY_CODES.len())];
        json!({"code": code, "message": format!("{code}: request for {cap} by {tenant} was refused")})
    });
    let telemetry: Vec<_> = [
        "evt.os.task.routed",
        "evt.os.worker.selected",
        "evt.gov.policy.checked",
    ]
    .iter()
    .take(if denied { 1 } else { 3 })
    .map(|event| {
        json!({"event_id": event, "timestamp": ts, "correlation_id": correlation_id,
                   "tenant_id": tenant, "capability_id": cap, "qos_class": qos,
                   "policy_version": "policy.v1", "dry_run": dry_run})
    })
    .collect();
    json!({
        "decision_id": decision_id,
        "timestamp": ts,
        "correlation_id": correlation_id,
        "tenant_id": tenant,
        "capability_id": cap,
        "matched_rule_id": if denied { "NO_MATCH".to_string() } else { rule },
        "env": env,
        "data_label": label,
        "tenant_risk": "medium",
        "qos_class": qos,
        "denied": denied,
        "deny_reason_if_denied": deny,
        "selected_worker_species_id": if denied { None } else { Some(&worker) },
        "candidate_workers_ranked": [
            {"worker_species_id": worker, "score_hint": 1.0, "requires_controls_minimum": null, "skip_reason": if denied { Some("unavailable") } else { None }}
        ],
        "required_controls_effective": ["ctrl.obs.audit-log-append-only", "ctrl.supply-chain.sbom"],
        "recommended_profiles_effective": if denied { json!([]) } else { json!([{"profile_id": "prof.default", "why": "baseline"}]) },
        "escalation_effective": {"policy_gate": false, "msavx_step_up": false, "human_required_default": false, "human_required_if": [], "rationale": null},
        "preconditions_checked": {"must_have_correlation_id": true, "must_attach_policy_version": true, "must_record_artifact_hash_if_executes": true, "deny_if_missing_required_controls": true, "deny_if_unsigned_artifact_in_prod": false, "deny_if_no_attestation_in_prod": false},
        "artifact_hash": if denied { None } else { Some(format!("{:016x}{:016x}{:016x}{:016x}", mix(i, 14), mix(i, 15), mix(i, 16), mix(i, 17))) },
        "worker_attestation_checked": false,
        "worker_attestation_valid": null,
        "dry_run": dry_run,
        "telemetry_envelopes": telemetry,
    })
    .to_string()
}

/// The `decision_id` of a decision's JSON.
pub fn id_of(json: &str) -> String {
    serde_json::from_str::<serde_json::Value>(json).unwrap()["decision_id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The `decision_id` of [`decision`] `i`.
pub fn decision_id(i: u64) -> String {
    id_of(&decision(i))
}

/// [`decision`] `i` is at 2026-01-01T00:00:00Z + `i` seconds: that second.
pub fn second(i: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(1_767_225_600 + i, 0).unwrap()
}

/// A ledger at `dir/l.db` with decisions 0..n, submitted all at once and then awaited, so the
/// writer groups them into a few transactions.
pub fn ledger_with(dir: &tempfile::TempDir, n: u64) -> ledger::Ledger {
    let ledger = ledger::Ledger::open(dir.path().join("l.db")).unwrap();
    let pending: Vec<_> = (0..n)
        .map(|i| ledger.submit(decision(i)).unwrap())
        .collect();
    for p in pending {
        p.blocking_recv().unwrap().unwrap();
    }
    ledger
}

/// A ledger file `ledger.db` in a new temp dir with decisions 0..n, appended one at a time;
/// still open.
pub fn appended(n: u64) -> (tempfile::TempDir, std::path::PathBuf, ledger::Ledger) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.db");
    let ledger = ledger::Ledger::open(&path).unwrap();
    for i in 0..n {
        ledger.append_blocking(decision(i)).unwrap();
    }
    (dir, path, ledger)
}

/// Prunes the ledger file at `path` of the decisions before [`second`] `i`, then verifies what
/// is left, which must be intact; the file is closed again. What was pruned, and the report.
pub fn prune_intact(path: &std::path::Path, i: i64) -> (ledger::PruneReport, ledger::VerifyReport) {
    use ledger::LedgerBackend;
    let backend = ledger::SqliteBackend::open(path, ledger::OpenOptions::default()).unwrap();
    let pruned = backend.prune_before(second(i)).unwrap();
    let report = backend.verify(&mut |_| {}).unwrap();
    assert!(report.is_intact(), "{:?}", report.finding);
    (pruned, report)
}

/// SQL that swaps the rows at `a` and `b` of a chain's `table`, as an attacker reordering it.
pub fn swap_seqs(table: &str, a: i64, b: i64) -> String {
    format!(
        "UPDATE {table} SET seq = -1 WHERE seq = {a};
         UPDATE {table} SET seq = {a} WHERE seq = {b};
         UPDATE {table} SET seq = {b} WHERE seq = -1;"
    )
}

/// What `verify` finds when the chain's head row says `head_seq` and the last record is
/// `last_seq`.
pub fn head_mismatch(head_seq: i64, last_seq: i64) -> ledger::Problem {
    ledger::Problem::HeadMismatch { head_seq, last_seq }
}

/// The documented lookup key of an id (docs/ledger.md, column `decision_key`): the first 8
/// bytes of its SHA-256, big-endian. What a forger who read the file format would compute.
pub fn key_of(id: &str) -> i64 {
    use sha2::{Digest, Sha256};
    i64::from_be_bytes(Sha256::digest(id.as_bytes())[..8].try_into().unwrap())
}

/// User + system CPU time from a Linux `stat` file (`/proc/self/stat` for the whole process,
/// `/proc/thread-self/stat` for the calling thread), at the kernel's 10 ms tick resolution.
pub fn cpu_time(stat_path: &str) -> std::time::Duration {
    let stat = std::fs::read_to_string(stat_path).unwrap_or_default();
    // Fields after the ")" that ends the command name; utime and stime are fields 14 and 15.
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i)?.parse::<u64>().ok())
        .sum();
    std::time::Duration::from_millis(ticks * 10) // USER_HZ = 100 on Linux
}
