//! Scaling: the work grows linearly with the input, checked with ratios, never absolute times.
//!
//! Each test times a small and a 4x larger run of the same operation and asserts that the larger one takes
//! well under 8x as long (linear is 4x; the quadratic outbox of old took 35x for 4x the check-ins). The
//! times are the minimum of up to three runs per size, alternating sizes, so a burst of noise from other
//! processes on the machine does not fail the test. A debug build is fine: only the ratio is judged.
//! The release-build figures at full size (1,000 / 10,000 check-ins, 100,000 orders) are in the benches
//! (`scripts/bench-table.sh`, docs/BENCHMARKS.md).

use std::time::{Duration, Instant};

use fieldsync_core::Store;
use fieldsync_core::model::{ImportKind, NewIntegration};
use fieldsync_core::store::ImportOptions;
use fieldsync_tests::world::{CODE, Device, order, provider_with_orders};
use fieldsync_tests::write_response_file;

/// Growth allowed for 4x the input (linear is 4x, n log n a little more, quadratic 16x).
const MAX_RATIO_FOR_4X: f64 = 8.0;
/// Runs per size at most; the minimum is kept.
const RUNS: usize = 3;

/// Times `small` and `large` alternately, up to [`RUNS`] times each, and returns the ratio of the minima.
/// Stops early once the ratio is clearly within bounds.
fn min_ratio(
    mut small: impl FnMut() -> Duration,
    mut large: impl FnMut() -> Duration,
) -> (f64, Duration, Duration) {
    let (mut best_small, mut best_large) = (Duration::MAX, Duration::MAX);
    for run in 0..RUNS {
        best_small = best_small.min(small());
        best_large = best_large.min(large());
        let ratio = best_large.as_secs_f64() / best_small.as_secs_f64();
        if run >= 1 && ratio < MAX_RATIO_FOR_4X * 0.75 {
            break;
        }
    }
    (
        best_large.as_secs_f64() / best_small.as_secs_f64(),
        best_small,
        best_large,
    )
}

/// Queues `count` check-ins on a fresh device (20 projects) and times their delivery to the emulator.
fn deliver(count: usize) -> Duration {
    let numbers: Vec<String> = (0..20).map(|n| n.to_string()).collect();
    let provider = provider_with_orders(numbers.iter().map(|number| order(number)));
    let device = Device::new(&provider.base_url());
    device.full_import();
    let at = fieldsync_core::model::now() - 60;
    for index in 0..count {
        device.check_in(&numbers[index % numbers.len()], at).unwrap();
    }
    let started = Instant::now();
    let report = device.engine.push_outbox(CODE, true).unwrap();
    let elapsed = started.elapsed();
    assert_eq!(report.delivered as usize, count, "every check-in delivered");
    elapsed
}

#[test]
fn delivering_4x_the_check_ins_takes_well_under_8x_the_time() {
    let (ratio, small, large) = min_ratio(|| deliver(250), || deliver(1_000));
    eprintln!("delivery: 250 in {small:?}, 1,000 in {large:?}, ratio {ratio:.2}");
    assert!(
        ratio < MAX_RATIO_FOR_4X,
        "delivery grows super-linearly: 250 in {small:?}, 1,000 in {large:?} (ratio {ratio:.2})"
    );
}

/// A Full Import of the first `orders` of `response` into a new, empty cache.
fn import(dir: &std::path::Path, response: &std::path::Path, orders: u64) -> Duration {
    let path = dir.join(format!("import-{orders}.db"));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let store = Store::open(&path).unwrap();
    store
        .create_integration(NewIntegration::new("BENCH", "http://127.0.0.1:9/api", "vendor"))
        .unwrap();
    let started = Instant::now();
    let report = store
        .import_file("BENCH", response, &ImportOptions::new(ImportKind::FullImport))
        .unwrap();
    let elapsed = started.elapsed();
    assert_eq!(report.created, orders);
    elapsed
}

#[test]
fn a_full_import_of_4x_the_orders_takes_well_under_8x_the_time() {
    let dir = tempfile::tempdir().unwrap();
    let (small_file, large_file) = (dir.path().join("5k.json"), dir.path().join("20k.json"));
    write_response_file(&small_file, 0..5_000, 0..0).unwrap();
    write_response_file(&large_file, 0..20_000, 0..0).unwrap();
    let (ratio, small, large) = min_ratio(
        || import(dir.path(), &small_file, 5_000),
        || import(dir.path(), &large_file, 20_000),
    );
    eprintln!("full import: 5k in {small:?}, 20k in {large:?}, ratio {ratio:.2}");
    assert!(
        ratio < MAX_RATIO_FOR_4X,
        "the Full Import grows super-linearly: 5k in {small:?}, 20k in {large:?} (ratio {ratio:.2})"
    );
}
