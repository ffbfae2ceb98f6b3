//! Package hashing throughput on a ~1 GB tree of mixed file sizes, compared in the same run
//! with `sha256sum` over the same files (page cache warm for both), plus the cost of a
//! route-time live-hash lookup when the package has not changed.
//!
//! The tree is generated once under `$ATTEST_BENCH_DIR` (default `/tmp/proctor-attest-bench`),
//! never in the repository. Run: `cargo bench -p attest --bench hash`.

use attest::{package_hash_with, HashCache, HashOptions, LiveSource};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// (count, size in bytes): a few big artifacts, some medium files, many small sources.
const LAYOUT: [(usize, usize); 5] = [
    (4, 128 << 20),
    (40, 8 << 20),
    (600, 256 << 10),
    (4000, 16 << 10),
    (16000, 2 << 10),
];

fn bench_dir() -> PathBuf {
    std::env::var_os("ATTEST_BENCH_DIR")
        .map_or_else(|| PathBuf::from("/tmp/proctor-attest-bench"), PathBuf::from)
}

/// Creates the tree once (a marker file records completion) and returns its root and size.
fn ensure_tree() -> (PathBuf, u64) {
    let root = bench_dir().join("pkg");
    let marker = bench_dir().join("complete");
    let total: u64 = LAYOUT.iter().map(|&(n, size)| (n * size) as u64).sum();
    if marker.exists() {
        return (root, total);
    }
    let _ = std::fs::remove_dir_all(&root);
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut chunk = vec![0u8; 1 << 20];
    for (class, &(count, size)) in LAYOUT.iter().enumerate() {
        for i in 0..count {
            let dir = root.join(format!("c{class}/d{}", i % 50));
            std::fs::create_dir_all(&dir).unwrap();
            let mut file = std::fs::File::create(dir.join(format!("f{i}.bin"))).unwrap();
            let mut left = size;
            while left > 0 {
                let n = left.min(chunk.len());
                for word in chunk[..n].chunks_mut(8) {
                    // xorshift64: incompressible, deterministic content.
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    word.copy_from_slice(&state.to_le_bytes()[..word.len()]);
                }
                file.write_all(&chunk[..n]).unwrap();
                left -= n;
            }
        }
    }
    std::fs::write(&marker, b"").unwrap();
    (root, total)
}

fn file_list(root: &Path) -> PathBuf {
    let list = bench_dir().join("files.nul");
    let files = attest::walk::list_package(root).unwrap();
    let mut bytes = Vec::new();
    for f in files {
        bytes.extend_from_slice(root.join(&f.rel).as_os_str().as_encoded_bytes());
        bytes.push(0);
    }
    std::fs::write(&list, bytes).unwrap();
    list
}

fn hashing(c: &mut Criterion) {
    let (root, total) = ensure_tree();
    let list = file_list(&root);
    let mut group = c.benchmark_group("package_hash_1GB");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20))
        .throughput(Throughput::Bytes(total));
    for threads in [1, 2] {
        group.bench_function(format!("proctor_threads_{threads}"), |b| {
            b.iter(|| {
                package_hash_with(
                    &root,
                    HashOptions {
                        threads,
                        ..Default::default()
                    },
                    None,
                )
                .unwrap()
            })
        });
    }
    group.bench_function("sha256sum_same_files", |b| {
        b.iter(|| {
            let status = Command::new("sh")
                .arg("-c")
                .arg(format!(
                    "xargs -0 sha256sum < '{}' > /dev/null",
                    list.display()
                ))
                .status()
                .unwrap();
            assert!(status.success());
        })
    });
    group.finish();
}

fn live_cache_hit(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..200 {
        let sub = dir.path().join(format!("m{}", i % 10));
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(sub.join(format!("f{i}.py")), vec![b'x'; 4096]).unwrap();
    }
    let cache = HashCache::default();
    let source = LiveSource::PackageDir(dir.path().to_path_buf());
    cache.current_hash(&source).unwrap();
    c.bench_function("live_hash_cache_hit_200_files", |b| {
        b.iter(|| cache.current_hash(&source).unwrap())
    });
}

criterion_group!(benches, hashing, live_cache_hit);
criterion_main!(benches);
