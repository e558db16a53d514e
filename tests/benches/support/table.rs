//! The line every bench prints for the table in docs/BENCHMARKS.md: `scripts/bench-table.sh` collects the
//! lines that start with `TABLE|` and writes them between the markers there.

/// Prints one row: what was measured, its floor measured in the same run, the ratio and the target.
pub fn row(
    scenario: &str,
    measured: &str,
    floor: &str,
    ratio: Option<f64>,
    target: &str,
    pass: Option<bool>,
) {
    let ratio = ratio.map_or_else(|| "-".to_owned(), |ratio| format!("{ratio:.2}x"));
    let verdict = match pass {
        Some(true) => "PASS",
        Some(false) => "MISS",
        None => "-",
    };
    println!("TABLE|{scenario}|{measured}|{floor}|{ratio}|{target}|{verdict}");
}

/// The median (upper median for an even count).
#[allow(dead_code)]
pub fn median(times: &[std::time::Duration]) -> std::time::Duration {
    let mut sorted = times.to_vec();
    sorted.sort_unstable();
    sorted[sorted.len() / 2]
}
