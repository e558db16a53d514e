//! Tolerant readers of loosely typed values: providers and work types spell a yes as `true`, `"true"`,
//! `"1"`, `1`, `"yes"`, and a success as `"ok"` or `"success"`. One reader, so every flag is read alike.

use serde_json::Value;

/// Whether a JSON value means yes: `true`, the number 1, or (trimmed, any case) `"true"`, `"1"`, `"yes"`,
/// `"ok"`, `"success"`. Anything else, a missing value included, is no.
pub fn is_truthy(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Bool(value)) => *value,
        Some(Value::Number(number)) => number.as_i64() == Some(1),
        Some(Value::String(text)) => matches!(
            text.trim().to_ascii_lowercase().as_str(),
            "true" | "1" | "yes" | "ok" | "success"
        ),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn yes_is_spelled_many_ways() {
        for yes in [
            json!(true),
            json!(1),
            json!("true"),
            json!(" TRUE "),
            json!("1"),
            json!("Yes"),
            json!("ok"),
            json!("success"),
        ] {
            assert!(is_truthy(Some(&yes)), "{yes}");
        }
    }

    #[test]
    fn anything_else_is_no() {
        for no in [
            json!(false),
            json!(0),
            json!(2),
            json!(""),
            json!("no"),
            json!("false"),
            json!(null),
            json!([true]),
            json!({}),
        ] {
            assert!(!is_truthy(Some(&no)), "{no}");
        }
        assert!(!is_truthy(None));
    }
}
