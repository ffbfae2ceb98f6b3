//! Crash safety: a child process appends under load from several threads and prints each
//! decision id once its receipt arrived (and, from one more thread, each linked record linked
//! to a decision it just appended, as an MCP gateway does); the parent SIGKILLs it at a random
//! moment. After reopening, every acknowledged decision and linked record must be there and
//! both chains must verify. Repeated over many rounds on the same file, so recovery itself is
//! exercised repeatedly.

use crate::common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use ledger::{
    Filter, Ledger, LedgerBackend, LinkedFilter, NewLinkedRecord, OpenOptions, PageRequest,
    SqliteBackend,
};
use rand::Rng;

const CHILD_ENV: &str = "LEDGER_CRASH_CHILD_DB";
const BASE_ENV: &str = "LEDGER_CRASH_CHILD_BASE";
const ROUNDS: u64 = 15;

/// The child's side. Does nothing unless the parent test started this binary as the child.
#[test]
fn crash_child_process() {
    let Some(path) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let base: u64 = std::env::var(BASE_ENV).unwrap().parse().unwrap();
    let ledger = Arc::new(Ledger::open(path).unwrap());
    let threads: Vec<_> = (0..4u64)
        .map(|t| {
            let ledger = Arc::clone(&ledger);
            std::thread::spawn(move || {
                for i in 0.. {
                    let json = common::decision(base + t * 1_000_000 + i);
                    let id = common::id_of(&json);
                    ledger.append_blocking(json).unwrap();
                    // Only now is it acknowledged; one write per line so lines never interleave.
                    let mut out = std::io::stdout().lock();
                    out.write_all(format!("ACK {id}\n").as_bytes()).unwrap();
                    out.flush().unwrap();
                }
            })
        })
        .collect();
    let linker = {
        let ledger = Arc::clone(&ledger);
        std::thread::spawn(move || {
            for i in 0.. {
                let json = common::decision(base + 5_000_000 + i);
                let decision_id = common::id_of(&json);
                ledger.append_blocking(json).unwrap();
                // Fixed width, so a line cut by the kill is told apart.
                let correlation_id = format!("lnk-{base:012}-{i:012}");
                ledger
                    .append_linked_blocking(NewLinkedRecord {
                        at: chrono::Utc::now(),
                        kind: "mcp_call".into(),
                        decision_id,
                        correlation_id: correlation_id.clone(),
                        server: Some("wrk.fs".into()),
                        tool: Some("read_file".into()),
                        body: serde_json::json!({"outcome": "ok", "i": i}),
                    })
                    .unwrap();
                let mut out = std::io::stdout().lock();
                out.write_all(format!("LINKED {correlation_id}\n").as_bytes())
                    .unwrap();
                out.flush().unwrap();
            }
        })
    };
    for t in threads {
        t.join().unwrap();
    }
    linker.join().unwrap();
}

#[test]
fn acknowledged_decisions_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.db");
    let mut rng = rand::thread_rng();
    let mut acked_total = 0usize;
    let mut linked_total = 0usize;
    for round in 0..ROUNDS {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                // This binary holds every ledger test file as a module: the child is named by its path.
                "crash::crash_child_process",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, &path)
            .env(BASE_ENV, (round * 10_000_000).to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut acked = Vec::new();
            let mut linked = Vec::new();
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                // A line cut by the kill has no newline and is not a full id; skip it.
                if let Some(id) = line.strip_prefix("ACK ") {
                    if id.len() == 36 {
                        acked.push(id.to_string());
                    }
                } else if let Some(id) = line.strip_prefix("LINKED ") {
                    if id.len() == 29 {
                        linked.push(id.to_string());
                    }
                }
            }
            (acked, linked)
        });
        std::thread::sleep(Duration::from_millis(rng.gen_range(150..600)));
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        let (acked, linked) = reader.join().unwrap();

        let backend = SqliteBackend::open(&path, OpenOptions::default()).unwrap();
        for id in &acked {
            assert!(
                backend.get(id).unwrap().is_some(),
                "round {round}: acknowledged decision {id} was lost"
            );
        }
        // The free-text index may have lagged when the child died; a writer catches up from
        // where it stopped, so the newest acknowledged decision is searchable again.
        if let Some(id) = acked.last() {
            while backend.catch_up(100_000).unwrap() > 0 {}
            let filter = Filter {
                text: Some(id.clone()),
                ..Filter::default()
            };
            let page = backend.page(&PageRequest::first(filter, 5)).unwrap();
            assert_eq!(
                page.records.len(),
                1,
                "round {round}: {id} is not searchable"
            );
        }
        for id in &linked {
            let filter = LinkedFilter {
                correlation_id: Some(id.clone()),
                ..LinkedFilter::default()
            };
            assert_eq!(
                backend.linked(&filter).unwrap().len(),
                1,
                "round {round}: acknowledged linked record {id} was lost"
            );
        }
        let report = backend.verify(&mut |_| {}).unwrap();
        assert!(
            report.is_intact(),
            "round {round}: {}",
            report.finding.unwrap()
        );
        acked_total += acked.len();
        linked_total += linked.len();
    }
    assert!(
        acked_total > (ROUNDS as usize) * 10,
        "the child barely ran: {acked_total} acks"
    );
    assert!(
        linked_total > ROUNDS as usize,
        "the child barely linked: {linked_total} linked records"
    );
}
