// The Tauri commands of the desktop shell, one per hall API operation the UI uses (the same list as
// `OPS` in ui/src/lib/api.ts). Shared by build.rs (the app manifest, so each command needs an
// explicit permission) and lib.rs.
pub const COMMANDS: &[&str] = &[
    "route",
    "list_workers",
    "enroll_worker",
    "verify_worker",
    "list_decisions",
    "get_decision",
    "get_trace",
    "get_stats",
    "verify_ledger",
    "list_alerts",
    "ack_alert",
    "attest_hash",
    "attest_verify",
    "attest_sign",
    "get_settings",
    "put_thresholds",
];
