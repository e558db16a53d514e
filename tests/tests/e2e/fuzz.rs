//! Mutation fuzzing of what comes from outside: getWorkOrders bodies and camera files. Each case must end
//! in a success or a typed error, never a panic; a failed import leaves the cache exactly as it was; the
//! database passes `integrity_check` at the end.
//!
//! A few hundred cases run in every CI run. A longer soak: `FIELDSYNC_FUZZ_CASES=20000 cargo nextest run -p
//! fieldsync-tests --test e2e fuzz::` (responses; images get a quarter of that). A failure prints its seed;
//! `FIELDSYNC_FUZZ_SEED=N` replays it.

use std::io::Cursor;

use fieldsync_core::model::{ImportKind, NewIntegration, ProjectQuery, ProjectSort};
use fieldsync_core::photo::EvidenceType;
use fieldsync_core::photo::files::PhotoFiles;
use fieldsync_core::photo::process::ProcessSettings;
use fieldsync_core::store::{AddPhoto, ImportOptions, Store};
use fieldsync_tests::world::{fixture_photo, project};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const CODE: &str = "ACME";

fn cases(default: usize) -> usize {
    std::env::var("FIELDSYNC_FUZZ_CASES")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

fn seed() -> u64 {
    std::env::var("FIELDSYNC_FUZZ_SEED")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or_else(rand::random)
}

fn store(dir: &std::path::Path) -> Store {
    let store = Store::open(dir.join("fuzz.db")).unwrap();
    store
        .create_integration(NewIntegration::new(CODE, "http://127.0.0.1:9/api", "vendor1"))
        .unwrap();
    store
}

fn base_response(orders: u64) -> Vec<u8> {
    let mut body = Vec::new();
    fieldsync_tests::write_response(&mut body, 0..orders, 0..0).unwrap();
    body
}

fn full_import(store: &Store, body: &[u8]) -> fieldsync_core::Result<fieldsync_core::model::ImportReport> {
    store.import_response(
        CODE,
        Cursor::new(body),
        Some(body.len() as u64),
        &ImportOptions::new(ImportKind::FullImport),
    )
}

/// Everything a failed import must leave as it was: every project with its tasks.
fn cache_state(store: &Store) -> String {
    let query = ProjectQuery {
        sort: ProjectSort::Number,
        limit: 10_000,
        ..ProjectQuery::default()
    };
    let projects: Vec<_> = store
        .list_projects(&query)
        .unwrap()
        .into_iter()
        .map(|summary| serde_json::to_string(&store.project(&summary.id).unwrap()).unwrap())
        .collect();
    projects.join("\n")
}

fn integrity(store: &Store) {
    let connection = rusqlite::Connection::open(store.path()).unwrap();
    let verdict: String = connection
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap();
    assert_eq!(verdict, "ok");
}

/// Tokens a hostile or broken provider sends where they do not belong.
const TOKENS: &[&str] = &[
    "\"",
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "null",
    "true",
    "-1e999",
    "1e999",
    "18446744073709551616",
    "\"\\u0000\"",
    "\"\\ud800\"",
    "\"error\":\"boom\",",
    "\"workOrders\":{},",
    "\"gpsLatitude\":\"north\",",
    "\"serverTime\":-9223372036854775808,",
    "\"services\":7,",
    "\"workOrderNumber\":\"\",",
    "\"workOrderNumber\":null,",
    "\u{feff}",
    "\u{202e}",
];

fn mutate(base: &[u8], rng: &mut StdRng) -> Vec<u8> {
    let mut body = base.to_vec();
    for _ in 0..rng.random_range(1..=3) {
        if body.is_empty() {
            body.extend_from_slice(b"{}");
        }
        let at = rng.random_range(0..body.len());
        match rng.random_range(0..7) {
            0 => body[at] = rng.random(),
            1 => body.truncate(at),
            2 => {
                let end = (at + rng.random_range(1..200)).min(body.len());
                body.drain(at..end);
            }
            3 => {
                let end = (at + rng.random_range(1..400)).min(body.len());
                let copy = body[at..end].to_vec();
                body.splice(at..at, copy);
            }
            4 => {
                let token = TOKENS[rng.random_range(0..TOKENS.len())].as_bytes().to_vec();
                body.splice(at..at, token);
            }
            5 => {
                let depth = rng.random_range(100..5_000);
                let nesting: Vec<u8> = std::iter::repeat_n(b'[', depth).collect();
                body.splice(at..at, nesting);
            }
            _ => {
                // A key's value replaced by another type.
                if let Some(colon) = body[at..].iter().position(|byte| *byte == b':') {
                    let token = TOKENS[rng.random_range(0..TOKENS.len())].as_bytes().to_vec();
                    let start = at + colon + 1;
                    let end = (start + rng.random_range(0..12)).min(body.len());
                    body.splice(start..end, token);
                }
            }
        }
    }
    body
}

#[test]
fn mutated_responses_end_in_a_report_or_an_error_and_a_failed_import_changes_nothing() {
    let seed = seed();
    let mut rng = StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let base = base_response(20);
    full_import(&store, &base).unwrap();
    let mut before = cache_state(&store);
    let (mut accepted, mut refused) = (0, 0);
    for case in 0..cases(300) {
        let body = mutate(&base, &mut rng);
        match full_import(&store, &body) {
            Ok(_) => {
                accepted += 1;
                // Back towards the base for the next case (a blank never erases a value, so an accepted
                // mutation may leave some: the next case compares with the cache as it is then).
                full_import(&store, &base).unwrap();
                before = cache_state(&store);
            }
            Err(_) => {
                refused += 1;
                assert_eq!(
                    cache_state(&store),
                    before,
                    "case {case} (FIELDSYNC_FUZZ_SEED={seed}): a failed import changed the cache"
                );
            }
        }
    }
    integrity(&store);
    assert!(
        refused > 0,
        "the mutations never produced a refused body: they test nothing"
    );
    eprintln!("seed {seed}: {accepted} accepted, {refused} refused");
}

#[test]
fn mutated_camera_files_are_refused_or_processed_never_a_panic() {
    let seed = seed();
    let mut rng = StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    full_import(&store, &base_response(1)).unwrap();
    let files = PhotoFiles::open(dir.path().join("photos")).unwrap();
    let settings = ProcessSettings::default();
    let base = std::fs::read(fixture_photo("gps/DSCN0010.jpg")).unwrap();
    let target = project("WO-0000000");
    let task = store.project(&target).unwrap().tasks[0].name.clone();
    let (mut stored, mut refused) = (0, 0);
    for case in 0..cases(400) / 4 {
        let mut bytes = base.clone();
        for _ in 0..rng.random_range(1..=16) {
            if bytes.len() < 2 {
                break;
            }
            let at = rng.random_range(0..bytes.len());
            match rng.random_range(0..4) {
                0 => bytes[at] = rng.random(),
                1 => bytes.truncate(at.max(2)),
                2 => {
                    let garbage: Vec<u8> = (0..rng.random_range(1..64)).map(|_| rng.random()).collect();
                    bytes.splice(at..at, garbage);
                }
                _ => {
                    let end = (at + rng.random_range(1..512)).min(bytes.len());
                    bytes.drain(at..end);
                }
            }
        }
        let path = dir.path().join(format!("case-{case}.jpg"));
        std::fs::write(&path, &bytes).unwrap();
        let request = AddPhoto {
            project: target.clone(),
            task: task.clone(),
            evidence: EvidenceType::Before,
            source: &path,
            fix: None,
            device_id: "fuzz".into(),
            device_time: fieldsync_core::model::now(),
        };
        match store.add_photo(&files, &request, &settings.limits) {
            Ok(_) => stored += 1,
            Err(_) => refused += 1,
        }
        store
            .process_pending_photos(&files, &settings)
            .unwrap_or_else(|err| {
                panic!("case {case} (FIELDSYNC_FUZZ_SEED={seed}): processing failed: {err}")
            });
        std::fs::remove_file(&path).unwrap();
    }
    for photo in store.photos(None).unwrap() {
        let state = photo.state.as_str();
        assert!(matches!(state, "pending_qa" | "queued" | "failed"), "{state}");
    }
    integrity(&store);
    eprintln!("seed {seed}: {stored} stored, {refused} refused at ingest");
}

/// A signed rendition made with a development certificate, for the verification fuzzing.
fn signed_rendition() -> (Vec<u8>, String) {
    use fieldsync_core::evidence::manifest::{LocationCertification, TimeCertification};
    use fieldsync_core::evidence::{PhotoEvidence, SoftwareSigner, embed};
    let credentials = fieldsync_core::evidence::software::create_dev_credentials("fuzz", "Fuzz").unwrap();
    let signer = SoftwareSigner::from_pem(&credentials.device_key_pem, &credentials.device_pem).unwrap();
    let original = std::fs::read(fixture_photo("gps/DSCN0010.jpg")).unwrap();
    let rendition = fieldsync_core::photo::process::process(&original, &ProcessSettings::default())
        .unwrap()
        .rendition;
    let evidence = PhotoEvidence {
        photo_uuid: "00000000-0000-4000-8000-000000000000".into(),
        integration_code: CODE.into(),
        work_order_number: "WO-1".into(),
        task: "Lawn Cut".into(),
        evidence_type: "before".into(),
        file_name: "DSCN0010.jpg".into(),
        original_sha256: "00".repeat(32),
        device_id: "fuzz".into(),
        camera_model: None,
        capture_time: Some(1_767_225_600),
        gps: Some((43.46, 11.88)),
        gps_accuracy_m: Some(5.0),
        checkin_distance_m: None,
        location: LocationCertification {
            position: None,
            position_source: None,
            property: None,
            radius_m: 200.0,
            distance_m: None,
            certified: false,
        },
        time: TimeCertification {
            capture_time: None,
            signed_at: "2026-01-01T00:00:00Z".into(),
            window_s: 43_200,
            certified_at_signing: false,
        },
    };
    (embed(&rendition, &evidence, &signer).unwrap(), credentials.ca_pem)
}

/// The byte range of the APP11 segments (the manifest) of a JPEG.
fn manifest_range(jpeg: &[u8]) -> std::ops::Range<usize> {
    let (mut start, mut end, mut at) = (None, 0, 2);
    while at + 4 <= jpeg.len() && jpeg[at] == 0xFF && jpeg[at + 1] != 0xDA {
        let length = usize::from(u16::from_be_bytes([jpeg[at + 2], jpeg[at + 3]]));
        if jpeg[at + 1] == 0xEB {
            start.get_or_insert(at);
            end = at + 2 + length;
        }
        at += 2 + length;
    }
    start.unwrap_or(2)..end.max(2)
}

/// Mutations aimed at the manifest (corrupt JUMBF boxes, CBOR, certificates, signatures), a second
/// manifest, an enormous APP11 run, and non-JPEGs: verification ends in a typed outcome, never a panic, and
/// within a bounded time.
#[test]
fn mutated_manifests_verify_to_a_typed_outcome_never_a_panic() {
    use fieldsync_core::evidence::{Outcome, verify};
    let seed = seed();
    let mut rng = StdRng::seed_from_u64(seed);
    let (signed, anchors) = signed_rendition();
    assert_eq!(
        verify(&signed, Some(&anchors)).outcome,
        Outcome::Valid { trusted: true }
    );
    let range = manifest_range(&signed);
    assert!(range.len() > 1000, "{range:?}");
    let mut outcomes = std::collections::BTreeMap::<&str, usize>::new();
    let started = std::time::Instant::now();
    for _ in 0..cases(400) / 4 {
        let mut bytes = signed.clone();
        match rng.random_range(0..5) {
            // Bytes inside the manifest.
            0 | 1 => {
                for _ in 0..rng.random_range(1..=8) {
                    let at = rng.random_range(range.clone());
                    bytes[at] = rng.random();
                }
            }
            // A block of the manifest removed or duplicated.
            2 => {
                let at = rng.random_range(range.clone());
                let end = (at + rng.random_range(1..256)).min(range.end);
                if rng.random_bool(0.5) {
                    bytes.drain(at..end);
                } else {
                    let copy = bytes[at..end].to_vec();
                    bytes.splice(at..at, copy);
                }
            }
            // The whole manifest twice (two manifest stores).
            3 => {
                let copy = bytes[range.clone()].to_vec();
                bytes.splice(range.end..range.end, copy);
            }
            // Truncated anywhere.
            _ => bytes.truncate(rng.random_range(0..bytes.len())),
        }
        let one = std::time::Instant::now();
        let verification = verify(&bytes, Some(&anchors));
        assert!(
            one.elapsed().as_secs() < 5,
            "seed {seed}: one verification took {:?}",
            one.elapsed()
        );
        *outcomes.entry(verification.outcome.word()).or_default() += 1;
    }
    println!("seed {seed}: {outcomes:?} in {:?}", started.elapsed());
    // Not JPEGs, an empty file, and a JPEG whose APP11 run declares megabytes of certificates.
    for bytes in [
        Vec::new(),
        b"%PDF-1.7\n".to_vec(),
        vec![0xFF, 0xD8],
        b"\x89PNG\r\n\x1a\n".to_vec(),
    ] {
        assert!(matches!(
            verify(&bytes, Some(&anchors)).outcome,
            Outcome::NotSupported { .. } | Outcome::Unsigned | Outcome::Tampered { .. }
        ));
    }
    let mut enormous = signed[..range.start].to_vec();
    for _ in 0..200 {
        enormous.extend_from_slice(&[0xFF, 0xEB, 0xFF, 0xFF]);
        enormous.extend(std::iter::repeat_n(0x30, 0xFFFD));
    }
    enormous.extend_from_slice(&signed[range.end..]);
    let one = std::time::Instant::now();
    let verification = verify(&enormous, Some(&anchors));
    assert!(
        !matches!(verification.outcome, Outcome::Valid { .. }),
        "{verification:?}"
    );
    assert!(one.elapsed().as_secs() < 5, "{:?}", one.elapsed());
}
