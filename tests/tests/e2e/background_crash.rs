//! Background runs under SIGKILL: a child process running the app's background sync with a deadline is
//! killed at random moments (50+ runs) while the emulator adds latency and drops responses after storing
//! items. In the end the provider holds exactly one copy of each check-in and status change, and the
//! device has lost none.

use std::process::Command;
use std::time::{Duration, Instant};

use fieldsync_core::Store;
use fieldsync_core::model::ProjectEdit;
use fieldsync_provider::{Endpoint, Fault, FaultKind};
use fieldsync_tests::world::{CODE, Device, PASSWORD, order_with, project, provider_with_orders};
use rand::Rng;
use serde_json::json;

const NUMBERS: [&str; 4] = ["1", "2", "3", "4"];
const CHECK_INS: usize = 20;
const KILLS: usize = 50;

fn child(db: &std::path::Path, budget_ms: u64) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_background_child"));
    command
        .args([db.to_str().unwrap(), CODE, PASSWORD, &budget_ms.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    command
}

#[test]
fn killed_background_runs_lose_nothing_and_duplicate_nothing_at_the_provider() {
    let provider =
        provider_with_orders(NUMBERS.map(|number| order_with(number, json!({"address1": "1 Elm"}))));
    let device = Device::new(&provider.base_url());
    device.full_import();
    let now = fieldsync_core::model::now();
    let mut uuids = Vec::new();
    for index in 0..CHECK_INS {
        let number = NUMBERS[index % NUMBERS.len()];
        uuids.push(device.check_in(number, now - 60 + index as i64).unwrap().uuid);
    }
    // A status change per project, queued after its check-ins.
    for number in NUMBERS {
        device
            .store
            .edit_project(
                &project(number),
                &ProjectEdit {
                    status: Some("In Progress".into()),
                    ..ProjectEdit::default()
                },
            )
            .unwrap();
    }
    let (_dir, db) = device.close();

    provider
        .admin()
        .set_fault(Fault::new(
            Endpoint::UploadPictures,
            FaultKind::Latency { ms: 15 },
        ))
        .unwrap();
    let seed: u64 = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or_else(rand::random);
    println!("CRASH_SEED={seed}");
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(seed);
    let window = Duration::from_millis(15 * CHECK_INS as u64 + 400);
    for round in 0..KILLS {
        // Each round: the provider stores the next item but drops the connection before answering.
        let endpoint = if round % 3 == 2 {
            Endpoint::Status
        } else {
            Endpoint::UploadPictures
        };
        provider
            .admin()
            .set_fault(Fault::new(endpoint, FaultKind::DropAfter).times(1))
            .unwrap();
        // Budgets short and long: some runs are killed mid-send, others at their own deadline.
        let budget_ms = rng.random_range(50..=2_000);
        let mut running = child(&db, budget_ms).spawn().unwrap();
        std::thread::sleep(window.mul_f64(rng.random::<f64>()));
        let _ = running.kill();
        running.wait().unwrap();
    }

    provider.admin().clear_faults();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        // Backoff from the dropped answers is honoured by background runs: a run after it is over, or the
        // entries that went, finish the queue.
        let _ = child(&db, 5_000).status().unwrap();
        let store = Store::open(&db).unwrap();
        if store.outbox_entries(false).unwrap().is_empty() || Instant::now() > deadline {
            break;
        }
        let connection = rusqlite::Connection::open(&db).unwrap();
        connection
            .execute(
                "UPDATE outbox SET next_attempt_at = 0 WHERE state = 'retry_wait'",
                [],
            )
            .unwrap();
    }

    let mut received: Vec<String> = provider
        .admin()
        .received_checkins()
        .unwrap()
        .into_iter()
        .map(|item| item.uuid)
        .collect();
    received.sort();
    let mut expected = uuids.clone();
    expected.sort();
    assert_eq!(
        received, expected,
        "the provider holds exactly one copy of each check-in"
    );
    let statuses = provider.admin().status_updates().unwrap();
    let mut numbers: Vec<String> = statuses
        .iter()
        .map(|update| update.work_order_number.clone())
        .collect();
    numbers.sort();
    assert_eq!(
        numbers,
        NUMBERS.map(String::from).to_vec(),
        "one status change per project"
    );

    let connection = rusqlite::Connection::open(&db).unwrap();
    let integrity: String = connection
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    let kept: i64 = connection
        .query_row("SELECT count(*) FROM checkins", [], |row| row.get(0))
        .unwrap();
    assert_eq!(kept as usize, CHECK_INS, "no check-in lost on the device");
    let done: i64 = connection
        .query_row("SELECT count(*) FROM outbox WHERE state = 'done'", [], |row| {
            row.get(0)
        })
        .unwrap();
    assert_eq!(done as usize, CHECK_INS + NUMBERS.len());
}
