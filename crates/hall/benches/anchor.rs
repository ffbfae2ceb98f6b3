//! What anchoring costs: signing one receipt (on the routing task, per decision), verifying one
//! (`proctor receipt verify`), and writing one signed checkpoint (about once a second).
//!
//! `cargo bench -p hall --bench anchor`

use criterion::{criterion_group, criterion_main, Criterion};
use hall::anchor::Anchor;

fn anchor(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let (config, _) = hall::Config::load_or_init(dir.path()).unwrap();
    let (anchor, _) = Anchor::open(&config).unwrap();
    let hash = "ab".repeat(32);
    let id = "0b7e3f0c-6f55-4c1e-9d0a-3c1f1b9f5f1e";
    let mut seq = 0;
    let mut group = c.benchmark_group("anchor");
    group.bench_function("sign_receipt", |b| {
        b.iter(|| {
            seq += 1;
            anchor.sign_receipt(seq, &hash, id)
        })
    });
    let signature = anchor.sign_receipt(1, &hash, id);
    let receipt = hall::EvidenceReceipt {
        decision_id: id.into(),
        artifact_hash: None,
        ledger_seq: 1,
        ledger_hash: hash.clone(),
        recorded_at: String::new(),
        signature: Some(signature),
    };
    group.bench_function("verify_receipt", |b| {
        b.iter(|| receipt.verify_signature(anchor.public()).unwrap())
    });
    group.bench_function("write_checkpoint", |b| {
        b.iter(|| {
            seq += 1;
            anchor.sign_receipt(seq, &hash, id);
            anchor.checkpoint().unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, anchor);
criterion_main!(benches);
