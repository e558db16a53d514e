//! Evidence end to end: renditions signed by the device's (software) signer are relayed to the emulator,
//! which verifies them; the relayed bytes verify here too; tampering of each kind is reported as what it
//! is; a locked signer leaves the photo waiting, never lost; reused photos are flagged across projects.

use std::path::Path;
use std::sync::Arc;

use fieldsync_core::evidence::software::{DevCredentials, create_dev_credentials};
use fieldsync_core::evidence::{
    DeviceSigner, Outcome, PhotoEvidence, SignerError, SoftwareSigner, TamperedPart, embed, verify,
};
use fieldsync_core::model::NewIntegration;
use fieldsync_core::outbox::NetworkState;
use fieldsync_core::photo::{EvidenceType, PhotoState};
use fieldsync_tests::world::{CODE, Device, HOME, fix, fixture_photo, order};
use serde_json::Value;

fn signer_of(credentials: &DevCredentials) -> Arc<SoftwareSigner> {
    Arc::new(SoftwareSigner::from_pem(&credentials.device_key_pem, &credentials.device_pem).unwrap())
}

/// An emulator trusting `credentials`' root, orders 1 and 2, and a device with auto relay signing with
/// `credentials`, after a Full Import.
fn world(credentials: &DevCredentials) -> (fieldsync_provider::RunningProvider, Device) {
    let provider = fieldsync_provider::start(fieldsync_provider::ProviderConfig {
        trust_anchors: Some(credentials.ca_pem.clone()),
        ..Default::default()
    })
    .unwrap();
    let admin = provider.admin();
    admin
        .create_user(fieldsync_tests::world::USER, fieldsync_tests::world::PASSWORD, "")
        .unwrap();
    for number in ["1", "2"] {
        admin.create_work_order(order(number)).unwrap();
    }
    let mut new = NewIntegration::new(CODE, provider.base_url(), fieldsync_tests::world::USER);
    new.auto_relay = true;
    let device = Device::with_photos(new, |engine| engine);
    device.store.set_device_signer(Some(signer_of(credentials)));
    device.full_import();
    (provider, device)
}

/// Removes every APP11 (JUMBF, where C2PA lives) segment before the scan.
fn strip_manifest(jpeg: &[u8]) -> Vec<u8> {
    let mut out = jpeg[..2].to_vec();
    let mut at = 2;
    while at + 4 <= jpeg.len() && jpeg[at] == 0xFF {
        let marker = jpeg[at + 1];
        if marker == 0xDA {
            break;
        }
        let length = usize::from(u16::from_be_bytes([jpeg[at + 2], jpeg[at + 3]]));
        if marker != 0xEB {
            out.extend_from_slice(&jpeg[at..at + 2 + length]);
        }
        at += 2 + length;
    }
    out.extend_from_slice(&jpeg[at..]);
    out
}

/// The APP11 segments of a JPEG.
fn manifest_segments(jpeg: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut at = 2;
    while at + 4 <= jpeg.len() && jpeg[at] == 0xFF && jpeg[at + 1] != 0xDA {
        let length = usize::from(u16::from_be_bytes([jpeg[at + 2], jpeg[at + 3]]));
        if jpeg[at + 1] == 0xEB {
            out.extend_from_slice(&jpeg[at..at + 2 + length]);
        }
        at += 2 + length;
    }
    out
}

fn relay_one(device: &Device, number: &str, file: &Path) -> String {
    let photo = device
        .add_photo(
            number,
            file,
            EvidenceType::Before,
            Some(fix(HOME.0, HOME.1, 1_767_225_600)),
        )
        .unwrap();
    assert!(photo.signed, "{photo:?}");
    let report = device.engine.push_outbox(CODE, true).unwrap();
    assert_eq!(report.delivered, 1, "{report:?}");
    photo.uuid
}

#[test]
fn a_relayed_rendition_verifies_with_the_values_captured() {
    let credentials = create_dev_credentials("phone-1", "Test Vendor").unwrap();
    let (provider, device) = world(&credentials);
    let uuid = relay_one(&device, "1", &fixture_photo("gps/DSCN0010.jpg"));
    let admin = provider.admin();
    let item = admin
        .received_pictures()
        .unwrap()
        .into_iter()
        .find(|item| item.uuid == uuid)
        .unwrap();
    let emulator = item.credentials.expect("the emulator verified the picture");
    assert_eq!(emulator["result"], "valid", "{emulator}");
    assert_eq!(emulator["trusted"], true);
    assert_eq!(emulator["fieldsync"]["photo_uuid"], uuid.as_str());
    assert_eq!(item.metadata["contentCredentials"], true);

    let bytes = admin.item_file(&uuid).unwrap().unwrap();
    // What was relayed is what is stored: a retry sends the same bytes.
    let stored = device
        .photo_files()
        .read(
            fieldsync_core::photo::files::Kind::Rendition,
            &device.store.photo_upload(&uuid).unwrap().rendition_sha256,
        )
        .unwrap();
    assert_eq!(stored, bytes);
    let verification = verify(&bytes, Some(&credentials.ca_pem));
    assert_eq!(
        verification.outcome,
        Outcome::Valid { trusted: true },
        "{verification:?}"
    );
    let photo = device.store.photo(&uuid).unwrap();
    let fieldsync = verification.assertion("com.fieldsync.evidence").unwrap();
    assert_eq!(fieldsync["photo_uuid"], uuid.as_str());
    assert_eq!(fieldsync["work_order_number"], "1");
    assert_eq!(fieldsync["integration_code"], CODE);
    assert_eq!(fieldsync["task"], "Lawn Cut");
    assert_eq!(fieldsync["evidence_type"], "before");
    assert_eq!(fieldsync["original_sha256"], photo.sha256.as_str());
    assert_eq!(
        fieldsync["location_certification"]["position_source"],
        "device_fix"
    );
    let exif = verification.assertion("stds.exif").unwrap();
    assert_eq!(
        exif["exif:DateTimeOriginal"],
        photo.capture_time.clone().unwrap().as_str()
    );
    assert!(exif["exif:GPSLatitude"].as_str().unwrap().ends_with('N'));
    let actions = verification
        .assertion("c2pa.actions.v2")
        .or(verification.assertion("c2pa.actions"));
    let actions = actions.unwrap().to_string();
    assert!(
        actions.contains("c2pa.created") && actions.contains("digitalCapture"),
        "{actions}"
    );
    assert!(actions.contains("c2pa.resized"), "{actions}");
    assert_eq!(verification.signer.as_deref(), Some("fieldsync device phone-1"));

    // Integrity alone, without the anchor: valid, trust not checked.
    assert_eq!(verify(&bytes, None).outcome, Outcome::Valid { trusted: false });
}

#[test]
fn each_kind_of_tampering_is_reported_as_what_it_is() {
    let credentials = create_dev_credentials("phone-1", "Test Vendor").unwrap();
    let (provider, device) = world(&credentials);
    let first = relay_one(&device, "1", &fixture_photo("gps/DSCN0010.jpg"));
    let second = relay_one(&device, "2", &fixture_photo("gps/DSCN0021.jpg"));
    let admin = provider.admin();
    let bytes = admin.item_file(&first).unwrap().unwrap();
    let other = admin.item_file(&second).unwrap().unwrap();
    let anchors = Some(credentials.ca_pem.as_str());

    // One image byte.
    let mut flipped = bytes.clone();
    let at = flipped.len() - 100;
    flipped[at] ^= 0x01;
    assert_eq!(
        verify(&flipped, anchors).outcome,
        Outcome::Tampered {
            part: TamperedPart::Image
        }
    );

    // One assertion value: the photo UUID inside the fieldsync assertion.
    let position = bytes
        .windows(first.len())
        .position(|window| window == first.as_bytes())
        .expect("the assertion holds the UUID");
    let mut changed = bytes.clone();
    changed[position] = if changed[position] == b'0' { b'1' } else { b'0' };
    let verification = verify(&changed, anchors);
    assert_eq!(
        verification.outcome,
        Outcome::Tampered {
            part: TamperedPart::Assertion {
                label: "com.fieldsync.evidence".into()
            }
        },
        "{:?}",
        verification.failures
    );

    // The manifest stripped.
    assert_eq!(
        verify(&strip_manifest(&bytes), anchors).outcome,
        Outcome::Unsigned
    );

    // The manifest moved onto another photo.
    let stripped_other = strip_manifest(&other);
    let mut moved = stripped_other[..2].to_vec();
    moved.extend_from_slice(&manifest_segments(&bytes));
    moved.extend_from_slice(&stripped_other[2..]);
    assert_eq!(
        verify(&moved, anchors).outcome,
        Outcome::Tampered {
            part: TamperedPart::Image
        }
    );

    // Signed again by another key (another organisation's root): intact, but not ours.
    let intruder = create_dev_credentials("phone-x", "Someone Else").unwrap();
    let evidence: PhotoEvidence = sample_evidence(&first);
    let resigned = embed(&strip_manifest(&bytes), &evidence, &*signer_of(&intruder)).unwrap();
    assert_eq!(verify(&resigned, anchors).outcome, Outcome::Untrusted);
    assert_eq!(
        verify(&resigned, Some(&intruder.ca_pem)).outcome,
        Outcome::Valid { trusted: true }
    );

    // Not a JPEG.
    assert!(matches!(
        verify(b"%PDF-1.7", anchors).outcome,
        Outcome::NotSupported { .. }
    ));
}

fn sample_evidence(uuid: &str) -> PhotoEvidence {
    use fieldsync_core::evidence::manifest::{LocationCertification, TimeCertification};
    PhotoEvidence {
        photo_uuid: uuid.into(),
        integration_code: CODE.into(),
        work_order_number: "1".into(),
        task: "Lawn Cut".into(),
        evidence_type: "before".into(),
        file_name: "x.jpg".into(),
        original_sha256: "00".repeat(32),
        device_id: "phone-x".into(),
        camera_model: None,
        capture_time: None,
        gps: None,
        gps_accuracy_m: None,
        checkin_distance_m: None,
        location: LocationCertification {
            position: None,
            position_source: None,
            property: None,
            radius_m: 200.0,
            distance_m: None,
            certified: false,
        },
        time: TimeCertification {
            capture_time: None,
            signed_at: "2026-01-01T00:00:00Z".into(),
            window_s: 43_200,
            certified_at_signing: false,
        },
    }
}

/// A keystore that is locked: its certificate is readable, its key is not usable.
struct Locked(Vec<Vec<u8>>);

impl DeviceSigner for Locked {
    fn sign_digest(&self, _digest: &[u8; 32]) -> Result<Vec<u8>, SignerError> {
        Err(SignerError::Locked(
            "the user has not unlocked the device since boot".into(),
        ))
    }

    fn certificate_chain(&self) -> Result<Vec<Vec<u8>>, SignerError> {
        Ok(self.0.clone())
    }
}

#[test]
fn a_locked_signer_leaves_the_photo_waiting_with_its_reason_never_lost() {
    let credentials = create_dev_credentials("phone-1", "Test Vendor").unwrap();
    let (provider, device) = world(&credentials);
    let chain = signer_of(&credentials).certificate_chain().unwrap();
    device.store.set_device_signer(Some(Arc::new(Locked(chain))));
    let photo = device
        .add_photo(
            "1",
            &fixture_photo("before_front.jpg"),
            EvidenceType::Before,
            None,
        )
        .unwrap();
    assert_eq!(photo.state, PhotoState::Processing);
    assert!(photo.message.as_deref().unwrap().contains("locked"), "{photo:?}");
    let log = device.store.upload_log(NetworkState::Unmetered).unwrap();
    let reason = log[0].waits_for.clone().unwrap();
    assert_eq!(reason.code(), "waiting_for_signer");
    assert!(reason.to_string().contains("device key is locked"), "{reason}");
    assert_eq!(device.engine.push_outbox(CODE, true).unwrap().delivered, 0);
    assert!(provider.admin().received_pictures().unwrap().is_empty());

    // Unlocked: the next processing pass signs it, and it goes.
    device.store.set_device_signer(Some(signer_of(&credentials)));
    device.store.retry_evidence_waits().unwrap();
    let settings = fieldsync_core::photo::default_settings();
    device
        .store
        .process_pending_photos(device.photo_files(), &settings)
        .unwrap();
    let photo = device.store.photo(&photo.uuid).unwrap();
    assert!(photo.signed && photo.state == PhotoState::Queued, "{photo:?}");
    assert_eq!(device.engine.push_outbox(CODE, true).unwrap().delivered, 1);
    let item = &provider.admin().received_pictures().unwrap()[0];
    assert_eq!(item.credentials.as_ref().unwrap()["result"], "valid");
}

#[test]
fn a_photo_without_a_signer_is_relayed_unsigned_and_the_emulator_says_so() {
    let credentials = create_dev_credentials("phone-1", "Test Vendor").unwrap();
    let (provider, device) = world(&credentials);
    device.store.set_device_signer(None);
    let photo = device
        .add_photo(
            "1",
            &fixture_photo("before_front.jpg"),
            EvidenceType::Before,
            None,
        )
        .unwrap();
    assert!(!photo.signed);
    device.engine.push_outbox(CODE, true).unwrap();
    let item = &provider.admin().received_pictures().unwrap()[0];
    assert_eq!(item.credentials.as_ref().unwrap()["result"], "unsigned");
    assert_eq!(item.metadata["contentCredentials"], Value::Bool(false));
}

/// Decodes a JPEG to RGB.
fn decode(jpeg: &[u8]) -> (Vec<u8>, usize, usize) {
    let options = zune_core::options::DecoderOptions::default()
        .jpeg_set_out_colorspace(zune_core::colorspace::ColorSpace::RGB);
    let mut decoder =
        zune_jpeg::JpegDecoder::new_with_options(zune_core::bytestream::ZCursor::new(jpeg), options);
    let pixels = decoder.decode().unwrap();
    let (width, height) = decoder.dimensions().unwrap();
    (pixels, width, height)
}

fn encode(pixels: &[u8], width: usize, height: usize, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, quality)
        .encode(pixels, width as u16, height as u16, jpeg_encoder::ColorType::Rgb)
        .unwrap();
    out
}

/// The photo re-encoded (quality 60), resized to half and cropped by 5 % on the left and top, each as
/// another photo might reach a second job.
fn variants(original: &[u8]) -> Vec<(&'static str, Vec<u8>)> {
    let (pixels, width, height) = decode(original);
    let reencoded = encode(&pixels, width, height, 60);
    let resized = fieldsync_core::photo::process::process(
        original,
        &fieldsync_core::photo::process::ProcessSettings {
            long_edge: (width.max(height) / 2) as u32,
            quality: 75,
            ..Default::default()
        },
    )
    .unwrap()
    .rendition;
    let (left, top) = (width / 20, height / 20);
    let mut cropped = Vec::with_capacity(pixels.len());
    for y in top..height {
        cropped.extend_from_slice(&pixels[(y * width + left) * 3..(y + 1) * width * 3]);
    }
    let cropped = encode(&cropped, width - left, height - top, 85);
    vec![
        ("re-encoded", reencoded),
        ("resized", resized),
        ("cropped", cropped),
    ]
}

#[test]
fn a_reused_photo_is_flagged_in_another_project_and_a_distinct_one_is_not() {
    let credentials = create_dev_credentials("phone-1", "Test Vendor").unwrap();
    let (_provider, device) = world(&credentials);
    let original_path = fixture_photo("gps/DSCN0010.jpg");
    let original = device
        .add_photo("1", &original_path, EvidenceType::Before, None)
        .unwrap();
    assert_eq!(original.possible_reuse, None);
    // Taken in 2008, long before the order reached the device.
    assert!(original.taken_before_assignment);
    let bytes = std::fs::read(&original_path).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // The same photo again in the same project, not relayed yet: not a reuse (a retake of a view).
    let path = dir.path().join("again.jpg");
    std::fs::write(&path, encode(&decode(&bytes).0, 640, 480, 70)).unwrap();
    let again = device.add_photo("1", &path, EvidenceType::Before, None).unwrap();
    assert_eq!(again.possible_reuse, None);
    for (name, variant) in variants(&bytes) {
        let path = dir.path().join(format!("{name}.jpg"));
        std::fs::write(&path, variant).unwrap();
        let photo = device.add_photo("2", &path, EvidenceType::Before, None).unwrap();
        let reuse = photo
            .possible_reuse
            .unwrap_or_else(|| panic!("{name} is not flagged"));
        println!("{name}: flagged, {} bits from the original", reuse.distance);
        assert!(
            [original.uuid.as_str(), again.uuid.as_str()].contains(&reuse.matching_photo.as_str()),
            "{name}"
        );
        // The flag travels with the item.
        let item = device.store.photo_upload(&photo.uuid).unwrap().item;
        assert_eq!(
            item["possibleReuse"]["matchingPhoto"],
            original.uuid.as_str(),
            "{name}"
        );
    }
    let item = device.store.photo_upload(&original.uuid).unwrap().item;
    assert_eq!(item["takenBeforeAssignment"], true);
    // A different photo of the same kind of scene (same camera, same town) in the other project.
    let other = device
        .add_photo("2", &fixture_photo("gps/DSCN0021.jpg"), EvidenceType::After, None)
        .unwrap();
    assert_eq!(other.possible_reuse, None);
}

/// The false-positive rate over the fixture set: every pair of distinct photos (the nine `gps/` photos, two
/// phone photos, and one of each orientation scene), hashed through the real pipeline's thumbnail.
#[test]
fn distinct_fixture_photos_do_not_match() {
    use fieldsync_core::evidence::phash::{MATCH_DISTANCE, distance, perceptual_hash};
    let root = fieldsync_tests::photos::photo_fixtures().unwrap();
    let mut files: Vec<_> = std::fs::read_dir(root.join("gps"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    for extra in [
        "phone/HMD_Nokia_8.3_5G.jpg",
        "phone/jolla.jpg",
        "orientation/landscape_1.jpg",
        "orientation/portrait_1.jpg",
    ] {
        files.push(root.join(extra));
    }
    let hashes: Vec<u64> = files
        .iter()
        .map(|file| {
            let processed = fieldsync_core::photo::process::process_file(file, &Default::default()).unwrap();
            perceptual_hash(&processed.thumbnail).unwrap()
        })
        .collect();
    let mut pairs = 0;
    let mut matches = Vec::new();
    let mut nearest = u32::MAX;
    for i in 0..hashes.len() {
        for j in i + 1..hashes.len() {
            pairs += 1;
            let d = distance(hashes[i], hashes[j]);
            nearest = nearest.min(d);
            if d <= MATCH_DISTANCE {
                matches.push((files[i].clone(), files[j].clone(), d));
            }
        }
    }
    println!(
        "false positives: {} of {pairs} pairs of distinct photos ({} photos); nearest distinct pair {nearest} bits, threshold {MATCH_DISTANCE}",
        matches.len(),
        hashes.len()
    );
    assert!(matches.is_empty(), "{matches:?}");
}

#[test]
fn a_check_in_item_carries_a_cose_signature_over_its_fields() {
    use fieldsync_core::evidence::detached::{ItemOutcome, verify_item};
    let credentials = create_dev_credentials("phone-1", "Test Vendor").unwrap();
    let (provider, device) = world(&credentials);
    device.check_in("1", fieldsync_core::model::now()).unwrap();
    assert_eq!(device.engine.push_outbox(CODE, true).unwrap().delivered, 1);
    let item = provider.admin().received_checkins().unwrap().remove(0).metadata;
    assert_eq!(
        verify_item(&item, Some(&credentials.ca_pem)),
        ItemOutcome::Valid { trusted: true },
        "{item}"
    );
    let mut changed = item.clone();
    changed["key2"] = Value::String("2".into());
    assert_eq!(
        verify_item(&changed, Some(&credentials.ca_pem)),
        ItemOutcome::Tampered
    );
}
