//! Benchmark: what content credentials and reuse detection add to a photo.
//!
//! `cargo bench -p fieldsync-tests --bench evidence` (`FIELDSYNC_BENCH_EVIDENCE_RUNS=N` runs per photo,
//! default 15; photos from `FIELDSYNC_PHOTO_FIXTURES`, else the repository's `fixtures/photos`).
//!
//! - signing and embedding (`evidence::embed` with the software signer) on each phone photo's rendition,
//!   against the pipeline's own time (`photo::process`) on the same photo in the same run; target <= 15 ms;
//! - verifying one signed rendition (`evidence::verify` with the trust anchor); target <= 20 ms;
//! - the perceptual hash of a thumbnail;
//! - a near-duplicate look-up against 100,000 stored hashes (`ReuseIndex::near`), p99 over 2,000 look-ups;
//!   target <= 2 ms.
//!
//! Medians of wall time on one thread. The software signer stands for a hardware key; a StrongBox or Secure
//! Enclave signature costs tens of milliseconds more on a phone, measured there, not here.

#[path = "support/table.rs"]
mod table;

use std::time::{Duration, Instant};

use anyhow::Result;
use fieldsync_core::evidence::manifest::{LocationCertification, TimeCertification};
use fieldsync_core::evidence::phash::{MATCH_DISTANCE, ReuseIndex, perceptual_hash};
use fieldsync_core::evidence::software::create_dev_credentials;
use fieldsync_core::evidence::{Outcome, PhotoEvidence, SoftwareSigner, embed, verify};
use fieldsync_core::photo::process::{ProcessSettings, process};

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn evidence(uuid: &str) -> PhotoEvidence {
    PhotoEvidence {
        photo_uuid: uuid.into(),
        integration_code: "ACME".into(),
        work_order_number: "WO-1".into(),
        task: "Lawn Cut".into(),
        evidence_type: "before".into(),
        file_name: "IMG_0001.jpg".into(),
        original_sha256: "ab".repeat(32),
        device_id: "bench-phone".into(),
        camera_model: Some("Nokia 8.3 5G".into()),
        capture_time: Some(1_767_225_600),
        gps: Some((39.7817, -89.6501)),
        gps_accuracy_m: Some(6.0),
        checkin_distance_m: Some(11.2),
        location: LocationCertification {
            position: Some((39.7817, -89.6501).into()),
            position_source: Some("device_fix"),
            property: Some((39.7818, -89.6501).into()),
            radius_m: 200.0,
            distance_m: Some(11.1),
            certified: true,
        },
        time: TimeCertification {
            capture_time: Some("2026-01-01T00:00:00Z".into()),
            signed_at: "2026-01-01T00:01:00Z".into(),
            window_s: 43_200,
            certified_at_signing: true,
        },
    }
}

fn main() -> Result<()> {
    let runs: usize = std::env::var("FIELDSYNC_BENCH_EVIDENCE_RUNS")
        .ok()
        .and_then(|runs| runs.parse().ok())
        .unwrap_or(15);
    let credentials = create_dev_credentials("bench-phone", "Bench")?;
    let signer = SoftwareSigner::from_pem(&credentials.device_key_pem, &credentials.device_pem)?;
    let dir = fieldsync_tests::photos::photo_fixtures()?;
    let settings = ProcessSettings::default();
    for file in fieldsync_tests::photos::phone_jpegs(&dir)? {
        let name = file
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let original = std::fs::read(&file)?;
        let mut pipeline = Vec::new();
        let mut signing = Vec::new();
        let mut verifying = Vec::new();
        let mut hashing = Vec::new();
        let mut size = (0, 0);
        for run in 0..runs {
            let started = Instant::now();
            let processed = process(&original, &settings)?;
            pipeline.push(started.elapsed());
            let started = Instant::now();
            let signed = embed(&processed.rendition, &evidence(&format!("bench-{run}")), &signer)?;
            signing.push(started.elapsed());
            size = (processed.rendition.len(), signed.len());
            let started = Instant::now();
            let verification = verify(&signed, Some(&credentials.ca_pem));
            verifying.push(started.elapsed());
            anyhow::ensure!(
                verification.outcome == Outcome::Valid { trusted: true },
                "{name}: {verification:?}"
            );
            let started = Instant::now();
            anyhow::ensure!(perceptual_hash(&processed.thumbnail).is_some());
            hashing.push(started.elapsed());
        }
        let (pipeline, signing, verifying, hashing) = (
            median(pipeline),
            median(signing),
            median(verifying),
            median(hashing),
        );
        println!(
            "{name}: pipeline {:.1} ms, sign+embed {:.2} ms (+{} bytes on {}), verify {:.2} ms, hash {:.2} ms",
            ms(pipeline),
            ms(signing),
            size.1 - size.0,
            size.0,
            ms(verifying),
            ms(hashing)
        );
        table::row(
            &format!("evidence: sign+embed a rendition ({name})"),
            &format!("{:.2} ms", ms(signing)),
            &format!("pipeline {:.1} ms", ms(pipeline)),
            Some(signing.as_secs_f64() / pipeline.as_secs_f64()),
            "<= 15 ms",
            Some(ms(signing) <= 15.0),
        );
        table::row(
            &format!("evidence: verify one photo ({name})"),
            &format!("{:.2} ms", ms(verifying)),
            &format!("pipeline {:.1} ms", ms(pipeline)),
            Some(verifying.as_secs_f64() / pipeline.as_secs_f64()),
            "<= 20 ms",
            Some(ms(verifying) <= 20.0),
        );
        table::row(
            &format!("evidence: perceptual hash of the thumbnail ({name})"),
            &format!("{:.2} ms", ms(hashing)),
            &format!("pipeline {:.1} ms", ms(pipeline)),
            Some(hashing.as_secs_f64() / pipeline.as_secs_f64()),
            "-",
            None,
        );
    }

    // 100,000 random hashes; look-ups of hashes near some of them and of unrelated ones.
    let mut index = ReuseIndex::default();
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let stored: Vec<u64> = (0..100_000).map(|_| next()).collect();
    for (row, hash) in stored.iter().enumerate() {
        index.insert(row as i64 + 1, *hash);
    }
    let mut times = Vec::with_capacity(2_000);
    let mut found = 0;
    for probe in 0..2_000 {
        let hash = if probe % 2 == 0 {
            stored[(next() % 100_000) as usize] ^ (1 << (probe % 64)) ^ (1 << ((probe * 7) % 64))
        } else {
            next()
        };
        let started = Instant::now();
        found += index.near(hash, MATCH_DISTANCE, 17).len();
        times.push(started.elapsed());
    }
    times.sort();
    let p50 = times[times.len() / 2];
    let p99 = times[times.len() * 99 / 100];
    println!(
        "reuse look-up over {} hashes: p50 {:.3} ms, p99 {:.3} ms ({found} matches in 2,000 look-ups)",
        index.len(),
        ms(p50),
        ms(p99)
    );
    table::row(
        "evidence: reuse look-up, 100,000 stored hashes (p99)",
        &format!("{:.3} ms", ms(p99)),
        &format!("p50 {:.3} ms", ms(p50)),
        None,
        "<= 2 ms",
        Some(ms(p99) <= 2.0),
    );
    Ok(())
}
