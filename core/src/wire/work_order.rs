//! A work order as the provider sends it, read tolerantly.
//!
//! Providers are sloppy: numbers arrive as strings, strings as numbers, blanks as `""` or `null`, and
//! unknown fields come and go. Every field is therefore read on its own: a field that is absent, `null` or
//! blank means "not sent" (an import never blanks a value), and a field of an impossible type is recorded
//! in [`WorkOrder::problems`] so that this one order is rejected with a reason while the batch goes on.

use std::borrow::Cow;
use std::fmt;

use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// A JSON object of options.
pub type Options = serde_json::Map<String, serde_json::Value>;

/// One service (a task of the project).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Service {
    /// The service name.
    pub name: Option<String>,
    /// Instructions.
    pub instructions: Option<String>,
    /// Options.
    pub options: Option<Options>,
    /// The survey template's id (`survey`).
    pub survey_id: Option<String>,
    /// The inline survey (`surveyDynamic`), as the JSON text of the object the provider sent.
    pub survey_inline: Option<String>,
}

/// The largest `surveyDynamic` kept: a larger one is dropped with a problem.
pub const MAX_SURVEY_INLINE_BYTES: usize = 10 * 1024 * 1024;

/// One work order of a getWorkOrders response. `None` means "not sent".
#[derive(Debug, Clone, PartialEq, Default)]
#[allow(missing_docs)] // the fields are the wire fields of DOMAIN.md, in snake_case
pub struct WorkOrder {
    pub work_order_number: Option<String>,
    pub work_order_info: Option<String>,
    pub address1: Option<String>,
    pub address2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub zip: Option<String>,
    pub country: Option<String>,
    pub assigned_to: Option<String>,
    pub status: Option<String>,
    pub due_date: Option<String>,
    pub instructions: Option<String>,
    pub client_status: Option<String>,
    pub client_due_date: Option<String>,
    pub client_instructions: Option<String>,
    pub description: Option<String>,
    pub reference: Option<String>,
    pub gps_latitude: Option<f64>,
    pub gps_longitude: Option<f64>,
    pub start_date: Option<String>,
    pub options: Option<Options>,
    pub services: Option<Vec<Service>>,
    /// `source_wo_*` and `attribute7`..`attribute30`, echoed back to the provider later.
    pub attributes: Options,
    /// Fields that could not be read, e.g. `gpsLatitude: "north"`. A non-empty list rejects the order.
    pub problems: Vec<String>,
}

impl WorkOrder {
    /// Reads one work order from its JSON text. A value that is not an object is an error; a field of the
    /// wrong type is not (it lands in `problems`).
    pub fn from_json(json: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(json)
    }
}

impl<'de> Deserialize<'de> for WorkOrder {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(WorkOrderVisitor)
    }
}

struct WorkOrderVisitor;

impl<'de> Visitor<'de> for WorkOrderVisitor {
    type Value = WorkOrder;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a work order object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<WorkOrder, A::Error> {
        let mut order = WorkOrder::default();
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            let problems = &mut order.problems;
            let text = |value: Lenient<String>, problems: &mut Vec<String>| value.into_field(&key, problems);
            match key.as_ref() {
                "workOrderNumber" => order.work_order_number = text(map.next_value()?, problems),
                "workOrderInfo" => order.work_order_info = text(map.next_value()?, problems),
                "address1" => order.address1 = text(map.next_value()?, problems),
                "address2" => order.address2 = text(map.next_value()?, problems),
                "city" => order.city = text(map.next_value()?, problems),
                "state" => order.state = text(map.next_value()?, problems),
                "zip" => order.zip = text(map.next_value()?, problems),
                "country" => order.country = text(map.next_value()?, problems),
                "assignedTo" => order.assigned_to = text(map.next_value()?, problems),
                "status" => order.status = text(map.next_value()?, problems),
                "dueDate" => order.due_date = text(map.next_value()?, problems),
                "instructions" => order.instructions = text(map.next_value()?, problems),
                "clientStatus" => order.client_status = text(map.next_value()?, problems),
                "clientDueDate" => order.client_due_date = text(map.next_value()?, problems),
                "clientInstructions" => order.client_instructions = text(map.next_value()?, problems),
                "description" => order.description = text(map.next_value()?, problems),
                "reference" => order.reference = text(map.next_value()?, problems),
                "startDate" => order.start_date = text(map.next_value()?, problems),
                "gpsLatitude" => {
                    order.gps_latitude = coordinate(map.next_value()?, &key, 90.0, problems);
                }
                "gpsLongitude" => {
                    order.gps_longitude = coordinate(map.next_value()?, &key, 180.0, problems);
                }
                "options" => order.options = map.next_value::<Lenient<Options>>()?.into_field(&key, problems),
                "services" => {
                    order.services = map
                        .next_value::<Lenient<Services>>()?
                        .into_field(&key, problems)
                        .map(|s| s.0)
                }
                name if is_attribute(name) => {
                    if let Some(value) = map.next_value::<Lenient<String>>()?.into_field(&key, problems) {
                        order.attributes.insert(name.to_owned(), value.into());
                    }
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(order)
    }
}

/// An object key, borrowed from the order's text unless it holds an escape. serde's own `Cow<str>` always
/// copies (it deserialises a `String`): that was one allocation per key, about 30 per order.
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_str<E>(self, key: &'de str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Borrowed(key)))
            }
            fn visit_str<E>(self, key: &str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(key.to_owned())))
            }
            fn visit_string<E>(self, key: String) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(key)))
            }
        }
        deserializer.deserialize_str(V)
    }
}

fn is_attribute(name: &str) -> bool {
    matches!(name, "source_wo_id" | "source_wo_number" | "source_wo_provider")
        || name
            .strip_prefix("attribute")
            .and_then(|n| n.parse::<u8>().ok())
            .is_some_and(|n| (7..=30).contains(&n))
}

fn coordinate(value: Lenient<f64>, key: &str, limit: f64, problems: &mut Vec<String>) -> Option<f64> {
    let value = value.into_field(key, problems)?;
    if value.is_finite() && value.abs() <= limit {
        Some(value)
    } else {
        problems.push(format!("{key} {value} is out of range"));
        None
    }
}

/// A field value read without failing: absent/blank, a value, or a description of what was wrong.
enum Lenient<T> {
    Missing,
    Value(T),
    Invalid(&'static str),
}

impl<T> Lenient<T> {
    fn into_field(self, key: &str, problems: &mut Vec<String>) -> Option<T> {
        match self {
            Lenient::Missing => None,
            Lenient::Value(value) => Some(value),
            Lenient::Invalid(found) => {
                problems.push(format!("{key} must not be {found}"));
                None
            }
        }
    }
}

fn non_blank(value: &str) -> Lenient<String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        Lenient::Missing
    } else {
        Lenient::Value(trimmed.to_owned())
    }
}

/// Implements the visitor methods that turn an unexpected JSON type into `Lenient::Invalid`.
macro_rules! reject_other_types {
    (str) => {
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok(Lenient::Invalid("a boolean"))
        }
        reject_other_types!(containers);
    };
    (containers) => {
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(Lenient::Invalid("a list"))
        }
    };
    (map) => {
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(Lenient::Invalid("an object"))
        }
    };
    (scalars) => {
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok(Lenient::Invalid("a boolean"))
        }
        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok(Lenient::Invalid("a number"))
        }
        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok(Lenient::Invalid("a number"))
        }
        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok(Lenient::Invalid("a number"))
        }
        fn visit_str<E>(self, value: &str) -> Result<Self::Value, E> {
            Ok(if value.trim().is_empty() {
                Lenient::Missing
            } else {
                Lenient::Invalid("a string")
            })
        }
    };
    (nulls) => {
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(Lenient::Missing)
        }
        fn visit_none<E>(self) -> Result<Self::Value, E> {
            Ok(Lenient::Missing)
        }
    };
}

impl<'de> Deserialize<'de> for Lenient<String> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Lenient<String>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or a number")
            }
            fn visit_str<E>(self, value: &str) -> Result<Self::Value, E> {
                Ok(non_blank(value))
            }
            fn visit_i64<E>(self, value: i64) -> Result<Self::Value, E> {
                Ok(Lenient::Value(value.to_string()))
            }
            fn visit_u64<E>(self, value: u64) -> Result<Self::Value, E> {
                Ok(Lenient::Value(value.to_string()))
            }
            fn visit_f64<E>(self, value: f64) -> Result<Self::Value, E> {
                Ok(Lenient::Value(value.to_string()))
            }
            reject_other_types!(str);
            reject_other_types!(map);
            reject_other_types!(nulls);
        }
        deserializer.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for Lenient<f64> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Lenient<f64>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number or a numeric string")
            }
            fn visit_str<E>(self, value: &str) -> Result<Self::Value, E> {
                let trimmed = value.trim();
                if trimmed.is_empty() {
                    return Ok(Lenient::Missing);
                }
                Ok(trimmed
                    .parse::<f64>()
                    .map_or(Lenient::Invalid("a non-numeric string"), Lenient::Value))
            }
            fn visit_i64<E>(self, value: i64) -> Result<Self::Value, E> {
                Ok(Lenient::Value(value as f64))
            }
            fn visit_u64<E>(self, value: u64) -> Result<Self::Value, E> {
                Ok(Lenient::Value(value as f64))
            }
            fn visit_f64<E>(self, value: f64) -> Result<Self::Value, E> {
                Ok(Lenient::Value(value))
            }
            reject_other_types!(str);
            reject_other_types!(map);
            reject_other_types!(nulls);
        }
        deserializer.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for Lenient<Options> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Lenient<Options>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut options = Options::new();
                while let Some((key, value)) = map.next_entry::<String, serde_json::Value>()? {
                    options.insert(key, value);
                }
                Ok(Lenient::Value(options))
            }
            reject_other_types!(scalars);
            reject_other_types!(containers);
            reject_other_types!(nulls);
        }
        deserializer.deserialize_any(V)
    }
}

/// A JSON object kept as its text (no tree is built): `null` or a blank string is not sent, another type
/// is a problem, and so is an object over [`MAX_SURVEY_INLINE_BYTES`].
fn raw_object(raw: Box<serde_json::value::RawValue>) -> Lenient<String> {
    let text = raw.get();
    match text.as_bytes().first() {
        Some(b'{') if text.len() > MAX_SURVEY_INLINE_BYTES => Lenient::Invalid("larger than 10 MB"),
        Some(b'{') => Lenient::Value(String::from(Box::<str>::from(raw))),
        Some(b'n') => Lenient::Missing,
        Some(b'"') => match serde_json::from_str::<String>(text) {
            Ok(value) if value.trim().is_empty() => Lenient::Missing,
            _ => Lenient::Invalid("a string"),
        },
        Some(b'[') => Lenient::Invalid("a list"),
        Some(b't' | b'f') => Lenient::Invalid("a boolean"),
        _ => Lenient::Invalid("a number"),
    }
}

struct Services(Vec<Service>);

impl<'de> Deserialize<'de> for Lenient<Services> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Lenient<Services>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of services")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut services = Vec::new();
                let mut invalid = None;
                while let Some(service) = seq.next_element::<Lenient<Service>>()? {
                    match service {
                        Lenient::Value(service) => services.push(service),
                        Lenient::Invalid(found) => invalid = Some(found),
                        Lenient::Missing => {}
                    }
                }
                Ok(match invalid {
                    Some(found) => Lenient::Invalid(found),
                    None => Lenient::Value(Services(services)),
                })
            }
            reject_other_types!(scalars);
            reject_other_types!(map);
            reject_other_types!(nulls);
        }
        deserializer.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for Lenient<Service> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Lenient<Service>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a service object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut service = Service::default();
                let mut problems = Vec::new();
                while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
                    match key.as_ref() {
                        "serviceName" => {
                            service.name = map
                                .next_value::<Lenient<String>>()?
                                .into_field(&key, &mut problems)
                        }
                        "instructions" => {
                            service.instructions = map
                                .next_value::<Lenient<String>>()?
                                .into_field(&key, &mut problems)
                        }
                        "options" => {
                            service.options = map
                                .next_value::<Lenient<Options>>()?
                                .into_field(&key, &mut problems)
                        }
                        "survey" => {
                            service.survey_id = map
                                .next_value::<Lenient<String>>()?
                                .into_field(&key, &mut problems)
                        }
                        "surveyDynamic" => {
                            service.survey_inline =
                                raw_object(map.next_value()?).into_field(&key, &mut problems)
                        }
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(if problems.is_empty() {
                    Lenient::Value(service)
                } else {
                    Lenient::Invalid("a service with a field of the wrong type")
                })
            }
            reject_other_types!(scalars);
            reject_other_types!(containers);
            reject_other_types!(nulls);
        }
        deserializer.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_strings_are_interchangeable() {
        let order = WorkOrder::from_json(
            r#"{"workOrderNumber": 1042, "zip": 30301, "gpsLatitude": "33.75", "gpsLongitude": -84.39}"#,
        )
        .unwrap();
        assert_eq!(order.work_order_number.as_deref(), Some("1042"));
        assert_eq!(order.zip.as_deref(), Some("30301"));
        assert_eq!(order.gps_latitude, Some(33.75));
        assert_eq!(order.gps_longitude, Some(-84.39));
        assert!(order.problems.is_empty());
    }

    #[test]
    fn blank_and_null_mean_not_sent() {
        let order =
            WorkOrder::from_json(r#"{"workOrderNumber": "7", "city": "", "state": null, "zip": "  "}"#)
                .unwrap();
        assert_eq!(order.city, None);
        assert_eq!(order.state, None);
        assert_eq!(order.zip, None);
    }

    #[test]
    fn unknown_fields_are_ignored() {
        let order =
            WorkOrder::from_json(r#"{"workOrderNumber": "7", "futureField": {"a": [1, 2]}, "x": null}"#)
                .unwrap();
        assert_eq!(order.work_order_number.as_deref(), Some("7"));
        assert!(order.problems.is_empty());
    }

    #[test]
    fn wrong_types_are_problems_not_errors() {
        let order = WorkOrder::from_json(
            r#"{"workOrderNumber": "7", "city": ["x"], "gpsLatitude": "north", "options": 3, "services": {}}"#,
        )
        .unwrap();
        assert_eq!(order.problems.len(), 4, "{:?}", order.problems);
        assert!(order.problems[0].contains("city"));
    }

    #[test]
    fn out_of_range_coordinates_are_problems() {
        let order = WorkOrder::from_json(r#"{"workOrderNumber": "7", "gpsLatitude": 91}"#).unwrap();
        assert_eq!(order.problems, vec!["gpsLatitude 91 is out of range".to_owned()]);
    }

    #[test]
    fn services_and_attributes_are_read() {
        let order = WorkOrder::from_json(
            r#"{"workOrderNumber": "7", "attribute7": "x", "attribute31": "no", "source_wo_id": 9,
                "services": [{"serviceName": "Lawn Cut", "instructions": "front and back", "options": {"a": 1}}]}"#,
        )
        .unwrap();
        let services = order.services.unwrap();
        assert_eq!(services[0].name.as_deref(), Some("Lawn Cut"));
        assert_eq!(services[0].options.as_ref().unwrap()["a"], 1);
        assert_eq!(order.attributes.len(), 2);
        assert_eq!(order.attributes["source_wo_id"], "9");
    }

    #[test]
    fn surveys_are_read_by_id_and_inline_as_sent() {
        let order = WorkOrder::from_json(
            r#"{"workOrderNumber": "7", "services": [{"serviceName": "HPIR", "survey": "hpirFull-v3",
                "surveyDynamic": {"questions": [{"id": "q1", "type": "text"}]}}, {"serviceName": "Lawn",
                "survey": "", "surveyDynamic": null}]}"#,
        )
        .unwrap();
        assert!(order.problems.is_empty(), "{:?}", order.problems);
        let services = order.services.unwrap();
        assert_eq!(services[0].survey_id.as_deref(), Some("hpirFull-v3"));
        assert_eq!(
            services[0].survey_inline.as_deref(),
            Some(r#"{"questions": [{"id": "q1", "type": "text"}]}"#)
        );
        assert_eq!(services[1].survey_id, None);
        assert_eq!(services[1].survey_inline, None);
    }

    #[test]
    fn a_survey_of_the_wrong_type_or_too_large_is_a_problem() {
        for survey in [
            r#""surveyDynamic": [1]"#,
            r#""surveyDynamic": "x""#,
            r#""survey": {"a": 1}"#,
        ] {
            let json =
                format!(r#"{{"workOrderNumber": "7", "services": [{{"serviceName": "A", {survey}}}]}}"#);
            let order = WorkOrder::from_json(&json).unwrap();
            assert_eq!(order.problems.len(), 1, "{survey}: {:?}", order.problems);
            assert_eq!(order.services, None);
        }
        let big = format!(
            r#"{{"workOrderNumber": "7", "services": [{{"serviceName": "A", "surveyDynamic": {{"a": "{}"}}}}]}}"#,
            "x".repeat(MAX_SURVEY_INLINE_BYTES)
        );
        let order = WorkOrder::from_json(&big).unwrap();
        assert_eq!(order.problems.len(), 1, "{:?}", order.problems);
        assert_eq!(order.services, None);
    }

    #[test]
    fn keys_with_escapes_are_read_like_plain_ones() {
        let order = WorkOrder::from_json(
            r#"{"work\u004FrderNumber": "7", "c\u0069ty": "Tampa", "services": [{"service\u004Eame": "A"}]}"#,
        )
        .unwrap();
        assert_eq!(order.work_order_number.as_deref(), Some("7"));
        assert_eq!(order.city.as_deref(), Some("Tampa"));
        assert_eq!(order.services.unwrap()[0].name.as_deref(), Some("A"));
    }

    #[test]
    fn a_non_object_is_an_error() {
        assert!(WorkOrder::from_json("[1]").is_err());
        assert!(WorkOrder::from_json("\"x\"").is_err());
    }
}
