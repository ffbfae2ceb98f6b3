//! What anchoring costs: signing the receipts of one group-commit batch (one signature over
//! the batch's Merkle root, then each receipt's inclusion proof; on the routing tasks, per
//! decision), verifying one receipt (`proctor receipt verify`), and writing one signed
//! checkpoint (about once a second).
//!
//! `cargo bench -p hall --bench anchor`

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use hall::anchor::Anchor;
use ledger::{Batch, BatchRecord, Receipt};

/// A fresh batch of `size` records from `first_seq`: what the ledger hands the receipts of one
/// group commit (nothing computed yet).
fn batch(first_seq: i64, size: i64) -> Arc<Batch> {
    let records = (first_seq..first_seq + size)
        .map(|seq| BatchRecord {
            seq,
            hash: [seq as u8; 32],
            decision_id: format!("0b7e3f0c-6f55-4c1e-9d0a-{seq:012}"),
        })
        .collect();
    Arc::new(Batch::new(records).expect("consecutive seqs"))
}

/// Sign every receipt of `batch`, as its callers' routing tasks do.
fn sign_all(anchor: &Anchor, batch: &Arc<Batch>) -> Vec<hall::ReceiptSignature> {
    batch
        .records()
        .iter()
        .map(|r| {
            let receipt = Receipt {
                seq: r.seq,
                hash: hex::encode(r.hash),
                batch: Some(batch.clone()),
            };
            anchor.sign_receipt(&receipt, &r.decision_id)
        })
        .collect()
}

fn anchor(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let (config, _) = hall::Config::load_or_init(dir.path()).unwrap();
    let (anchor, _) = Anchor::open(&config).unwrap();
    let mut seq = 1;
    let mut group = c.benchmark_group("anchor");
    // Behind HTTP a group commit holds tens of records; bulk appends up to 16,384. Per receipt:
    // the batch's one signature and tree shared out, plus the receipt's own proof.
    for size in [1, 16, 64, 1024] {
        group.throughput(Throughput::Elements(size as u64));
        group.bench_with_input(BenchmarkId::new("sign_batch", size), &size, |b, &size| {
            b.iter_batched(
                || {
                    seq += size;
                    batch(seq, size)
                },
                |batch| sign_all(&anchor, &batch),
                criterion::BatchSize::SmallInput,
            )
        });
    }
    group.throughput(Throughput::Elements(1));
    let batch = batch(1, 64);
    let signature = sign_all(&anchor, &batch).swap_remove(37);
    let record = &batch.records()[37];
    let receipt = hall::EvidenceReceipt {
        decision_id: record.decision_id.clone(),
        artifact_hash: None,
        ledger_seq: record.seq,
        ledger_hash: hex::encode(record.hash),
        recorded_at: String::new(),
        signature: Some(signature),
    };
    group.bench_function("verify_receipt_in_batch_of_64", |b| {
        b.iter(|| receipt.verify_signature(anchor.public()).unwrap())
    });
    group.bench_function("write_checkpoint", |b| {
        b.iter(|| {
            seq += 1;
            sign_all(&anchor, &self::batch(seq, 1));
            anchor.checkpoint().unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, anchor);
criterion_main!(benches);
