//! 100,000 orders: generation time, and a full `getWorkOrders` of them.

use std::time::Instant;

use serde_json::{Value, json};

use crate::common::*;

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Feed<'a> {
    error: &'a str,
    #[serde(borrow)]
    work_orders: Vec<&'a serde_json::value::RawValue>,
}

#[test]
fn one_hundred_thousand_orders_are_generated_and_served_fast() {
    let env = env();
    let started = Instant::now();
    let report = env.provider.admin().bulk_generate(USER, 100_000).unwrap();
    let generated = started.elapsed();
    let average = report.json_bytes / u64::from(report.count);
    println!(
        "bulk: generated {} orders ({} MB of JSON, {average} B/order) in {generated:?}",
        report.count,
        report.json_bytes / 1_000_000
    );
    assert!((600..=800).contains(&average), "average order size {average}");

    // The full import, timed to the last byte.
    let started = Instant::now();
    let response = env
        .post("getWorkOrders", &with_auth(json!({"timestamp": null})))
        .unwrap();
    let first_byte = started.elapsed();
    let body = response.bytes().unwrap();
    let served = started.elapsed();
    println!(
        "bulk: full getWorkOrders of 100,000 orders: {} bytes, headers after {first_byte:?}, complete after {served:?}",
        body.len()
    );
    // Validate the whole body without building 100,000 trees (slow in a debug build).
    let started = Instant::now();
    let parsed: Feed<'_> = serde_json::from_slice(&body).unwrap();
    assert_eq!(parsed.work_orders.len(), 100_000);
    assert_eq!(parsed.error, "");
    let first: Value = serde_json::from_str(parsed.work_orders[0].get()).unwrap();
    assert_eq!(first["services"].as_array().unwrap().len(), 2);
    println!(
        "bulk: client-side validation of the body: {:?}",
        started.elapsed()
    );

    // An incremental pull from "now" is cheap.
    let started = Instant::now();
    let since = env.provider.admin().now() + 1;
    assert_eq!(env.pull(json!(since))["workOrders"], json!([]));
    println!(
        "bulk: empty incremental getWorkOrders over 100,000 orders: {:?}",
        started.elapsed()
    );
}
