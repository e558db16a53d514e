//! The software device signer and the development certificate authority, for the CLI, the emulator, the
//! demo and the tests. A phone uses its hardware key store instead (see `docs/EVIDENCE.md`).
//!
//! Files, owner-only, in `<database>-evidence/`:
//! - `device.key`: the device's P-256 key, PKCS#8 PEM;
//! - `device.pem`: its certificate chain, PEM, the device certificate first (the root left out);
//! - `ca.pem`: the development root, the trust anchor to give `fieldsync evidence verify --trust`;
//! - `ca.key`: the development root's key (to issue more device certificates; never on a real device).

use std::path::{Path, PathBuf};

use p256::ecdsa::SigningKey;
use p256::ecdsa::signature::hazmat::PrehashSigner;
use p256::pkcs8::DecodePrivateKey;

use super::EvidenceError;
use super::signer::{DeviceSigner, SignerError, check_chain};

/// A [`DeviceSigner`] over a key held in memory.
pub struct SoftwareSigner {
    key: SigningKey,
    chain: Vec<Vec<u8>>,
}

impl std::fmt::Debug for SoftwareSigner {
    /// Never the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SoftwareSigner")
            .field("certificates", &self.chain.len())
            .finish_non_exhaustive()
    }
}

/// The folder of the evidence files of the cache at `database`.
pub fn evidence_dir(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push("-evidence");
    PathBuf::from(name)
}

/// Reads the DER certificates of a PEM text (other blocks ignored).
pub fn certificates_from_pem(text: &str) -> Result<Vec<Vec<u8>>, EvidenceError> {
    let blocks = pem::parse_many(text).map_err(|err| EvidenceError::Certificate(err.to_string()))?;
    Ok(blocks
        .into_iter()
        .filter(|block| block.tag() == "CERTIFICATE")
        .map(pem::Pem::into_contents)
        .collect())
}

impl SoftwareSigner {
    /// A signer from a PKCS#8 PEM key and a PEM chain.
    pub fn from_pem(key_pem: &str, chain_pem: &str) -> Result<Self, EvidenceError> {
        let key = SigningKey::from_pkcs8_pem(key_pem)
            .map_err(|err| EvidenceError::Certificate(format!("device key: {err}")))?;
        let chain = certificates_from_pem(chain_pem)?;
        check_chain(&chain)?;
        Ok(Self { key, chain })
    }

    /// Loads `device.key` and `device.pem` from `dir` ([`evidence_dir`]).
    pub fn load(dir: &Path) -> Result<Self, EvidenceError> {
        let read = |name: &str| {
            let path = dir.join(name);
            crate::files::read_regular_text(&path, 64 * 1024, name).map_err(|err| {
                EvidenceError::Certificate(format!(
                    "{} ({err}); run `fieldsync evidence init` first",
                    path.display()
                ))
            })
        };
        Self::from_pem(&read("device.key")?, &read("device.pem")?)
    }
}

impl DeviceSigner for SoftwareSigner {
    fn sign_digest(&self, digest: &[u8; 32]) -> Result<Vec<u8>, SignerError> {
        let signature: p256::ecdsa::Signature = self
            .key
            .sign_prehash(digest)
            .map_err(|err| SignerError::Failed(err.to_string()))?;
        Ok(signature.to_der().as_bytes().to_vec())
    }

    fn certificate_chain(&self) -> Result<Vec<Vec<u8>>, SignerError> {
        Ok(self.chain.clone())
    }
}

/// A development root and a device certificate it issued, all PEM.
pub struct DevCredentials {
    /// The root certificate (the trust anchor).
    pub ca_pem: String,
    /// The root's key.
    pub ca_key_pem: String,
    /// The device certificate.
    pub device_pem: String,
    /// The device key.
    pub device_key_pem: String,
}

impl std::fmt::Debug for DevCredentials {
    /// Never the keys.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevCredentials").finish_non_exhaustive()
    }
}

fn certificate_error(err: rcgen::Error) -> EvidenceError {
    EvidenceError::Certificate(err.to_string())
}

/// Creates a development root (`organisation`) and a certificate for `device_id`, both P-256. The device
/// certificate follows the C2PA signer profile: not a CA, `digitalSignature` only, extended key use
/// `emailProtection` and document signing, authority key identifier, valid for two years.
pub fn create_dev_credentials(device_id: &str, organisation: &str) -> Result<DevCredentials, EvidenceError> {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
        KeyUsagePurpose, PKCS_ECDSA_P256_SHA256,
    };
    let start = time::OffsetDateTime::now_utc() - time::Duration::days(1);
    let ca_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(certificate_error)?;
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(certificate_error)?;
    ca.distinguished_name
        .push(DnType::CommonName, format!("{organisation} development root"));
    ca.distinguished_name.push(DnType::OrganizationName, organisation);
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca.not_before = start;
    ca.not_after = start + time::Duration::days(3650);
    let ca_cert = ca.self_signed(&ca_key).map_err(certificate_error)?;

    let device_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(certificate_error)?;
    let mut device = CertificateParams::new(Vec::<String>::new()).map_err(certificate_error)?;
    device
        .distinguished_name
        .push(DnType::CommonName, format!("fieldsync device {device_id}"));
    device
        .distinguished_name
        .push(DnType::OrganizationName, organisation);
    device.is_ca = IsCa::ExplicitNoCa;
    device.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    // emailProtection and id-kp-documentSigning (1.3.6.1.5.5.7.3.36): both on the C2PA list.
    device.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::EmailProtection,
        ExtendedKeyUsagePurpose::Other(vec![1, 3, 6, 1, 5, 5, 7, 3, 36]),
    ];
    device.use_authority_key_identifier_extension = true;
    device.not_before = start;
    device.not_after = start + time::Duration::days(730);
    let issuer = Issuer::from_params(&ca, &ca_key);
    let device_cert = device
        .signed_by(&device_key, &issuer)
        .map_err(certificate_error)?;
    Ok(DevCredentials {
        ca_pem: ca_cert.pem(),
        ca_key_pem: ca_key.serialize_pem(),
        device_pem: device_cert.pem(),
        device_key_pem: device_key.serialize_pem(),
    })
}

/// Writes [`create_dev_credentials`] into `dir`, owner-only. Refuses to replace an existing device key
/// unless `replace`: photos signed with it could no longer be told from a new device's.
pub fn init_dev(dir: &Path, device_id: &str, organisation: &str, replace: bool) -> Result<(), EvidenceError> {
    if !replace && dir.join("device.key").exists() {
        return Err(EvidenceError::Certificate(format!(
            "{} already has a device key (give --replace to make a new one)",
            dir.display()
        )));
    }
    write_dev(dir, &create_dev_credentials(device_id, organisation)?)
}

/// Writes `credentials` into `dir`, owner-only, each file atomically (temp file, fsync, rename).
pub fn write_dev(dir: &Path, credentials: &DevCredentials) -> Result<(), EvidenceError> {
    let io = |err: crate::Error| EvidenceError::Io(err.to_string());
    crate::files::create_private_dir(dir).map_err(io)?;
    for (name, text) in [
        ("ca.pem", &credentials.ca_pem),
        ("ca.key", &credentials.ca_key_pem),
        ("device.pem", &credentials.device_pem),
        ("device.key", &credentials.device_key_pem),
    ] {
        let path = dir.join(name);
        let temporary = dir.join(format!(".{name}.partial"));
        let write = || -> std::io::Result<()> {
            use std::io::Write;
            let _ = std::fs::remove_file(&temporary);
            let mut file = crate::files::private_file_options()
                .write(true)
                .create_new(true)
                .open(&temporary)?;
            file.write_all(text.as_bytes())?;
            file.sync_all()?;
            std::fs::rename(&temporary, &path)
        };
        write().map_err(|err| EvidenceError::Io(format!("{}: {err}", path.display())))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_software_signer_signs_with_the_dev_device_certificate() {
        let credentials = create_dev_credentials("device-1", "Test Org").unwrap();
        let signer = SoftwareSigner::from_pem(&credentials.device_key_pem, &credentials.device_pem).unwrap();
        let chain = signer.certificate_chain().unwrap();
        assert_eq!(chain.len(), 1);
        let signature = signer.sign_digest(&[3u8; 32]).unwrap();
        let signature = p256::ecdsa::Signature::from_der(&signature).unwrap();
        use p256::ecdsa::signature::hazmat::PrehashVerifier;
        p256::ecdsa::VerifyingKey::from(&signer.key)
            .verify_prehash(&[3u8; 32], &signature)
            .unwrap();
    }

    #[test]
    fn init_refuses_to_replace_a_key_without_being_asked() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("cache.db-evidence");
        init_dev(&folder, "d", "Org", false).unwrap();
        assert!(init_dev(&folder, "d", "Org", false).is_err());
        init_dev(&folder, "d", "Org", true).unwrap();
        SoftwareSigner::load(&folder).unwrap();
    }
}
