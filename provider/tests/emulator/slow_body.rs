//! The `slowBody` fault and the request-body accounting (`Admin::upload_traffic`, `GET /admin/traffic`):
//! a slow upload is stored intact, and a client that gives up mid-body (closing its connection, or a
//! cancelled upload task) is counted as abandoned, stops adding bytes, and leaves nothing stored.

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use fieldsync_provider::{Admin, Endpoint, Fault, FaultKind, UploadTraffic};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::*;

fn photo(len: usize) -> Vec<u8> {
    let mut bytes: Vec<u8> = (0..len).map(|i| (i * 37 % 253) as u8).collect();
    bytes[..3].copy_from_slice(&[0xFF, 0xD8, 0xFF]);
    bytes
}

/// Polls `done` every 10 ms for up to `limit`; returns whether it became true.
fn eventually(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    done()
}

fn uploads(admin: &Admin) -> UploadTraffic {
    admin.upload_traffic_for(Endpoint::UploadPictures)
}

/// A multipart `uploadPictures` request, as a client would send it: the head and the body.
fn raw_upload(addr: SocketAddr, item: &Value, file: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let boundary = "----fieldsync-test-boundary";
    let mut body = Vec::new();
    write!(
        body,
        "--{boundary}\r\nContent-Disposition: form-data; name=\"payload\"\r\n\r\n{}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"photo.jpg\"\r\n\
         Content-Type: image/jpeg\r\n\r\n",
        with_auth(item.clone())
    )
    .unwrap();
    body.extend_from_slice(file);
    write!(body, "\r\n--{boundary}--\r\n").unwrap();
    let head = format!(
        "POST /api/v2/uploadPictures HTTP/1.1\r\nHost: {addr}\r\n\
         Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    (head.into_bytes(), body)
}

/// After a client left: `in_flight` falls to 0 and `abandoned` to 1 within a second, the byte count
/// stops growing, and nothing was stored.
fn assert_abandoned(admin: &Admin, left: Instant) {
    assert!(
        eventually(Duration::from_secs(1), || {
            let now = uploads(admin);
            now.in_flight == 0 && now.abandoned == 1
        }),
        "{:?}",
        uploads(admin)
    );
    println!("abandonment seen {:?} after the client left", left.elapsed());
    let settled = uploads(admin).body_bytes_received;
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        uploads(admin).body_bytes_received,
        settled,
        "bytes still growing after the client left"
    );
    assert!(
        admin.received_items(&Default::default()).unwrap().is_empty(),
        "an abandoned upload must not be stored"
    );
}

#[test]
fn a_slow_body_is_read_at_its_pace_and_stored_intact() {
    let env = env();
    let admin = env.provider.admin().clone();
    admin.create_work_order(order("WO-1", Some(USER))).unwrap();
    // 300 KB read 64 KiB every 50 ms (5 pieces or more), after 100 ms of latency.
    admin
        .set_fault(Fault::new(Endpoint::UploadPictures, FaultKind::slow_body(65_536, 50)).times(1))
        .unwrap();
    admin
        .set_fault(Fault::new(Endpoint::UploadPictures, FaultKind::Latency { ms: 100 }).times(1))
        .unwrap();
    let bytes = photo(300_000);

    let watching = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let watcher = {
        let (admin, watching) = (admin.clone(), watching.clone());
        std::thread::spawn(move || {
            let mut seen = Vec::new();
            while watching.load(std::sync::atomic::Ordering::SeqCst) {
                seen.push(uploads(&admin));
                std::thread::sleep(Duration::from_millis(5));
            }
            seen
        })
    };
    let started = Instant::now();
    let response = env
        .upload(&picture("u-slow", "WO-1"), Some(bytes.clone()))
        .unwrap();
    let took = started.elapsed();
    watching.store(false, std::sync::atomic::Ordering::SeqCst);
    let seen = watcher.join().unwrap();
    println!("slow upload of 300 KB answered after {took:?}");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().unwrap()["status"], json!(true));
    assert!(took >= Duration::from_millis(100 + 4 * 50), "{took:?}");
    assert_eq!(
        admin.item_file("u-slow").unwrap().unwrap(),
        bytes,
        "stored intact"
    );

    // While it was read: in flight, the count growing by at most a piece at a time.
    assert!(seen.iter().any(|t| t.in_flight == 1 && t.body_bytes_received > 0));
    let mut steps: Vec<u64> = seen.iter().map(|t| t.body_bytes_received).collect();
    steps.dedup();
    assert!(steps.len() >= 4, "{steps:?}");
    assert!(steps.windows(2).all(|w| w[1] > w[0]), "{steps:?}");
    // A sample may miss a piece on a busy machine, but most steps are one piece.
    let one_piece = steps.windows(2).filter(|w| w[1] - w[0] <= 65_536).count();
    assert!(one_piece >= 3, "{steps:?}");

    let after = uploads(&admin);
    assert_eq!((after.in_flight, after.abandoned, after.requests), (0, 0, 1));
    assert!(
        (300_000..302_000).contains(&after.body_bytes_received),
        "the whole multipart body: {after:?}"
    );
    assert_eq!(admin.upload_traffic(), after, "only uploadPictures was called");
    assert!(admin.faults().is_empty(), "one-shot rules");
}

/// A raw client sends part of an upload (or all of it), waits until the server is reading it, and
/// closes its connection.
fn leave_mid_body(fault: Option<FaultKind>, send_all: bool) {
    let env = env();
    let admin = env.provider.admin().clone();
    admin.create_work_order(order("WO-1", Some(USER))).unwrap();
    if let Some(kind) = fault {
        admin
            .set_fault(Fault::new(Endpoint::UploadPictures, kind).times(1))
            .unwrap();
    }
    let bytes = photo(400_000);
    let item = picture("u-left", "WO-1");
    let (head, body) = raw_upload(env.provider.addr(), &item, &bytes);
    let mut stream = TcpStream::connect(env.provider.addr()).unwrap();
    stream.write_all(&head).unwrap();
    let sent = if send_all { body.len() } else { body.len() / 2 };
    stream.write_all(&body[..sent]).unwrap();
    assert!(
        eventually(Duration::from_secs(5), || {
            let now = uploads(&admin);
            now.body_bytes_received > 0 && now.in_flight == 1
        }),
        "{:?}",
        uploads(&admin)
    );
    let before = uploads(&admin).body_bytes_received;
    assert!(before < body.len() as u64, "still reading: {before}");

    drop(stream);
    assert_abandoned(&admin, Instant::now());
    let after = uploads(&admin).body_bytes_received;
    assert!(after <= sent as u64, "{after} > {sent}");

    // The client comes back and sends the same item again: stored exactly once.
    let response = env.upload(&item, Some(bytes.clone())).unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let items = admin.received_items(&Default::default()).unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!((items[0].uuid.as_str(), items[0].deliveries), ("u-left", 1));
    assert_eq!(admin.item_file("u-left").unwrap().unwrap(), bytes);
    let traffic = uploads(&admin);
    assert_eq!(
        (traffic.in_flight, traffic.abandoned, traffic.requests),
        (0, 1, 2)
    );
}

#[test]
fn a_client_leaving_mid_slow_body_is_abandoned_and_nothing_is_stored() {
    leave_mid_body(Some(FaultKind::slow_body(4_096, 20)), false);
}

#[test]
fn a_client_leaving_after_sending_everything_is_abandoned_before_the_slow_read_ends() {
    // On loopback a client's kernel takes the whole photo at once: the client is waiting for the answer
    // when it gives up, while the server has read only part of the body.
    leave_mid_body(Some(FaultKind::slow_body(4_096, 20)), true);
}

#[test]
fn a_client_leaving_mid_body_is_counted_without_a_fault_too() {
    leave_mid_body(None, false);
}

#[test]
fn a_cancelled_upload_task_is_abandoned_and_its_retry_stored_once() {
    let env = env();
    let admin = env.provider.admin().clone();
    admin.create_work_order(order("WO-1", Some(USER))).unwrap();
    admin
        .set_fault(Fault::new(Endpoint::UploadPictures, FaultKind::slow_body(8_192, 20)).times(1))
        .unwrap();
    let bytes = photo(1_500_000);
    let item = with_auth(picture("u-cancel", "WO-1"));
    let url = env.url("uploadPictures");

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let _ = client(); // installs the TLS provider reqwest needs to build any client
    let upload = {
        let (item, bytes) = (item.clone(), bytes.clone());
        runtime.spawn(async move {
            let form = reqwest::multipart::Form::new()
                .text("payload", item.to_string())
                .part(
                    "file",
                    reqwest::multipart::Part::bytes(bytes)
                        .file_name("photo.jpg")
                        .mime_str("image/jpeg")
                        .unwrap(),
                );
            reqwest::Client::new().post(url).multipart(form).send().await
        })
    };
    runtime.block_on(async {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            let now = uploads(&admin);
            if now.body_bytes_received > 0 && now.in_flight == 1 {
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "{now:?}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
    upload.abort();
    let left = Instant::now();
    assert!(runtime.block_on(upload).unwrap_err().is_cancelled());
    assert_abandoned(&admin, left);
    assert!(uploads(&admin).body_bytes_received < bytes.len() as u64);

    let response = env
        .upload(&picture("u-cancel", "WO-1"), Some(bytes.clone()))
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let items = admin.received_items(&Default::default()).unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!((items[0].uuid.as_str(), items[0].deliveries), ("u-cancel", 1));
    assert_eq!(admin.item_file("u-cancel").unwrap().unwrap(), bytes);
}

#[test]
fn stopping_the_server_ends_a_slow_body_read_at_once() {
    let env = env();
    let admin = env.provider.admin().clone();
    admin.create_work_order(order("WO-1", Some(USER))).unwrap();
    admin
        .set_fault(Fault::new(
            Endpoint::UploadPictures,
            FaultKind::slow_body(1, 1_000),
        ))
        .unwrap();
    let (head, body) = raw_upload(env.provider.addr(), &picture("u-stop", "WO-1"), &photo(10_000));
    let mut stream = TcpStream::connect(env.provider.addr()).unwrap();
    stream.write_all(&head).unwrap();
    stream.write_all(&body).unwrap();
    assert!(eventually(Duration::from_secs(5), || uploads(&admin)
        .body_bytes_received
        > 0));

    // The read would take hours; stopping must not wait for it (nor for the 5 s drain timeout).
    let started = Instant::now();
    env.provider.stop().unwrap();
    let stopped_in = started.elapsed();
    println!("stopped in {stopped_in:?} during a slow body read");
    assert!(stopped_in < Duration::from_secs(3), "{stopped_in:?}");
    let traffic = uploads(&admin);
    assert_eq!(
        (traffic.in_flight, traffic.abandoned),
        (0, 0),
        "the server's doing"
    );
    assert!(admin.received_items(&Default::default()).unwrap().is_empty());
}

#[test]
fn slow_body_rules_and_traffic_over_the_admin_http_api() {
    let env = env();
    let admin = env.provider.admin();
    let rule =
        json!({"endpoint": "uploadPictures", "kind": "slowBody", "bytes": 1024, "everyMs": 10, "times": 2});
    let listed: Value = env
        .client
        .post(env.admin_url("/faults"))
        .json(&rule)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(listed, json!([rule]));
    assert_eq!(
        admin.faults(),
        [Fault::new(Endpoint::UploadPictures, FaultKind::slow_body(1024, 10)).times(2)]
    );
    for bad in [
        json!({"kind": "slowBody", "bytes": 0, "everyMs": 10}),
        json!({"kind": "slowBody", "bytes": 1, "everyMs": 0}),
        json!({"kind": "slowBody", "bytes": 1}),
    ] {
        let response = env
            .client
            .post(env.admin_url("/faults"))
            .json(&bad)
            .send()
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
    env.client.delete(env.admin_url("/faults")).send().unwrap();

    // One validate call: counted under `validate` and overall.
    let (status, _) = env.call("validate", &with_auth(json!({"pushkey": "pk-1"})));
    assert_eq!(status, StatusCode::OK);
    let get = |path: &str| -> (StatusCode, Value) {
        let response = env.client.get(env.admin_url(path)).send().unwrap();
        (response.status(), response.json().unwrap())
    };
    let (status, overall) = get("/traffic");
    assert_eq!(status, StatusCode::OK);
    let validate = admin.upload_traffic_for(Endpoint::Validate);
    assert_eq!(validate.requests, 1);
    assert!(validate.body_bytes_received > 50);
    let counts = json!({"bodyBytesReceived": validate.body_bytes_received, "inFlight": 0, "abandoned": 0, "requests": 1});
    let zero = json!({"bodyBytesReceived": 0, "inFlight": 0, "abandoned": 0, "requests": 0});
    let mut expected = counts.clone();
    expected["endpoints"] = json!({
        "validate": counts, "getWorkOrders": zero, "uploadPictures": zero, "status": zero, "push": zero
    });
    assert_eq!(overall, expected);
    assert_eq!(get("/traffic?endpoint=validate"), (StatusCode::OK, counts));
    assert_eq!(
        get("/traffic?endpoint=uploadPictures"),
        (StatusCode::OK, zero.clone())
    );
    assert_eq!(get("/traffic?endpoint=nope").0, StatusCode::BAD_REQUEST);

    let response = env.client.delete(env.admin_url("/traffic")).send().unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().unwrap()["requests"], json!(0));
    assert_eq!(admin.upload_traffic(), UploadTraffic::default());
}
