//! The admin API over HTTP.

use reqwest::StatusCode;
use reqwest::blocking::Response;
use serde_json::{Value, json};

use crate::common::*;

fn json_of(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    (status, response.json().expect("JSON answer"))
}

#[test]
fn users_orders_and_assignments_over_http() {
    let env = env();
    let c = &env.client;
    let (status, health) = json_of(c.get(env.admin_url("/health")).send().unwrap());
    assert_eq!(
        (status, health["ok"].clone(), health["users"].clone()),
        (StatusCode::OK, json!(true), json!(1))
    );

    let new_user = json!({"username": "vendor2", "password": "pw2", "token": "tok-2"});
    let (status, user) = json_of(c.post(env.admin_url("/users")).json(&new_user).send().unwrap());
    assert_eq!(
        (status, user["username"].clone()),
        (StatusCode::CREATED, json!("vendor2"))
    );
    assert!(user.get("password").is_none());
    assert_eq!(
        json_of(c.post(env.admin_url("/users")).json(&new_user).send().unwrap()).0,
        StatusCode::CONFLICT
    );
    let (_, users) = json_of(c.get(env.admin_url("/users")).send().unwrap());
    assert_eq!(users.as_array().unwrap().len(), 2);
    assert_eq!(
        json_of(c.get(env.admin_url("/users/ghost")).send().unwrap()).0,
        StatusCode::NOT_FOUND
    );

    let (status, info) = json_of(
        c.post(env.admin_url("/work-orders"))
            .json(&order("H-1", Some(USER)))
            .send()
            .unwrap(),
    );
    assert_eq!(
        (status, info["created"].clone(), info["assignedTo"].clone()),
        (StatusCode::OK, json!(true), json!(USER))
    );
    let batch = json!([order("H-2", Some(USER)), order("H-3", None)]);
    let (_, infos) = json_of(c.post(env.admin_url("/work-orders")).json(&batch).send().unwrap());
    assert_eq!(infos.as_array().unwrap().len(), 2);

    let (_, patched) = json_of(
        c.patch(env.admin_url("/work-orders/H-1"))
            .json(&json!({"clientStatus": "Hold"}))
            .send()
            .unwrap(),
    );
    assert!(patched["updatedAt"].is_i64());
    let (_, options) = json_of(
        c.put(env.admin_url("/work-orders/H-1/options"))
            .json(&json!({"check_in_required": true}))
            .send()
            .unwrap(),
    );
    assert_eq!(options["workOrderNumber"], json!("H-1"));
    let (_, record) = json_of(c.get(env.admin_url("/work-orders/H-1")).send().unwrap());
    assert_eq!(record["doc"]["clientStatus"], json!("Hold"));
    assert_eq!(record["doc"]["options"], json!({"check_in_required": true}));

    let (_, assigned) = json_of(
        c.post(env.admin_url("/work-orders/H-3/assign"))
            .json(&json!({"username": "vendor2"}))
            .send()
            .unwrap(),
    );
    assert_eq!(assigned["assignedTo"], json!("vendor2"));
    let (_, unassigned) = json_of(c.post(env.admin_url("/work-orders/H-2/unassign")).send().unwrap());
    assert_eq!(unassigned["assignedTo"], Value::Null);
    let (_, deleted) = json_of(c.delete(env.admin_url("/work-orders/H-1")).send().unwrap());
    assert_eq!(deleted["deleted"], json!(true));

    let (_, mine) = json_of(
        c.get(env.admin_url("/work-orders?assignedTo=vendor2"))
            .send()
            .unwrap(),
    );
    assert_eq!(mine.as_array().unwrap().len(), 1);
    let (_, all) = json_of(
        c.get(env.admin_url("/work-orders?includeDeleted=true"))
            .send()
            .unwrap(),
    );
    assert_eq!(all.as_array().unwrap().len(), 3);
    let (_, live) = json_of(c.get(env.admin_url("/work-orders")).send().unwrap());
    assert_eq!(live.as_array().unwrap().len(), 2);

    // Errors are JSON with a meaningful status.
    let (status, body) = json_of(c.get(env.admin_url("/work-orders/NOPE")).send().unwrap());
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body["error"].is_string());
    let bad = c
        .post(env.admin_url("/work-orders"))
        .body("{oops")
        .send()
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let (status, _) = json_of(
        c.post(env.admin_url("/work-orders"))
            .json(&json!({"city": "x"}))
            .send()
            .unwrap(),
    );
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        json_of(c.get(env.admin_url("/nope")).send().unwrap()).0,
        StatusCode::NOT_FOUND
    );
}

#[test]
fn bulk_seed_items_faults_and_clock_over_http() {
    let env = env();
    let c = &env.client;
    let (_, seeded) = json_of(c.post(env.admin_url("/seed")).send().unwrap());
    assert_eq!(seeded["workOrderNumbers"].as_array().unwrap().len(), 11);
    let (_, bulk) = json_of(
        c.post(env.admin_url("/bulk"))
            .json(&json!({"username": USER, "count": 50}))
            .send()
            .unwrap(),
    );
    assert_eq!(
        (bulk["count"].clone(), bulk["firstNumber"].clone()),
        (json!(50), json!("BLK-0000001"))
    );
    let (_, bulk) = json_of(
        c.post(env.admin_url("/bulk"))
            .json(&json!({"username": USER, "count": 5, "prefix": "X-"}))
            .send()
            .unwrap(),
    );
    assert_eq!(bulk["lastNumber"], json!("X-0000005"));
    let (_, bulk) = json_of(
        c.post(env.admin_url("/bulk"))
            .json(&json!({"username": USER, "count": 1}))
            .send()
            .unwrap(),
    );
    assert_eq!(
        bulk["firstNumber"],
        json!("BLK-0000051"),
        "numbers continue across calls"
    );
    assert_eq!(numbers(&env.pull(Value::Null)).len(), 67);

    env.upload(&picture("u-1", "WO-100101"), Some(b"jpeg bytes".to_vec()))
        .unwrap();
    let checkin = json!({"uuId": "c-1", "key2": "WO-100102", "fileType": "checkin"});
    env.upload(&checkin, None).unwrap();
    let (_, items) = json_of(c.get(env.admin_url("/items")).send().unwrap());
    assert_eq!(items.as_array().unwrap().len(), 2);
    let (_, pictures) = json_of(c.get(env.admin_url("/items?fileType=picture")).send().unwrap());
    assert_eq!(pictures[0]["uuid"], json!("u-1"));
    assert_eq!(pictures[0]["fileSize"], json!(10));
    let file = c.get(env.admin_url("/items/u-1/file")).send().unwrap();
    assert_eq!(file.bytes().unwrap().as_ref(), b"jpeg bytes");
    assert_eq!(
        c.get(env.admin_url("/items/c-1/file")).send().unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let (_, updates) = json_of(c.get(env.admin_url("/status-updates")).send().unwrap());
    assert_eq!(updates, json!([]));
    let (_, events) = json_of(c.get(env.admin_url("/push-events")).send().unwrap());
    assert_eq!(events, json!([]));

    let faults = json!([
        {"endpoint": "status", "kind": "http503", "retryAfter": 2, "times": 1},
        {"kind": "latency", "ms": 10}
    ]);
    let (_, active) = json_of(c.post(env.admin_url("/faults")).json(&faults).send().unwrap());
    assert_eq!(active.as_array().unwrap().len(), 2);
    assert_eq!(
        env.call("status", &with_auth(json!({}))).0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    let (_, active) = json_of(c.delete(env.admin_url("/faults?endpoint=status")).send().unwrap());
    assert_eq!(
        active,
        json!([{"endpoint": null, "kind": "latency", "ms": 10, "times": null}])
    );
    let (_, active) = json_of(c.delete(env.admin_url("/faults")).send().unwrap());
    assert_eq!(active, json!([]));
    let bad = c
        .post(env.admin_url("/faults"))
        .json(&json!({"kind": "explode"}))
        .send()
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);

    let (_, clock) = json_of(
        c.post(env.admin_url("/clock"))
            .json(&json!({"pinAt": 5_000}))
            .send()
            .unwrap(),
    );
    assert_eq!(clock, json!({"serverTime": 5_000, "pinned": true}));
    let (_, clock) = json_of(
        c.post(env.admin_url("/clock"))
            .json(&json!({"advanceSecs": 60}))
            .send()
            .unwrap(),
    );
    assert_eq!(clock["serverTime"], json!(5_060));
    assert_eq!(env.pull(json!(0))["serverTime"], json!(5_060));
    let (_, clock) = json_of(c.delete(env.admin_url("/clock")).send().unwrap());
    assert_eq!(clock["pinned"], json!(false));
}
