//! The evidence of check-in and survey items: a COSE_Sign1 (RFC 9052) over the item's JSON, signed ES256 by
//! the same [`DeviceSigner`] with its chain in `x5chain` (label 33), carried in the item as
//! `evidenceSignature` (base64). Why not a detached C2PA manifest store: a C2PA manifest binds an asset's
//! bytes through a hard-binding assertion of a media format; an item is not a media asset, so no C2PA
//! validator could check the binding anyway. COSE_Sign1 is the signature format C2PA itself is built on, any
//! COSE library verifies it, and it costs about 1 KB (see `docs/EVIDENCE.md`).
//!
//! The payload is attached: the JSON bytes that were signed (the item without `evidenceSignature`). A
//! verifier checks the signature, the chain, and that the payload is the item it received.

use base64::Engine;
use coset::cbor::Value as Cbor;
use coset::{CborSerializable, CoseSign1, CoseSign1Builder, HeaderBuilder, iana};
use p256::ecdsa::signature::Verifier;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::EvidenceError;
use super::signer::{DeviceSigner, check_chain, raw_signature};

/// The item field that carries the signature.
pub const FIELD: &str = "evidenceSignature";
/// The COSE header label of an X.509 chain (RFC 9360).
const X5CHAIN: i64 = 33;
/// Largest signature accepted by [`verify_item`].
pub const MAX_SIGNATURE_BYTES: usize = 256 * 1024;

/// The item without its signature, as the bytes that are signed.
fn signed_bytes(item: &Value) -> Vec<u8> {
    let mut item = item.clone();
    if let Some(object) = item.as_object_mut() {
        object.remove(FIELD);
    }
    serde_json::to_vec(&item).unwrap_or_default()
}

/// Signs `item` and returns it with `evidenceSignature` added.
pub fn sign_item(item: &Value, signer: &dyn DeviceSigner) -> Result<Value, EvidenceError> {
    let chain = signer.certificate_chain()?;
    check_chain(&chain)?;
    let protected = HeaderBuilder::new()
        .algorithm(iana::Algorithm::ES256)
        .value(X5CHAIN, Cbor::Array(chain.into_iter().map(Cbor::Bytes).collect()))
        .build();
    let sign1 = CoseSign1Builder::new()
        .protected(protected)
        .payload(signed_bytes(item))
        .try_create_signature(b"", |to_be_signed| {
            let digest: [u8; 32] = Sha256::digest(to_be_signed).into();
            signer
                .sign_digest(&digest)
                .and_then(|signature| raw_signature(&signature))
        })?
        .build();
    let bytes = sign1
        .to_vec()
        .map_err(|err| EvidenceError::Manifest(format!("COSE: {err}")))?;
    let mut signed = item.clone();
    if let Some(object) = signed.as_object_mut() {
        object.insert(
            FIELD.into(),
            Value::String(base64::engine::general_purpose::STANDARD.encode(bytes)),
        );
    }
    Ok(signed)
}

/// What [`verify_item`] found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum ItemOutcome {
    /// The signature verifies and the payload is the item; `trusted` when the chain leads to a given anchor.
    Valid {
        /// The chain leads to a given trust anchor.
        trusted: bool,
    },
    /// The item's fields differ from what was signed.
    Tampered,
    /// The signature does not verify.
    BadSignature,
    /// No `evidenceSignature`.
    Unsigned,
    /// Intact, but the chain does not lead to the anchor.
    Untrusted,
    /// The signature cannot be read.
    Malformed {
        /// Why.
        reason: String,
    },
}

/// Verifies an item's `evidenceSignature`. Only P-256 chains are checked against the anchors (the
/// profile fieldsync issues); each certificate must be signed by the next or by an anchor.
pub fn verify_item(item: &Value, trust_anchors_pem: Option<&str>) -> ItemOutcome {
    let malformed = |reason: &str| ItemOutcome::Malformed {
        reason: reason.to_owned(),
    };
    let Some(encoded) = item.get(FIELD).and_then(Value::as_str) else {
        return ItemOutcome::Unsigned;
    };
    if encoded.len() > MAX_SIGNATURE_BYTES * 4 / 3 + 4 {
        return malformed("the signature is too large");
    }
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(encoded) else {
        return malformed("not base64");
    };
    let Ok(sign1) = CoseSign1::from_slice(&bytes) else {
        return malformed("not a COSE_Sign1");
    };
    let chain: Vec<Vec<u8>> = sign1
        .protected
        .header
        .rest
        .iter()
        .find(|(label, _)| *label == coset::Label::Int(X5CHAIN))
        .and_then(|(_, value)| value.as_array())
        .map(|certificates| {
            certificates
                .iter()
                .filter_map(|certificate| certificate.as_bytes().cloned())
                .collect()
        })
        .unwrap_or_default();
    if check_chain(&chain).is_err() {
        return malformed("no usable certificate chain");
    }
    let Some(leaf) = public_key(&chain[0]) else {
        return malformed("the signing certificate has no P-256 key");
    };
    let verified = sign1.verify_signature(b"", |signature, data| {
        let signature = p256::ecdsa::Signature::from_slice(signature).map_err(|_| ())?;
        leaf.verify(data, &signature).map_err(|_| ())
    });
    if verified.is_err() {
        return ItemOutcome::BadSignature;
    }
    let signed: Option<Value> = sign1
        .payload
        .as_deref()
        .and_then(|payload| serde_json::from_slice(payload).ok());
    let mut received = item.clone();
    if let Some(object) = received.as_object_mut() {
        object.remove(FIELD);
    }
    if signed.as_ref() != Some(&received) {
        return ItemOutcome::Tampered;
    }
    match trust_anchors_pem {
        None => ItemOutcome::Valid { trusted: false },
        Some(anchors) => {
            let anchors = super::software::certificates_from_pem(anchors).unwrap_or_default();
            if chains_to(&chain, &anchors) {
                ItemOutcome::Valid { trusted: true }
            } else {
                ItemOutcome::Untrusted
            }
        }
    }
}

/// The P-256 public key of a DER certificate.
fn public_key(der: &[u8]) -> Option<p256::ecdsa::VerifyingKey> {
    let (_, certificate) = x509_parser::parse_x509_certificate(der).ok()?;
    p256::ecdsa::VerifyingKey::from_sec1_bytes(&certificate.public_key().subject_public_key.data).ok()
}

/// True when `der` was signed (ecdsa-with-SHA256) by `issuer`'s key and is valid now.
fn signed_by(der: &[u8], issuer: &[u8]) -> bool {
    let (Some(key), Ok((_, certificate))) = (public_key(issuer), x509_parser::parse_x509_certificate(der))
    else {
        return false;
    };
    let Ok(signature) = p256::ecdsa::Signature::from_der(&certificate.signature_value.data) else {
        return false;
    };
    certificate.validity().is_valid()
        && key
            .verify(certificate.tbs_certificate.as_ref(), &signature)
            .is_ok()
}

/// The chain leads to one of `anchors`: each certificate signed by the next, the last by an anchor.
fn chains_to(chain: &[Vec<u8>], anchors: &[Vec<u8>]) -> bool {
    chain.windows(2).all(|pair| signed_by(&pair[0], &pair[1]))
        && chain
            .last()
            .is_some_and(|last| anchors.iter().any(|anchor| signed_by(last, anchor)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::SoftwareSigner;
    use crate::evidence::software::create_dev_credentials;
    use serde_json::json;

    #[test]
    fn a_signed_item_verifies_and_a_changed_field_does_not() {
        let credentials = create_dev_credentials("d", "Org").unwrap();
        let signer = SoftwareSigner::from_pem(&credentials.device_key_pem, &credentials.device_pem).unwrap();
        let item = json!({"uuId": "u-1", "fileType": "checkin", "gpsLatitude": 39.78, "key2": "WO-1"});
        let signed = sign_item(&item, &signer).unwrap();
        assert_eq!(
            verify_item(&signed, Some(&credentials.ca_pem)),
            ItemOutcome::Valid { trusted: true }
        );
        assert_eq!(verify_item(&signed, None), ItemOutcome::Valid { trusted: false });
        let mut changed = signed.clone();
        changed["gpsLatitude"] = json!(39.79);
        assert_eq!(
            verify_item(&changed, Some(&credentials.ca_pem)),
            ItemOutcome::Tampered
        );
        let other = create_dev_credentials("d", "Other").unwrap();
        assert_eq!(verify_item(&signed, Some(&other.ca_pem)), ItemOutcome::Untrusted);
        assert_eq!(verify_item(&item, None), ItemOutcome::Unsigned);
        let mut broken = signed;
        broken[FIELD] = json!("AAAA");
        assert!(matches!(
            verify_item(&broken, None),
            ItemOutcome::Malformed { .. }
        ));
    }
}
