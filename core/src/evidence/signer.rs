//! The device signer: the host's key signs, the core never sees it.
//!
//! A [`DeviceSigner`] signs a SHA-256 digest with a P-256 key (Android Keystore/StrongBox with
//! `NONEwithECDSA`, iOS Secure Enclave with `ecdsaSignatureDigestX962SHA256`) and hands over its certificate
//! chain. [`C2paSigner`] adapts it to the `c2pa` crate: c2pa gives the bytes to be signed (the COSE
//! `Sig_structure`), we hash them, the host signs the digest, and a DER signature (what both platforms
//! return) is turned into the fixed `r || s` form COSE wants.

use std::sync::Mutex;

use sha2::{Digest, Sha256};

/// Why the device could not sign. Nothing here is fatal for a photo: it waits, with this reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignerError {
    /// The key exists but cannot be used now (keystore locked, user not authenticated).
    #[error("the device key is locked: {0}")]
    Locked(String),
    /// The host has no key or certificate (evidence not set up on this device).
    #[error("the device has no signing key or certificate: {0}")]
    NotProvisioned(String),
    /// The key store failed.
    #[error("the device signer failed: {0}")]
    Failed(String),
    /// The signer returned something that is not a P-256 ECDSA signature.
    #[error("the device signer returned an invalid signature: {0}")]
    BadSignature(String),
}

/// The host's signer: a P-256 key that signs SHA-256 digests, and its certificate chain.
///
/// Implemented by the host (Kotlin, Swift, Python through the bindings) or by [`super::SoftwareSigner`].
/// Both calls may block briefly (a hardware key); neither is called on the capture path.
pub trait DeviceSigner: Send + Sync {
    /// Signs a SHA-256 digest with the device key: ECDSA P-256, DER (X9.62) or raw `r || s` (64 bytes).
    fn sign_digest(&self, digest: &[u8; 32]) -> Result<Vec<u8>, SignerError>;
    /// The certificate chain, DER, the device certificate first, without the root.
    fn certificate_chain(&self) -> Result<Vec<Vec<u8>>, SignerError>;
}

/// Most bytes a certificate chain may have: a chain is embedded in every photo, and a hostile or broken
/// host must not make each rendition megabytes larger.
pub const MAX_CHAIN_BYTES: usize = 16 * 1024;
/// Most certificates in a chain.
pub const MAX_CHAIN_CERTIFICATES: usize = 4;

/// Turns an ECDSA P-256 signature, DER or raw, into the raw `r || s` form.
pub fn raw_signature(signature: &[u8]) -> Result<Vec<u8>, SignerError> {
    let parsed = if signature.len() == 64 {
        p256::ecdsa::Signature::from_slice(signature)
    } else {
        p256::ecdsa::Signature::from_der(signature)
    };
    parsed
        .map(|signature| signature.to_bytes().to_vec())
        .map_err(|err| SignerError::BadSignature(err.to_string()))
}

/// Checks a chain against [`MAX_CHAIN_BYTES`] and [`MAX_CHAIN_CERTIFICATES`].
pub fn check_chain(chain: &[Vec<u8>]) -> Result<(), SignerError> {
    let total: usize = chain.iter().map(Vec::len).sum();
    if chain.is_empty() || chain.iter().any(Vec::is_empty) {
        return Err(SignerError::NotProvisioned(
            "the certificate chain is empty".into(),
        ));
    }
    if chain.len() > MAX_CHAIN_CERTIFICATES || total > MAX_CHAIN_BYTES {
        return Err(SignerError::Failed(format!(
            "the certificate chain has {} certificates and {total} bytes (at most {MAX_CHAIN_CERTIFICATES} and \
             {MAX_CHAIN_BYTES})",
            chain.len()
        )));
    }
    Ok(())
}

/// A [`DeviceSigner`] as the `c2pa` crate's `Signer`. The chain is read once; the first signing error is
/// kept so that the caller gets it typed rather than as c2pa's text.
pub struct C2paSigner<'a> {
    device: &'a dyn DeviceSigner,
    chain: Vec<Vec<u8>>,
    failure: Mutex<Option<SignerError>>,
}

impl<'a> C2paSigner<'a> {
    /// Reads the device's chain and checks its size.
    pub fn new(device: &'a dyn DeviceSigner) -> Result<Self, SignerError> {
        let chain = device.certificate_chain()?;
        check_chain(&chain)?;
        Ok(Self {
            device,
            chain,
            failure: Mutex::new(None),
        })
    }

    /// The signing error that made c2pa fail, if that is why it failed.
    pub fn take_failure(&self) -> Option<SignerError> {
        self.failure.lock().ok().and_then(|mut failure| failure.take())
    }
}

impl c2pa::Signer for C2paSigner<'_> {
    fn sign(&self, data: &[u8]) -> c2pa::Result<Vec<u8>> {
        let digest: [u8; 32] = Sha256::digest(data).into();
        let signed = self
            .device
            .sign_digest(&digest)
            .and_then(|signature| raw_signature(&signature));
        signed.map_err(|err| {
            let message = err.to_string();
            if let Ok(mut failure) = self.failure.lock() {
                *failure = Some(err);
            }
            c2pa::Error::OtherError(message.into())
        })
    }

    fn alg(&self) -> c2pa::SigningAlg {
        c2pa::SigningAlg::Es256
    }

    fn certs(&self) -> c2pa::Result<Vec<Vec<u8>>> {
        Ok(self.chain.clone())
    }

    fn reserve_size(&self) -> usize {
        // COSE headers and the 64-byte signature, plus the chain; no time stamp (see the module docs).
        2048 + self.chain.iter().map(Vec::len).sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_and_raw_signatures_become_raw() {
        use p256::ecdsa::{SigningKey, signature::hazmat::PrehashSigner};
        let key = SigningKey::from_slice(&[7u8; 32]).unwrap();
        let signature: p256::ecdsa::Signature = key.sign_prehash(&[1u8; 32]).unwrap();
        let raw = signature.to_bytes().to_vec();
        assert_eq!(raw_signature(&raw).unwrap(), raw);
        assert_eq!(raw_signature(signature.to_der().as_bytes()).unwrap(), raw);
        assert!(matches!(
            raw_signature(b"nonsense"),
            Err(SignerError::BadSignature(_))
        ));
    }

    #[test]
    fn an_empty_or_enormous_chain_is_refused() {
        assert!(check_chain(&[]).is_err());
        assert!(check_chain(&[vec![1; 100]]).is_ok());
        assert!(check_chain(&[vec![1; MAX_CHAIN_BYTES + 1]]).is_err());
        assert!(check_chain(&vec![vec![1; 10]; MAX_CHAIN_CERTIFICATES + 1]).is_err());
    }
}
