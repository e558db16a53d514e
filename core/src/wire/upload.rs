//! The shapes of what fieldsync sends: the `status` service's request and the `uploadPictures` items of
//! check-ins and photos. Plain data in, JSON out; `transport` only adds the credentials and sends.

use serde_json::{Value, json};

use super::Options;

/// The `status` service's fields for one status change: `uuId` (the provider deduplicates a retry by it)
/// and the list of work orders with their new status.
pub fn status_request(uuid: &str, change: &Value) -> Value {
    json!({ "uuId": uuid, "workOrders": [change] })
}

/// One vendor status change, as queued: `{workOrderNumber, status}`.
pub fn status_change(work_order_number: &str, status: Option<&str>) -> Value {
    json!({ "workOrderNumber": work_order_number, "status": status })
}

/// Copies the work order's attributes (the provider's own `key*` fields and the like) into an item, so
/// that the provider files it under the right order.
pub fn with_attributes(mut item: Value, attributes: &Options) -> Value {
    if let Some(object) = item.as_object_mut() {
        for (key, value) in attributes {
            object.insert(key.clone(), value.clone());
        }
    }
    item
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_request_carries_its_uuid_and_one_change() {
        let change = status_change("1001", Some("Complete"));
        assert_eq!(
            status_request("u-1", &change),
            json!({"uuId": "u-1", "workOrders": [{"workOrderNumber": "1001", "status": "Complete"}]})
        );
    }

    #[test]
    fn attributes_are_copied_into_the_item() {
        let mut attributes = Options::new();
        attributes.insert("key1".into(), json!("ACME-7"));
        let item = with_attributes(json!({"uuId": "u-1"}), &attributes);
        assert_eq!(item, json!({"uuId": "u-1", "key1": "ACME-7"}));
    }
}
