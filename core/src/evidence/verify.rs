//! Verification that needs nobody: a photo file in, a typed [`Verification`] out. Reads only the bytes it
//! is given (no network: no remote manifest, no OCSP), with a size bound, and never panics on hostile
//! input (the fuzz suite feeds it corrupt manifests, several manifests, enormous chains, non-JPEGs).

use std::io::Cursor;

use serde::Serialize;
use serde_json::{Value, json};

/// Largest file verified (a rendition is a few MB).
pub const MAX_VERIFY_BYTES: usize = 64 << 20;
/// Most assertion rows reported: a hostile manifest can hold thousands of assertions.
pub const MAX_ROWS: usize = 500;

/// Which part of a signed photo was changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "part", rename_all = "snake_case")]
pub enum TamperedPart {
    /// The image bytes no longer match the signed hash: an image byte changed, or the manifest was moved
    /// here from another photo.
    Image,
    /// An assertion no longer matches the hash the claim signed.
    Assertion {
        /// Its label, e.g. `com.fieldsync.evidence`.
        label: String,
    },
    /// The claim or its signature does not verify.
    Signature,
    /// The manifest's structure is broken.
    Manifest,
}

/// What a verification found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Outcome {
    /// The signature and every hash verify. `trusted` is true when a trust anchor was given and the
    /// signer's chain leads to it; false when no anchor was given (trust not checked).
    Valid {
        /// The chain leads to a given trust anchor.
        trusted: bool,
    },
    /// Signed, but something changed after signing.
    Tampered {
        /// What changed.
        #[serde(flatten)]
        part: TamperedPart,
    },
    /// No content credentials.
    Unsigned,
    /// Intact, but signed by a certificate that does not lead to the given trust anchor (or is not valid
    /// for signing: expired, wrong profile).
    Untrusted,
    /// Not a JPEG, or larger than [`MAX_VERIFY_BYTES`].
    NotSupported {
        /// Why.
        reason: String,
    },
}

impl Outcome {
    /// One word, for tables and exit codes.
    pub fn word(&self) -> &'static str {
        match self {
            Self::Valid { .. } => "valid",
            Self::Tampered { .. } => "tampered",
            Self::Unsigned => "unsigned",
            Self::Untrusted => "untrusted",
            Self::NotSupported { .. } => "not_supported",
        }
    }
}

/// One assertion value, flattened for a table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AssertionRow {
    /// The assertion's label.
    pub label: String,
    /// The field's path inside it (`a.b.0.c`).
    pub field: String,
    /// The value, as JSON text (strings without quotes).
    pub value: String,
}

/// The result of [`verify`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verification {
    /// What was found.
    #[serde(flatten)]
    pub outcome: Outcome,
    /// The signer's certificate subject (common name), when signed.
    pub signer: Option<String>,
    /// The signer's certificate issuer.
    pub issuer: Option<String>,
    /// The validation codes c2pa reported as failures (`assertion.dataHash.mismatch`, ...).
    pub failures: Vec<String>,
    /// The active manifest's assertions, flattened.
    pub assertions: Vec<AssertionRow>,
    /// The active manifest's assertions as JSON, by label (for checks by program).
    #[serde(skip)]
    pub assertion_values: Vec<(String, Value)>,
}

impl Verification {
    fn bare(outcome: Outcome) -> Self {
        Self {
            outcome,
            signer: None,
            issuer: None,
            failures: Vec::new(),
            assertions: Vec::new(),
            assertion_values: Vec::new(),
        }
    }

    /// The value of the assertion `label`, if the manifest has it.
    pub fn assertion(&self, label: &str) -> Option<&Value> {
        self.assertion_values
            .iter()
            .find(|(found, _)| found == label)
            .map(|(_, value)| value)
    }
}

/// Is this a JPEG (SOI and a marker)?
pub fn is_jpeg(bytes: &[u8]) -> bool {
    bytes.len() >= 4 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF
}

/// Where a failure code points (pure): `None` when it is about trust, not integrity.
pub fn classify(code: &str, url: Option<&str>) -> Option<TamperedPart> {
    match code {
        "assertion.dataHash.mismatch" | "assertion.boxesHash.mismatch" | "assertion.bmffHash.mismatch" => {
            Some(TamperedPart::Image)
        }
        "assertion.hashedURI.mismatch" | "assertion.cbor.invalid" | "assertion.json.invalid" => {
            let label = url
                .and_then(|url| url.rsplit('/').next())
                .unwrap_or("unknown")
                .to_owned();
            Some(TamperedPart::Assertion { label })
        }
        "claimSignature.mismatch" | "claimSignature.missing" | "claim.hardBindings.missing" => {
            Some(TamperedPart::Signature)
        }
        code if code.starts_with("signingCredential.") || code.starts_with("timeStamp.") => None,
        _ => Some(TamperedPart::Manifest),
    }
}

fn flatten(prefix: &str, value: &Value, label: &str, rows: &mut Vec<AssertionRow>) {
    if rows.len() >= MAX_ROWS {
        return;
    }
    let join = |key: &str| {
        if prefix.is_empty() {
            key.to_owned()
        } else {
            format!("{prefix}.{key}")
        }
    };
    match value {
        Value::Object(map) => map
            .iter()
            .for_each(|(key, value)| flatten(&join(key), value, label, rows)),
        // A hash is an array of byte values: one row of hex, not one row per byte.
        Value::Array(items)
            if items.len() > 8
                && items
                    .iter()
                    .all(|item| item.as_u64().is_some_and(|byte| byte <= 255)) =>
        {
            let hex: String = items
                .iter()
                .filter_map(Value::as_u64)
                .map(|byte| format!("{byte:02x}"))
                .collect();
            rows.push(AssertionRow {
                label: label.to_owned(),
                field: prefix.to_owned(),
                value: hex,
            });
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .for_each(|(index, value)| flatten(&join(&index.to_string()), value, label, rows)),
        Value::String(text) => rows.push(AssertionRow {
            label: label.to_owned(),
            field: prefix.to_owned(),
            value: text.clone(),
        }),
        other => rows.push(AssertionRow {
            label: label.to_owned(),
            field: prefix.to_owned(),
            value: other.to_string(),
        }),
    }
}

/// Verifies the content credentials of a JPEG. `trust_anchors_pem`: the roots to trust (PEM); `None`
/// checks integrity only.
pub fn verify(bytes: &[u8], trust_anchors_pem: Option<&str>) -> Verification {
    if bytes.len() > MAX_VERIFY_BYTES {
        return Verification::bare(Outcome::NotSupported {
            reason: format!("the file is {} bytes, more than {MAX_VERIFY_BYTES}", bytes.len()),
        });
    }
    if !is_jpeg(bytes) {
        return Verification::bare(Outcome::NotSupported {
            reason: "not a JPEG".into(),
        });
    }
    let mut settings = json!({
        "verify": {
            "verify_trust": trust_anchors_pem.is_some(),
            "verify_timestamp_trust": false,
            "remote_manifest_fetch": false,
            "ocsp_fetch": false,
        },
    });
    if let Some(anchors) = trust_anchors_pem {
        settings["trust"] = json!({"trust_anchors": anchors});
    }
    let context = match c2pa::Context::new().with_settings(settings) {
        Ok(context) => context,
        Err(err) => {
            return Verification::bare(Outcome::NotSupported {
                reason: format!("the trust anchors could not be read: {err}"),
            });
        }
    };
    // c2pa is hardened against malformed input, but a panic in a dependency must not take the host down.
    let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        c2pa::Reader::from_context(context).with_stream("image/jpeg", Cursor::new(bytes))
    }));
    let reader = match read {
        Ok(Ok(reader)) => reader,
        Ok(Err(c2pa::Error::JumbfNotFound | c2pa::Error::ProvenanceMissing)) => {
            return Verification::bare(Outcome::Unsigned);
        }
        Ok(Err(err)) => {
            let mut verification = Verification::bare(Outcome::Tampered {
                part: TamperedPart::Manifest,
            });
            verification.failures.push(err.to_string());
            return verification;
        }
        Err(_) => {
            return Verification::bare(Outcome::Tampered {
                part: TamperedPart::Manifest,
            });
        }
    };
    let mut failures = Vec::new();
    let mut tampered = None;
    let mut untrusted = false;
    if let Some(results) = reader.validation_results()
        && let Some(active) = results.active_manifest()
    {
        for status in active.failure() {
            let code = status.code();
            failures.push(code.to_owned());
            match classify(code, status.url()) {
                // The first integrity failure in c2pa's order is the most specific one.
                Some(part) => {
                    if tampered.is_none()
                        || matches!(
                            (&tampered, &part),
                            (
                                Some(TamperedPart::Manifest | TamperedPart::Signature),
                                TamperedPart::Image | TamperedPart::Assertion { .. }
                            )
                        )
                    {
                        tampered = Some(part);
                    }
                }
                None => untrusted = true,
            }
        }
    }
    let outcome = match (tampered, untrusted) {
        (Some(part), _) => Outcome::Tampered { part },
        (None, true) => Outcome::Untrusted,
        (None, false) => Outcome::Valid {
            trusted: trust_anchors_pem.is_some(),
        },
    };
    let mut verification = Verification::bare(outcome);
    verification.failures = failures;
    if let Some(manifest) = reader.active_manifest() {
        if let Some(info) = manifest.signature_info() {
            verification.signer = info.common_name.clone();
            verification.issuer = info.issuer.clone();
        }
        for assertion in manifest.assertions().iter().take(MAX_ROWS) {
            let label = assertion.label().to_owned();
            if let Ok(value) = assertion.value() {
                flatten("", value, &label, &mut verification.assertions);
                verification.assertion_values.push((label, value.clone()));
            }
        }
    }
    verification
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_codes_say_what_changed() {
        assert_eq!(
            classify("assertion.dataHash.mismatch", None),
            Some(TamperedPart::Image)
        );
        assert_eq!(
            classify(
                "assertion.hashedURI.mismatch",
                Some("self#jumbf=c2pa.assertions/com.fieldsync.evidence")
            ),
            Some(TamperedPart::Assertion {
                label: "com.fieldsync.evidence".into()
            })
        );
        assert_eq!(classify("signingCredential.untrusted", None), None);
        assert_eq!(
            classify("claimSignature.mismatch", None),
            Some(TamperedPart::Signature)
        );
    }

    #[test]
    fn a_non_jpeg_is_not_supported_and_a_plain_jpeg_is_unsigned() {
        assert!(matches!(
            verify(b"GIF89a", None).outcome,
            Outcome::NotSupported { .. }
        ));
        let plain = include_bytes!("../../../fixtures/photos/blurry.jpg");
        assert_eq!(verify(plain, None).outcome, Outcome::Unsigned);
    }
}
