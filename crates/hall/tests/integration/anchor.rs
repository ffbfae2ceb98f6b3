//! The hall's key, signed receipts and signed checkpoints (anchor/), through a real hall on
//! 127.0.0.1 and real files; what `Hall::open` (which the desktop uses too) refuses.

use crate::common;

use common::{route_input, wait_for, TestHall};
use hall::anchor::{Checkpoint, HallPublicKey};
use std::path::Path;

fn public_key(hall: &TestHall) -> HallPublicKey {
    let key = hall.get("/v1/hall/key");
    assert_eq!(key.status, 200, "{}", key.body);
    HallPublicKey::parse_verifier_key(key.body["verifier_key"].as_str().unwrap()).unwrap()
}

fn checkpoint_in(dir: &Path, key: &HallPublicKey) -> Option<Checkpoint> {
    let text = std::fs::read_to_string(dir.join("checkpoint")).ok()?;
    Some(Checkpoint::open(&text, key).expect("a checkpoint signed by the hall"))
}

fn open_err(data_dir: &Path) -> String {
    let (config, _) = hall::Config::load_or_init(data_dir).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    match rt.block_on(hall::Hall::open(config)) {
        Ok(_) => panic!("the hall started"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn receipts_are_signed_by_the_private_key_the_api_publishes() {
    let hall = TestHall::start();
    let key = public_key(&hall);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let pem = hall::anchor::HallKey::path(&hall.data());
        let mode = std::fs::metadata(&pem).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{}", pem.display());
    }
    let answer = hall.post("/v1/route", &route_input("signed-1")).body;
    let receipt: hall::EvidenceReceipt =
        serde_json::from_value(answer["evidence_receipt"].clone()).unwrap();
    let signature = receipt
        .signature
        .as_ref()
        .expect("a hall receipt is signed");
    assert_eq!(signature.format, hall::RECEIPT_FORMAT);
    assert_eq!(signature.key_id, key.key_id);
    receipt.verify_signature(&key).unwrap();

    // A lone request is a batch of one: the root is its own leaf, the proof empty.
    let batch = signature
        .batch
        .as_ref()
        .expect("a v2 signature names its batch");
    assert_eq!((batch.first_seq, batch.size), (receipt.ledger_seq, 1));
    assert_eq!(signature.inclusion_proof.as_deref(), Some(&[][..]));

    let mut forged = receipt.clone();
    forged.ledger_seq += 1;
    let err = forged.verify_signature(&key).unwrap_err();
    assert!(err.contains("is not in the signed batch"), "{err}");
}

#[test]
fn concurrent_routes_share_one_batch_signature_and_each_proves_its_place() {
    let hall = TestHall::start();
    let key = public_key(&hall);
    // Concurrent callers land in a few group commits; keep going until one held two or more.
    let mut receipts: Vec<hall::EvidenceReceipt> = Vec::new();
    for round in 0..5 {
        std::thread::scope(|s| {
            let routes: Vec<_> = (0..32)
                .map(|i| {
                    let hall = &hall;
                    s.spawn(move || hall.post("/v1/route", &route_input(&format!("b-{round}-{i}"))))
                })
                .collect();
            for route in routes {
                let answer = route.join().unwrap();
                assert_eq!(answer.status, 200, "{}", answer.body);
                receipts
                    .push(serde_json::from_value(answer.body["evidence_receipt"].clone()).unwrap());
            }
        });
        if receipts
            .iter()
            .any(|r| r.signature.as_ref().unwrap().batch.as_ref().unwrap().size > 1)
        {
            break;
        }
    }
    let batch_of = |r: &hall::EvidenceReceipt| r.signature.clone().unwrap().batch.unwrap();
    let shared = receipts
        .iter()
        .find(|r| batch_of(r).size > 1)
        .expect("concurrent routes shared a batch");
    let mates: Vec<_> = receipts
        .iter()
        .filter(|r| batch_of(r) == batch_of(shared))
        .collect();
    assert!(mates.len() > 1);
    let value = &shared.signature.as_ref().unwrap().value;
    for r in &mates {
        assert_eq!(
            &r.signature.as_ref().unwrap().value,
            value,
            "signed once per batch"
        );
    }
    for r in &receipts {
        r.verify_signature(&key).unwrap();
    }
    // The shared signature does not stretch to a record the batch does not hold.
    let mut foreign = mates[0].clone();
    foreign.decision_id = "not-in-this-batch".into();
    let err = foreign.verify_signature(&key).unwrap_err();
    assert!(
        err.contains("the record is not in the signed batch"),
        "{err}"
    );
}

#[test]
fn checkpoints_follow_decisions_while_the_hall_runs_and_at_shutdown() {
    let mut hall = TestHall::start();
    let key = public_key(&hall);
    let dir = hall.data().join("checkpoints");
    // The first start anchors the empty ledger (its genesis).
    assert_eq!(checkpoint_in(&dir, &key).unwrap().size, 0);
    for i in 0..3 {
        hall.post("/v1/route", &route_input(&format!("cp-{i}")));
    }
    let last = hall.post("/v1/route", &route_input("cp-3")).body;
    let cp = wait_for("a checkpoint of 4 records", || {
        checkpoint_in(&dir, &key).filter(|c| c.size == 4)
    });
    assert_eq!(cp.hash, last["evidence_receipt"]["ledger_hash"]);

    hall.post("/v1/route", &route_input("cp-4"));
    hall.stop();
    assert_eq!(
        checkpoint_in(&dir, &key).unwrap().size,
        5,
        "written at shutdown"
    );
}

#[test]
fn the_mirror_holds_every_checkpoint_and_the_newest_of_both_counts() {
    let mirror = tempfile::tempdir().unwrap();
    let config = format!(
        "checkpoint_mirror = {:?}\n",
        mirror.path().display().to_string()
    );
    let mut hall =
        TestHall::start_with(|dir| std::fs::write(dir.join("config.toml"), &config).unwrap());
    let key = public_key(&hall);
    hall.post("/v1/route", &route_input("m-1"));
    hall.stop();
    let own = hall.data().join("checkpoints/checkpoint");
    let old = std::fs::read_to_string(&own).unwrap();
    assert_eq!(
        old,
        std::fs::read_to_string(mirror.path().join("checkpoint")).unwrap()
    );

    let mut hall = TestHall::restart(hall);
    for i in 0..3 {
        hall.post("/v1/route", &route_input(&format!("m-{i}")));
    }
    hall.stop();
    assert_eq!(checkpoint_in(mirror.path(), &key).unwrap().size, 4);

    // Roll the data dir's checkpoint back and cut the ledger to match it: the mirror still
    // says 4 records were acknowledged.
    std::fs::write(&own, old).unwrap();
    let ledger = hall.data().join("ledger/decisions.sqlite");
    rusqlite::Connection::open(&ledger)
        .unwrap()
        .execute_batch(
            "DELETE FROM decisions WHERE seq > 1;
             UPDATE chain_state SET head_seq = 1,
               head_hash = (SELECT hash FROM decisions WHERE seq = 1);",
        )
        .unwrap();
    let err = open_err(&hall.data());
    assert!(err.contains("records 2..=4 are missing"), "{err}");
    assert!(err.contains(&mirror.path().display().to_string()), "{err}");
}

#[test]
fn hall_open_refuses_a_missing_ledger_and_creates_nothing() {
    let mut hall = TestHall::start();
    hall.post("/v1/route", &route_input("gone-1"));
    hall.stop();
    let ledger = hall.data().join("ledger");
    std::fs::remove_dir_all(&ledger).unwrap();
    let err = open_err(&hall.data());
    assert!(err.contains("refusing to start"), "{err}");
    assert!(err.contains("is missing"), "{err}");
    assert!(err.contains("proctor ledger reset --data-dir"), "{err}");
    assert!(!ledger.join("decisions.sqlite").exists());
}

#[test]
fn a_deleted_hall_key_is_refused_not_replaced() {
    let mut hall = TestHall::start();
    hall.stop();
    std::fs::remove_file(hall::anchor::HallKey::path(&hall.data())).unwrap();
    let err = open_err(&hall.data());
    assert!(err.contains("hall key"), "{err}");
    assert!(err.contains("is missing"), "{err}");
    assert!(!hall::anchor::HallKey::path(&hall.data()).exists());
}

#[test]
fn a_mirror_that_cannot_be_written_does_not_stop_the_hall() {
    let blocker = tempfile::NamedTempFile::new().unwrap();
    let mirror = blocker.path().join("mirror"); // under a regular file: never a directory
    let config = format!("checkpoint_mirror = {:?}\n", mirror.display().to_string());
    let mut hall =
        TestHall::start_with(|dir| std::fs::write(dir.join("config.toml"), &config).unwrap());
    let key = public_key(&hall);
    assert_eq!(hall.post("/v1/route", &route_input("nm-1")).status, 200);
    hall.stop();
    let own = hall.data().join("checkpoints");
    assert_eq!(checkpoint_in(&own, &key).unwrap().size, 1);
}
