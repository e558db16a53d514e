//! The emulator's verification of a received picture's C2PA content credentials. It uses the `c2pa` crate
//! directly, not the client's code: the other side of the wire checks what the device claims.

use std::io::Cursor;

use serde_json::{Value, json};

/// The fieldsync assertion's label.
const FIELDSYNC_ASSERTION: &str = "com.fieldsync.evidence";

/// Verifies `bytes` (a JPEG): `{"result": "valid" | "tampered" | "unsigned" | "untrusted" |
/// "not_supported", "trusted", "failures", "signer", "fieldsync"}`. Never panics on hostile input.
pub fn verify(bytes: &[u8], trust_anchors: Option<&str>) -> Value {
    if bytes.len() < 4 || bytes[..3] != [0xFF, 0xD8, 0xFF] {
        return json!({"result": "not_supported", "reason": "not a JPEG"});
    }
    let mut settings = json!({"verify": {
        "verify_trust": trust_anchors.is_some(),
        "verify_timestamp_trust": false,
        "remote_manifest_fetch": false,
        "ocsp_fetch": false,
    }});
    if let Some(anchors) = trust_anchors {
        settings["trust"] = json!({"trust_anchors": anchors});
    }
    let context = match c2pa::Context::new().with_settings(settings) {
        Ok(context) => context,
        Err(err) => return json!({"result": "not_supported", "reason": err.to_string()}),
    };
    let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        c2pa::Reader::from_context(context).with_stream("image/jpeg", Cursor::new(bytes))
    }));
    let reader = match read {
        Ok(Ok(reader)) => reader,
        Ok(Err(c2pa::Error::JumbfNotFound | c2pa::Error::ProvenanceMissing)) => {
            return json!({"result": "unsigned"});
        }
        Ok(Err(err)) => {
            return json!({"result": "tampered", "part": "manifest", "failures": [err.to_string()]});
        }
        Err(_) => return json!({"result": "tampered", "part": "manifest"}),
    };
    let failures: Vec<String> = reader
        .validation_results()
        .and_then(|results| results.active_manifest())
        .map(|active| {
            active
                .failure()
                .iter()
                .map(|status| status.code().to_owned())
                .collect()
        })
        .unwrap_or_default();
    let trust_only = failures
        .iter()
        .all(|code| code.starts_with("signingCredential.") || code.starts_with("timeStamp."));
    let result = match (failures.is_empty(), trust_only) {
        (true, _) => "valid",
        (false, true) => "untrusted",
        (false, false) => "tampered",
    };
    let manifest = reader.active_manifest();
    let fieldsync = manifest
        .and_then(|manifest| {
            manifest
                .assertions()
                .iter()
                .find(|assertion| assertion.label() == FIELDSYNC_ASSERTION)
        })
        .and_then(|assertion| assertion.value().ok().cloned());
    json!({
        "result": result,
        "trusted": result == "valid" && trust_anchors.is_some(),
        "failures": failures,
        "signer": manifest.and_then(|m| m.signature_info()).and_then(|info| info.common_name.clone()),
        "fieldsync": fieldsync,
    })
}
