//! `getWorkOrders`: full and incremental imports, unassign, delete, reassign, re-create.

use serde_json::{Value, json};

use crate::common::*;

fn entry<'a>(body: &'a Value, number: &str) -> &'a Value {
    body["workOrders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["workOrderNumber"] == json!(number))
        .unwrap()
}

#[test]
fn full_import_returns_the_live_orders_assigned_to_the_user() {
    let env = env();
    let admin = env.provider.admin();
    admin.create_user("vendor2", "pw2", "tok-2").unwrap();
    admin.create_work_order(order("A", Some(USER))).unwrap();
    admin.create_work_order(order("B", Some(USER))).unwrap();
    admin.create_work_order(order("C", Some("vendor2"))).unwrap();
    admin.create_work_order(order("D", None)).unwrap();
    admin.create_work_order(order("E", Some(USER))).unwrap();
    admin.delete_work_order("E").unwrap();

    let before = admin.now();
    let body = env.pull(Value::Null);
    assert_eq!(body["error"], json!(""));
    assert!(body["serverTime"].as_i64().unwrap() >= before);
    assert_eq!(
        numbers(&body),
        vec![("A".into(), "Open".into()), ("B".into(), "Open".into())]
    );
    // The stored document is served as given, with assignedTo mirroring the assignment.
    let a = entry(&body, "A");
    assert_eq!(a["assignedTo"], json!(USER));
    assert_eq!(a["services"][0]["serviceName"], json!("Grass Cut"));
    // An absent timestamp is a full import too.
    assert_eq!(numbers(&env.pull(json!(""))).len(), 2);
    let (_, body) = env.call("getWorkOrders", &with_auth(json!({})));
    assert_eq!(numbers(&body).len(), 2);
}

#[test]
fn incremental_import_reports_changes_unassign_delete_and_reassign_once() {
    let env = env();
    let admin = env.provider.admin();
    admin.create_user("vendor2", "pw2", "tok-2").unwrap();
    admin.set_time(Some(1_000_000));
    for number in ["A", "B", "C"] {
        admin.create_work_order(order(number, Some(USER))).unwrap();
    }
    let full = env.pull(Value::Null);
    assert_eq!(full["serverTime"], json!(1_000_000));
    assert_eq!(numbers(&full).len(), 3);

    // A change at or after the timestamp is sent in full.
    admin.advance_time(10);
    admin
        .patch_work_order("A", json!({"clientInstructions": "new", "dueDate": null}))
        .unwrap();
    let body = env.pull(json!(1_000_001));
    assert_eq!(numbers(&body), vec![("A".into(), "Open".into())]);
    assert_eq!(entry(&body, "A")["clientInstructions"], json!("new"));
    assert!(
        entry(&body, "A").get("dueDate").is_none(),
        "merge patch null removes the field"
    );
    assert_eq!(body["serverTime"], json!(1_000_010));
    // Numeric strings are accepted as timestamps; a timestamp equal to updated_at includes the order.
    assert_eq!(numbers(&env.pull(json!("1000010"))).len(), 1);

    // Unassign: a minimal Cancelled entry, exactly once.
    admin.advance_time(10);
    admin.unassign("B").unwrap();
    admin.advance_time(1);
    let body = env.pull(json!(1_000_011));
    assert_eq!(
        body["workOrders"],
        json!([{"workOrderNumber": "B", "clientStatus": "Cancelled"}])
    );
    let next = body["serverTime"].as_i64().unwrap();
    assert_eq!(next, 1_000_021);
    admin.advance_time(5);
    assert_eq!(env.pull(json!(next))["workOrders"], json!([]));

    // Delete: a minimal Deleted entry, exactly once.
    admin.advance_time(10);
    admin.delete_work_order("C").unwrap();
    admin.advance_time(1);
    let body = env.pull(json!(next + 1));
    assert_eq!(
        body["workOrders"],
        json!([{"workOrderNumber": "C", "clientStatus": "Deleted"}])
    );
    let next = body["serverTime"].as_i64().unwrap();
    admin.advance_time(1);
    assert_eq!(env.pull(json!(next))["workOrders"], json!([]));
    // A full import now has only A.
    assert_eq!(numbers(&env.pull(Value::Null)), vec![("A".into(), "Open".into())]);

    // Reassign B back: it comes again in full with its normal clientStatus.
    admin.advance_time(10);
    let since = admin.now();
    admin.assign("B", USER).unwrap();
    let body = env.pull(json!(since));
    assert_eq!(numbers(&body), vec![("B".into(), "Open".into())]);
    assert_eq!(entry(&body, "B")["assignedTo"], json!(USER));

    // Reassign A to another vendor: Cancelled for vendor1, in full for vendor2.
    admin.advance_time(10);
    let since = admin.now();
    admin.assign("A", "vendor2").unwrap();
    assert_eq!(
        numbers(&env.pull(json!(since))),
        vec![("A".into(), "Cancelled".into())]
    );
    let (_, body2) = env.call("getWorkOrders", &{
        let mut p = creds_of("vendor2", "pw2", "tok-2");
        p["timestamp"] = json!(since);
        p
    });
    assert_eq!(numbers(&body2), vec![("A".into(), "Open".into())]);
    assert_eq!(entry(&body2, "A")["assignedTo"], json!("vendor2"));

    // Re-create the deleted C: back in full, no Deleted entry.
    admin.advance_time(10);
    let since = admin.now();
    let info = admin.create_work_order(order("C", Some(USER))).unwrap();
    assert!(info.created);
    assert_eq!(
        numbers(&env.pull(json!(since))),
        vec![("C".into(), "Open".into())]
    );
}

#[test]
fn numeric_order_numbers_keep_their_json_type_in_minimal_entries() {
    let env = env();
    let admin = env.provider.admin();
    admin.set_time(Some(2_000_000));
    let mut doc = order("x", Some(USER));
    doc["workOrderNumber"] = json!(555);
    admin.create_work_order(doc).unwrap();
    admin.advance_time(5);
    admin.delete_work_order("555").unwrap();
    let body = env.pull(json!(2_000_001));
    assert_eq!(
        body["workOrders"],
        json!([{"workOrderNumber": 555, "clientStatus": "Deleted"}])
    );
}

#[test]
fn admin_refuses_bad_orders_and_unknown_logins() {
    let env = env();
    let admin = env.provider.admin();
    assert!(admin.create_work_order(json!({"address1": "x"})).is_err());
    assert!(admin.create_work_order(json!([1])).is_err());
    assert!(matches!(
        admin.create_work_order(order("Z", Some("ghost"))),
        Err(fieldsync_provider::ProviderError::NotFound { kind: "user", .. })
    ));
    assert!(admin.assign("missing", USER).is_err());
    // An order missing fields a client requires can still be made (to test client-side rejection).
    admin
        .create_work_order(json!({"workOrderNumber": "BARE", "assignedTo": USER}))
        .unwrap();
    assert_eq!(
        numbers(&env.pull(Value::Null)),
        vec![("BARE".into(), String::new())]
    );
    // Options are replaced whole.
    admin
        .set_options("BARE", json!({"check_in_required": true}))
        .unwrap();
    let record = admin.work_order("BARE").unwrap().unwrap();
    assert_eq!(record.doc["options"], json!({"check_in_required": true}));
    assert!(admin.set_options("BARE", json!([1])).is_err());
    // Patching a deleted order is refused; deleting twice is a no-op.
    admin.delete_work_order("BARE").unwrap();
    assert!(admin.patch_work_order("BARE", json!({"city": "x"})).is_err());
    assert!(admin.delete_work_order("BARE").unwrap().deleted);
}

#[test]
fn the_demo_seed_serves_eleven_realistic_orders() {
    let env = env();
    let report = env.provider.admin().seed_demo().unwrap();
    assert_eq!(
        (report.username.as_str(), report.work_order_numbers.len()),
        (USER, 11)
    );
    let body = env.pull(Value::Null);
    let orders = body["workOrders"].as_array().unwrap();
    assert_eq!(orders.len(), 11);
    for order in orders {
        for field in [
            "address1",
            "city",
            "state",
            "zip",
            "dueDate",
            "clientInstructions",
        ] {
            assert!(
                order[field].as_str().is_some_and(|s| !s.is_empty()),
                "{field} in {order}"
            );
        }
        assert!(order["gpsLatitude"].is_f64());
        assert_eq!(order["services"].as_array().unwrap().len(), 2);
        assert_eq!(order["dueDate"].as_str().unwrap().len(), 10);
    }
    assert!(
        orders
            .iter()
            .any(|o| o["options"]["check_in_required"] == json!(true))
    );
    // Seeding again is idempotent.
    env.provider.admin().seed_demo().unwrap();
    assert_eq!(numbers(&env.pull(Value::Null)).len(), 11);
}
