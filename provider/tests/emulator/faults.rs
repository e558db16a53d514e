//! Fault injection: each kind, seen from a real client.

use std::time::{Duration, Instant};

use fieldsync_provider::{Endpoint, Fault, FaultKind};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::*;

#[test]
fn latency_delays_the_answer_then_clears_itself() {
    let env = env();
    env.provider
        .admin()
        .set_fault(Fault::new(Endpoint::Validate, FaultKind::Latency { ms: 400 }).times(1))
        .unwrap();
    let started = Instant::now();
    let (status, _) = env.call("validate", &with_auth(json!({})));
    assert_eq!(status, StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(400));
    let started = Instant::now();
    env.call("validate", &with_auth(json!({})));
    assert!(started.elapsed() < Duration::from_millis(400));
    assert!(env.provider.admin().faults().is_empty());
}

#[test]
fn http_errors_are_answered_without_processing() {
    let env = env();
    let admin = env.provider.admin();
    admin.create_work_order(order("WO-1", Some(USER))).unwrap();
    admin
        .set_fault(Fault::new(Endpoint::UploadPictures, FaultKind::Http500).times(1))
        .unwrap();
    admin
        .set_fault(Fault::new(Endpoint::UploadPictures, FaultKind::Http503 { retry_after: 7 }).times(1))
        .unwrap();
    admin
        .set_fault(Fault::new(Endpoint::UploadPictures, FaultKind::Http401).times(1))
        .unwrap();

    let first = env.upload(&picture("u-1", "WO-1"), Some(vec![1, 2, 3])).unwrap();
    assert_eq!(first.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(first.json::<Value>().unwrap()["status"], json!(false));
    let second = env.upload(&picture("u-1", "WO-1"), Some(vec![1, 2, 3])).unwrap();
    assert_eq!(second.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(second.headers()["retry-after"], "7");
    let third = env.upload(&picture("u-1", "WO-1"), Some(vec![1, 2, 3])).unwrap();
    assert_eq!(third.status(), StatusCode::UNAUTHORIZED);
    assert!(
        admin.received_pictures().unwrap().is_empty(),
        "faulted requests store nothing"
    );

    let fourth = env.upload(&picture("u-1", "WO-1"), Some(vec![1, 2, 3])).unwrap();
    assert_eq!(fourth.status(), StatusCode::OK);
    assert_eq!(admin.received_pictures().unwrap().len(), 1);
}

#[test]
fn drop_before_closes_the_connection_and_stores_nothing() {
    let env = env();
    let admin = env.provider.admin();
    admin.create_work_order(order("WO-1", Some(USER))).unwrap();
    admin
        .set_fault(Fault::new(Endpoint::UploadPictures, FaultKind::DropBefore).times(1))
        .unwrap();

    let err = env
        .upload(&picture("u-1", "WO-1"), Some(vec![7; 100_000]))
        .expect_err("connection must drop");
    println!("drop before, client error: {err:?}");
    assert!(err.is_request() || err.is_connect() || err.is_body(), "{err:?}");
    assert!(err.status().is_none());
    assert!(admin.received_pictures().unwrap().is_empty());

    // The retry (a new connection) succeeds.
    let retry = env
        .upload(&picture("u-1", "WO-1"), Some(vec![7; 100_000]))
        .unwrap();
    assert_eq!(retry.status(), StatusCode::OK);
    assert_eq!(admin.received_pictures().unwrap()[0].deliveries, 1);
}

#[test]
fn drop_after_stores_the_item_but_the_client_sees_no_answer() {
    let env = env();
    let admin = env.provider.admin();
    admin.create_work_order(order("WO-1", Some(USER))).unwrap();
    admin
        .set_fault(Fault::new(Endpoint::UploadPictures, FaultKind::DropAfter).times(1))
        .unwrap();

    let err = env
        .upload(&picture("u-1", "WO-1"), Some(vec![9; 50_000]))
        .expect_err("connection must drop");
    println!("drop after, client error: {err:?}");
    assert!(err.status().is_none());
    let stored = admin.received_pictures().unwrap();
    assert_eq!(stored.len(), 1, "the item was stored before the drop");
    assert_eq!(stored[0].deliveries, 1);

    // The client's retry is deduplicated.
    let retry = env
        .upload(&picture("u-1", "WO-1"), Some(vec![9; 50_000]))
        .unwrap();
    assert_eq!(retry.json::<Value>().unwrap()["status"], json!(true));
    let stored = admin.received_pictures().unwrap();
    assert_eq!((stored.len(), stored[0].deliveries), (1, 2));

    // Status updates too.
    admin
        .set_fault(Fault::new(Endpoint::Status, FaultKind::DropAfter).times(1))
        .unwrap();
    let request =
        with_auth(json!({"uuId": "s-1", "workOrders": [{"workOrderNumber": "WO-1", "status": "complete"}]}));
    assert!(env.post("status", &request).is_err());
    assert_eq!(admin.status_updates().unwrap().len(), 1);
}

#[test]
fn dropped_connections_send_no_http_response_at_all() {
    let env = env();
    let admin = env.provider.admin();
    let body = format!(
        "payload={}",
        form_encode(&with_auth(json!({"pushkey": "pk-1"})).to_string())
    );

    admin
        .set_fault(Fault::new(Endpoint::Validate, FaultKind::DropBefore).times(1))
        .unwrap();
    match raw_post(env.provider.addr(), "/api/v2/validate", &body) {
        Ok(bytes) => assert!(bytes.is_empty(), "got bytes: {}", String::from_utf8_lossy(&bytes)),
        Err(err) => println!("drop before, raw TCP: {err}"),
    }
    assert_eq!(
        admin.user(USER).unwrap().unwrap().push_key,
        None,
        "nothing processed"
    );

    admin
        .set_fault(Fault::new(Endpoint::Validate, FaultKind::DropAfter).times(1))
        .unwrap();
    match raw_post(env.provider.addr(), "/api/v2/validate", &body) {
        Ok(bytes) => assert!(bytes.is_empty(), "got bytes: {}", String::from_utf8_lossy(&bytes)),
        Err(err) => println!("drop after, raw TCP: {err}"),
    }
    assert_eq!(
        admin.user(USER).unwrap().unwrap().push_key.as_deref(),
        Some("pk-1"),
        "processed"
    );

    // Without a fault the same request gets a complete answer.
    let bytes = raw_post(env.provider.addr(), "/api/v2/validate", &body).unwrap();
    assert!(String::from_utf8_lossy(&bytes).starts_with("HTTP/1.1 200"));
}

#[test]
fn a_truncated_body_announces_more_than_it_sends() {
    let env = env();
    let admin = env.provider.admin();
    admin.seed_demo().unwrap();
    admin
        .set_fault(Fault::new(Endpoint::GetWorkOrders, FaultKind::Truncate).times(2))
        .unwrap();

    // reqwest: the headers arrive, reading the body fails.
    let response = env
        .post("getWorkOrders", &with_auth(json!({"timestamp": null})))
        .expect("headers arrive");
    assert_eq!(response.status(), StatusCode::OK);
    let err = response.bytes().expect_err("body must be cut short");
    println!("truncated, client error: {err:?}");

    // Raw TCP: Content-Length is larger than the bytes that follow the headers.
    let body = format!(
        "payload={}",
        form_encode(&with_auth(json!({"timestamp": null})).to_string())
    );
    let bytes = raw_post(env.provider.addr(), "/api/v2/getWorkOrders", &body).unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes);
    let (head, rest) = text.split_once("\r\n\r\n").expect("complete headers");
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length: ")
                .map(|v| v.trim().parse().unwrap())
        })
        .expect("content-length header");
    println!("truncated: content-length {length}, received {}", rest.len());
    assert!(rest.len() < length && length > 1000);

    // Cleared after two: complete again.
    let body = env.pull(Value::Null);
    assert_eq!(body["workOrders"].as_array().unwrap().len(), 11);
}

#[test]
fn faults_can_target_every_endpoint_and_be_cleared() {
    let env = env();
    let admin = env.provider.admin();
    admin
        .set_fault(Fault::everywhere(FaultKind::Http503 { retry_after: 3 }))
        .unwrap();
    assert_eq!(
        env.call("validate", &with_auth(json!({}))).0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        env.call("getWorkOrders", &with_auth(json!({}))).0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    let push = env.client.get(env.provider.push_url("k")).send().unwrap();
    assert_eq!(push.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(push.json::<Value>().unwrap()["response"], json!(false));
    // The admin API is never faulted.
    assert_eq!(
        env.client.get(env.admin_url("/health")).send().unwrap().status(),
        StatusCode::OK
    );
    admin.clear_faults();
    assert_eq!(env.call("validate", &with_auth(json!({}))).0, StatusCode::OK);

    admin
        .set_fault(Fault::new(Endpoint::Push, FaultKind::DropBefore))
        .unwrap();
    assert!(env.client.get(env.provider.push_url("k")).send().is_err());
    assert!(
        env.client.get(env.provider.push_url("k")).send().is_err(),
        "lasting until cleared"
    );
    admin.clear_faults_for(Endpoint::Push);
    assert!(env.client.get(env.provider.push_url("k")).send().is_ok());
}
