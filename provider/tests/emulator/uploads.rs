//! `uploadPictures` (dedupe by uuId, check-ins, large bodies) and `status`.

use std::time::Instant;

use reqwest::StatusCode;
use serde_json::{Value, json};
use sha1::{Digest, Sha1};

use crate::common::*;

fn jpeg_like(len: usize) -> Vec<u8> {
    let mut bytes: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
    bytes[..3].copy_from_slice(&[0xFF, 0xD8, 0xFF]);
    bytes
}

#[test]
fn a_picture_is_stored_once_per_uuid() {
    let env = env();
    let admin = env.provider.admin();
    admin.create_work_order(order("WO-1", Some(USER))).unwrap();
    let bytes = jpeg_like(300_000);

    let response = env.upload(&picture("u-1", "WO-1"), Some(bytes.clone())).unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.json::<Value>().unwrap(),
        json!({"status": true, "error": null})
    );

    let pictures = admin.received_pictures().unwrap();
    assert_eq!(pictures.len(), 1);
    let item = &pictures[0];
    assert_eq!(
        (item.uuid.as_str(), item.work_order_number.as_str()),
        ("u-1", "WO-1")
    );
    assert_eq!(
        (item.task_name.as_deref(), item.evidence_type.as_deref()),
        (Some("Grass Cut"), Some("before"))
    );
    assert_eq!(item.file_size, Some(300_000));
    assert_eq!(
        item.file_sha1.as_deref(),
        Some(hex::encode(Sha1::digest(&bytes)).as_str())
    );
    assert_eq!(item.deliveries, 1);
    assert_eq!(item.metadata["deviceId"], json!("dev-1"));
    for secret in ["password", "token", "username"] {
        assert!(
            item.metadata.get(secret).is_none(),
            "{secret} must not be stored in metadata"
        );
    }
    assert_eq!(admin.item_file("u-1").unwrap().unwrap(), bytes);

    // A retry with the same uuId succeeds and stores nothing new.
    let again = env.upload(&picture("u-1", "WO-1"), Some(jpeg_like(10))).unwrap();
    assert_eq!(again.json::<Value>().unwrap()["status"], json!(true));
    let pictures = admin.received_pictures().unwrap();
    assert_eq!(pictures.len(), 1);
    assert_eq!(pictures[0].deliveries, 2);
    assert_eq!(pictures[0].file_size, Some(300_000));
}

#[test]
fn a_checkin_has_no_file_and_bad_items_are_refused() {
    let env = env();
    let admin = env.provider.admin();
    admin.create_work_order(order("WO-2", Some(USER))).unwrap();
    let checkin = json!({"uuId": "c-1", "key2": "WO-2", "fileType": "checkin", "gpsLatitude": 39.9,
                         "gpsLongitude": -83.0, "gpsAccuracy": 8.5, "createdBySubUser": "tech1"});
    let response = env.upload(&checkin, None).unwrap();
    assert_eq!(response.json::<Value>().unwrap()["status"], json!(true));
    let checkins = admin.received_checkins().unwrap();
    assert_eq!(checkins.len(), 1);
    assert_eq!(
        (checkins[0].file_size, checkins[0].file_type.as_str()),
        (None, "checkin")
    );

    // A picture needs a file; uuId and key2 are required; the order must exist.
    let no_file = env.upload(&picture("u-2", "WO-2"), None).unwrap();
    assert_eq!(no_file.status(), StatusCode::NOT_ACCEPTABLE);
    assert_eq!(no_file.json::<Value>().unwrap()["status"], json!(false));
    let mut no_uuid = picture("x", "WO-2");
    no_uuid.as_object_mut().unwrap().remove("uuId");
    assert_eq!(
        env.upload(&no_uuid, Some(vec![1])).unwrap().status(),
        StatusCode::NOT_ACCEPTABLE
    );
    let mut bad_type = picture("u-3", "WO-2");
    bad_type["fileType"] = json!("video");
    assert_eq!(
        env.upload(&bad_type, Some(vec![1])).unwrap().status(),
        StatusCode::NOT_ACCEPTABLE
    );
    let unknown = env.upload(&picture("u-4", "NOPE"), Some(vec![1])).unwrap();
    assert_eq!(unknown.status(), StatusCode::OK);
    let body: Value = unknown.json().unwrap();
    assert_eq!(body["status"], json!(false));
    assert!(body["error"].as_str().unwrap().contains("unknown work order"));

    // Bad credentials: 401, nothing stored.
    let mut bad_auth = picture("u-5", "WO-2");
    bad_auth["password"] = json!("0000000000000000000000000000000000000000");
    assert_eq!(
        env.upload(&bad_auth, Some(vec![1])).unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(admin.received_items(&Default::default()).unwrap().len(), 1);
}

#[test]
fn a_twenty_megabyte_upload_is_accepted() {
    let env = env();
    env.provider
        .admin()
        .create_work_order(order("WO-3", Some(USER)))
        .unwrap();
    let bytes = jpeg_like(20 * 1024 * 1024);
    let started = Instant::now();
    let response = env
        .upload(&picture("big-1", "WO-3"), Some(bytes.clone()))
        .unwrap();
    let elapsed = started.elapsed();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().unwrap()["status"], json!(true));
    println!("20 MiB upload: {elapsed:?}");
    let item = &env.provider.admin().received_pictures().unwrap()[0];
    assert_eq!(item.file_size, Some(bytes.len() as u64));
    assert_eq!(
        env.provider.admin().item_file("big-1").unwrap().unwrap().len(),
        bytes.len()
    );
}

#[test]
fn status_updates_are_recorded_deduplicated_and_all_or_nothing() {
    let env = env();
    let admin = env.provider.admin();
    admin.create_work_order(order("WO-4", Some(USER))).unwrap();
    admin.create_work_order(order("WO-5", Some(USER))).unwrap();

    let request = with_auth(json!({"uuId": "s-1", "workOrders": [
        {"workOrderNumber": "WO-4", "status": "complete"},
        {"workOrderNumber": "WO-5", "status": "in progress"}
    ]}));
    let (status, body) = env.call("status", &request);
    assert_eq!(
        (status, body),
        (StatusCode::OK, json!({"status": true, "error": null}))
    );
    let (_, body) = env.call("status", &request);
    assert_eq!(body["status"], json!(true));
    let updates = admin.status_updates().unwrap();
    assert_eq!(updates.len(), 2);
    assert_eq!(
        (updates[0].work_order_number.as_str(), updates[0].status.as_str()),
        ("WO-4", "complete")
    );
    assert_eq!(
        (updates[0].uuid.as_deref(), updates[0].deliveries),
        (Some("s-1"), 2)
    );

    // One unknown order: an error object, nothing recorded.
    let (status, body) = env.call(
        "status",
        &with_auth(json!({"workOrders": [
            {"workOrderNumber": "WO-4", "status": "complete"},
            {"workOrderNumber": "GHOST", "status": "complete"}
        ]})),
    );
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"status": false, "error": {"workOrderNumber": "GHOST", "error": "unknown work order"}})
    );
    assert_eq!(admin.status_updates().unwrap().len(), 2);

    // Without a uuid there is no dedupe; a malformed entry is 406.
    env.call(
        "status",
        &with_auth(json!({"workOrders": [{"workOrderNumber": "WO-5", "status": "complete"}]})),
    );
    assert_eq!(admin.status_updates().unwrap().len(), 3);
    let (status, _) = env.call(
        "status",
        &with_auth(json!({"workOrders": [{"workOrderNumber": "WO-5"}]})),
    );
    assert_eq!(status, StatusCode::NOT_ACCEPTABLE);
}
