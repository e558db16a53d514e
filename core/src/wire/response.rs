//! Streaming reader of a getWorkOrders response body.
//!
//! A Full Import of a large provider account is tens of megabytes of JSON. The reader never holds the whole
//! document: it walks the top-level object and hands each element of `workOrders` to a callback as its raw
//! JSON text, so the importer can fingerprint it (and skip it when nothing changed) before parsing it.

use std::fmt;
use std::io::Read;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

/// What the response said besides its work orders.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResponseMeta {
    /// Number of elements in `workOrders` (0 when it was `null` or absent).
    pub work_orders: u64,
    /// The provider's error, when `error` was a non-empty string or an object.
    pub error: Option<String>,
    /// The provider's clock (`serverTime`, our extension), in Unix seconds.
    pub server_time: Option<i64>,
}

/// Why a response could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError<E> {
    /// The body is not a getWorkOrders response.
    #[error("the response is not valid: {0}")]
    Malformed(String),
    /// The callback failed; reading stopped there.
    #[error(transparent)]
    Callback(E),
}

/// Reads a response from `reader`, calling `on_order` with the raw text of each work order in order.
pub fn read_work_orders<R, E, F>(reader: R, on_order: F) -> Result<ResponseMeta, ReadError<E>>
where
    R: Read,
    F: FnMut(&RawValue) -> Result<(), E>,
{
    let mut deserializer = serde_json::Deserializer::from_reader(reader);
    let mut state = State {
        on_order,
        failure: None,
        meta: ResponseMeta::default(),
        saw_work_orders: false,
    };
    let result = de::Deserializer::deserialize_any(&mut deserializer, TopLevel(&mut state))
        .and_then(|()| deserializer.end());
    if let Some(failure) = state.failure {
        return Err(ReadError::Callback(failure));
    }
    result.map_err(|err| ReadError::Malformed(describe(&err)))?;
    if !state.saw_work_orders && state.meta.error.is_none() {
        // Reading a missing list as empty would make a Full Import remove every project.
        return Err(ReadError::Malformed(
            "the response has no `workOrders` field".into(),
        ));
    }
    Ok(state.meta)
}

fn describe(err: &serde_json::Error) -> String {
    match err.classify() {
        serde_json::error::Category::Eof if err.line() <= 1 && err.column() == 0 => {
            "the body is empty".into()
        }
        serde_json::error::Category::Eof => format!("the body ends too early ({err})"),
        _ => err.to_string(),
    }
}

struct State<F, E> {
    on_order: F,
    failure: Option<E>,
    meta: ResponseMeta,
    saw_work_orders: bool,
}

struct TopLevel<'a, F, E>(&'a mut State<F, E>);

impl<'de, F, E> Visitor<'de> for TopLevel<'_, F, E>
where
    F: FnMut(&RawValue) -> Result<(), E>,
{
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object with `workOrders`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "workOrders" => {
                    self.0.saw_work_orders = true;
                    map.next_value_seed(OrdersSeed(&mut *self.0))?
                }
                "error" => self.0.meta.error = error_text(map.next_value::<serde_json::Value>()?),
                "serverTime" => {
                    self.0.meta.server_time = match map.next_value::<serde_json::Value>()? {
                        serde_json::Value::Number(n) => n.as_i64(),
                        serde_json::Value::String(s) => s.trim().parse().ok(),
                        _ => None,
                    }
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// `""`, `null`, `false` and `"success"` are not errors; any other string or an object is.
fn error_text(value: serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::String(text) if text.trim().is_empty() || text.eq_ignore_ascii_case("success") => {
            None
        }
        serde_json::Value::String(text) => Some(text),
        serde_json::Value::Null | serde_json::Value::Bool(false) => None,
        other => Some(other.to_string()),
    }
}

struct OrdersSeed<'a, F, E>(&'a mut State<F, E>);

impl<'de, F, E> DeserializeSeed<'de> for OrdersSeed<'_, F, E>
where
    F: FnMut(&RawValue) -> Result<(), E>,
{
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de, F, E> Visitor<'de> for OrdersSeed<'_, F, E>
where
    F: FnMut(&RawValue) -> Result<(), E>,
{
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("`workOrders` as a list or null")
    }

    fn visit_unit<A: de::Error>(self) -> Result<(), A> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(raw) = seq.next_element::<Box<RawValue>>()? {
            self.0.meta.work_orders += 1;
            if let Err(err) = (self.0.on_order)(&raw) {
                self.0.failure = Some(err);
                return Err(de::Error::custom("import stopped"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(body: &str) -> Result<(ResponseMeta, Vec<String>), ReadError<()>> {
        let mut orders = Vec::new();
        let meta = read_work_orders(body.as_bytes(), |raw| {
            orders.push(raw.get().to_owned());
            Ok(())
        })?;
        Ok((meta, orders))
    }

    #[test]
    fn orders_stream_in_order() {
        let (meta, orders) =
            collect(r#"{"error": "", "workOrders": [{"workOrderNumber": "1"}, {"workOrderNumber": 2}], "serverTime": 99}"#)
                .unwrap();
        assert_eq!(
            orders,
            vec![r#"{"workOrderNumber": "1"}"#, r#"{"workOrderNumber": 2}"#]
        );
        assert_eq!(
            meta,
            ResponseMeta {
                work_orders: 2,
                error: None,
                server_time: Some(99)
            }
        );
    }

    #[test]
    fn null_orders_are_empty_but_missing_orders_are_malformed() {
        assert_eq!(collect(r#"{"workOrders": null}"#).unwrap().1.len(), 0);
        assert_eq!(collect(r#"{"workOrders": []}"#).unwrap().1.len(), 0);
        for body in [
            "{}",
            r#"{"error": null}"#,
            r#"{"message": "Service Unavailable"}"#,
        ] {
            assert!(
                matches!(collect(body), Err(ReadError::Malformed(_))),
                "{body} was accepted"
            );
        }
        let (meta, _) = collect(r#"{"error": "maintenance"}"#).unwrap();
        assert_eq!(
            meta.error.as_deref(),
            Some("maintenance"),
            "a provider error without orders is reported as such"
        );
    }

    #[test]
    fn an_error_field_is_reported() {
        let (meta, _) = collect(r#"{"workOrders": [], "error": "bad token"}"#).unwrap();
        assert_eq!(meta.error.as_deref(), Some("bad token"));
        let (meta, _) = collect(r#"{"error": {"code": 5}}"#).unwrap();
        assert_eq!(meta.error.as_deref(), Some(r#"{"code":5}"#));
    }

    #[test]
    fn bodies_that_are_not_responses_are_malformed() {
        for body in [
            "",
            "[]",
            "3",
            "\"x\"",
            "{\"workOrders\": 3}",
            "{\"workOrders\": [1",
            "{} trailing",
            "<html>",
        ] {
            assert!(
                matches!(collect(body), Err(ReadError::Malformed(_))),
                "{body:?} was accepted"
            );
        }
        let Err(ReadError::Malformed(message)) = collect("") else {
            panic!()
        };
        assert_eq!(message, "the body is empty");
    }

    #[test]
    fn invalid_utf8_is_malformed() {
        let body = b"{\"workOrders\": [{\"city\": \"\xff\xfe\"}]}";
        let result = read_work_orders(&body[..], |_| Ok::<(), ()>(()));
        assert!(matches!(result, Err(ReadError::Malformed(_))));
    }

    #[test]
    fn a_callback_failure_stops_reading() {
        let mut seen = 0;
        let result = read_work_orders(r#"{"workOrders": [{}, {}, {}]}"#.as_bytes(), |_| {
            seen += 1;
            if seen == 2 { Err("full disk") } else { Ok(()) }
        });
        assert!(matches!(result, Err(ReadError::Callback("full disk"))));
        assert_eq!(seen, 2);
    }
}
