//! The push key URL.

use serde_json::{Value, json};

use crate::common::*;

#[test]
fn push_get_and_post_need_a_registered_key() {
    let env = env();
    let admin = env.provider.admin();
    let unknown: Value = env
        .client
        .get(env.provider.push_url("pk-9"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(unknown, json!({"response": false, "error": "unknown push key"}));

    env.call("validate", &with_auth(json!({"pushkey": "pk-9"})));
    let hit: Value = env
        .client
        .get(env.provider.push_url("pk-9"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(hit, json!({"response": true, "error": "success"}));

    let orders = json!([order("P-1", None), order("P-2", Some("someone-else-ignored"))]);
    let posted: Value = env
        .client
        .post(env.provider.push_url("pk-9"))
        .form(&[("workOrders", orders.to_string())])
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(posted, json!({"response": true, "error": "success"}));
    let body = env.pull(Value::Null);
    assert_eq!(
        numbers(&body),
        vec![("P-1".into(), "Open".into()), ("P-2".into(), "Open".into())]
    );

    let events = admin.push_events().unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(
        (events[0].method.as_str(), events[0].username.as_str()),
        ("GET", USER)
    );
    assert_eq!((events[1].method.as_str(), events[1].work_orders), ("POST", 2));

    let bad = env
        .client
        .post(env.provider.push_url("pk-9"))
        .form(&[("workOrders", "{oops")])
        .send()
        .unwrap();
    assert_eq!(bad.status(), reqwest::StatusCode::NOT_ACCEPTABLE);
    let not_orders = json!([{"city": "x"}]).to_string();
    let bad = env
        .client
        .post(env.provider.push_url("pk-9"))
        .form(&[("workOrders", not_orders)])
        .send()
        .unwrap();
    assert_eq!(bad.status(), reqwest::StatusCode::NOT_ACCEPTABLE);
    assert_eq!(admin.push_events().unwrap().len(), 2);
}
