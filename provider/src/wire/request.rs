//! Reading a wire request: form fields (urlencoded or multipart), the optional `file` part, and the JSON
//! `payload`.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{StatusCode, header};
use serde_json::{Map, Value};

use super::reply::WireError;

/// The fields of a wire request.
#[derive(Debug, Default)]
pub(crate) struct WireRequest {
    /// Text fields by name (`payload`, `workOrders`, ...).
    pub(crate) fields: HashMap<String, String>,
    /// The `file` part of a multipart request.
    pub(crate) file: Option<Bytes>,
}

fn rejection(status: StatusCode, text: String) -> WireError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        WireError::Malformed(status, "request body too large".to_owned())
    } else {
        WireError::malformed(text)
    }
}

/// Reads the request's fields according to its content type.
pub(crate) async fn read(req: Request) -> Result<WireRequest, WireError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.to_ascii_lowercase())
        .unwrap_or_default();
    if content_type.starts_with("multipart/form-data") {
        read_multipart(req).await
    } else if content_type.starts_with("application/x-www-form-urlencoded") {
        let axum::Form(pairs) = axum::Form::<Vec<(String, String)>>::from_request(req, &())
            .await
            .map_err(|e| rejection(e.status(), e.body_text()))?;
        Ok(WireRequest {
            fields: pairs.into_iter().collect(),
            file: None,
        })
    } else if content_type.starts_with("application/json") {
        let body = Bytes::from_request(req, &())
            .await
            .map_err(|e| rejection(e.status(), e.body_text()))?;
        let text = String::from_utf8(body.to_vec()).map_err(|_| WireError::malformed("body is not UTF-8"))?;
        Ok(WireRequest {
            fields: HashMap::from([("payload".to_owned(), text)]),
            file: None,
        })
    } else {
        super::body::drain(req.into_body()).await;
        Err(WireError::malformed(
            "expected an application/x-www-form-urlencoded or multipart/form-data body with a `payload` field",
        ))
    }
}

async fn read_multipart(req: Request) -> Result<WireRequest, WireError> {
    let mut multipart = Multipart::from_request(req, &())
        .await
        .map_err(|e| rejection(e.status(), e.body_text()))?;
    let mut out = WireRequest::default();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| rejection(e.status(), e.body_text()))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        let bytes = field
            .bytes()
            .await
            .map_err(|e| rejection(e.status(), e.body_text()))?;
        if name == "file" {
            out.file = Some(bytes);
        } else {
            let text = String::from_utf8(bytes.to_vec())
                .map_err(|_| WireError::malformed(format!("multipart field `{name}` is not UTF-8")))?;
            out.fields.insert(name, text);
        }
    }
    Ok(out)
}

impl WireRequest {
    /// The `payload` field parsed as a JSON object.
    pub(crate) fn payload(&self) -> Result<Map<String, Value>, WireError> {
        let text = self
            .fields
            .get("payload")
            .ok_or_else(|| WireError::malformed("missing form field `payload`"))?;
        match serde_json::from_str(text) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(_) => Err(WireError::malformed("payload must be a JSON object")),
            Err(err) => Err(WireError::malformed(format!("payload is not valid JSON: {err}"))),
        }
    }
}

/// A field read as text: strings as they are, numbers and booleans in their JSON form, `null` or absent
/// as `None` (numbers may arrive as strings and vice versa).
pub(crate) fn text(object: &Map<String, Value>, key: &str) -> Option<String> {
    match object.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}
