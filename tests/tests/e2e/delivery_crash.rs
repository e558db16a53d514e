//! Delivery under SIGKILL: a child process delivering queued check-ins is killed at random moments (50+
//! runs) while the emulator drops responses after storing items. In the end the provider holds exactly one
//! copy of each check-in and the device has lost none.

use std::process::Command;
use std::time::{Duration, Instant};

use fieldsync_core::Store;
use fieldsync_core::checkin::LocationFix;
use fieldsync_core::store::CheckInRequest;
use fieldsync_provider::{Endpoint, Fault, FaultKind};
use fieldsync_tests::world::{CODE, Device, order_with, project, provider_with_orders};
use rand::Rng;
use serde_json::json;

const CHECK_INS: usize = 24;
const KILLS: usize = 50;

fn child(db: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_deliver_child"));
    command
        .args([db.to_str().unwrap(), CODE, "pw1"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    command
}

#[test]
fn killed_deliveries_lose_nothing_and_duplicate_nothing_at_the_provider() {
    let provider =
        provider_with_orders(["1", "2", "3"].map(|number| order_with(number, json!({"address1": "1 Elm"}))));
    let device = Device::new(&provider.base_url());
    device.full_import();
    let mut uuids = Vec::new();
    {
        let store = &device.store;
        let now = fieldsync_core::model::now();
        for index in 0..CHECK_INS {
            let number = ["1", "2", "3"][index % 3];
            let request = CheckInRequest {
                project: project(number),
                fix: LocationFix {
                    latitude: 39.7817,
                    longitude: -89.6501,
                    accuracy_m: 5.0,
                    altitude_m: None,
                    fix_time_ms: (now - 60 + index as i64) * 1000,
                    is_mock: false,
                },
                badge: None,
                user: None,
                device_time: now,
                device_id: "crash-device".into(),
            };
            uuids.push(store.check_in(&request).unwrap().uuid);
        }
    }
    let (_dir, db) = device.close();

    // How long an undisturbed delivery takes with the latency we inject.
    let latency = Fault::new(Endpoint::UploadPictures, FaultKind::Latency { ms: 15 });
    provider.admin().set_fault(latency).unwrap();
    let seed: u64 = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or_else(rand::random);
    println!("CRASH_SEED={seed}");
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(seed);
    let window = Duration::from_millis(15 * CHECK_INS as u64 + 300);

    for _ in 0..KILLS {
        // Each run: the provider stores the next item but drops the connection before answering.
        provider
            .admin()
            .set_fault(Fault::new(Endpoint::UploadPictures, FaultKind::DropAfter).times(1))
            .unwrap();
        let mut running = child(&db).spawn().unwrap();
        std::thread::sleep(window.mul_f64(rng.random::<f64>()));
        let _ = running.kill();
        running.wait().unwrap();
    }

    provider.admin().clear_faults();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        assert!(child(&db).status().unwrap().success());
        let store = Store::open(&db).unwrap();
        if store.outbox_entries(false).unwrap().is_empty() || Instant::now() > deadline {
            break;
        }
    }

    let received = provider.admin().received_checkins().unwrap();
    let mut received_uuids: Vec<String> = received.iter().map(|item| item.uuid.clone()).collect();
    received_uuids.sort();
    let mut expected = uuids.clone();
    expected.sort();
    assert_eq!(
        received_uuids, expected,
        "the provider holds exactly one copy of each check-in"
    );
    let redelivered: u32 = received.iter().map(|item| item.deliveries - 1).sum();
    println!(
        "{} check-ins, {KILLS} kills, {redelivered} deduplicated re-sends",
        uuids.len()
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
    assert_eq!(done as usize, CHECK_INS);
}
