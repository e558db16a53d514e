"""Content credentials through the bindings, checked by an independent verifier: photos signed by a host
signer (a Python implementation of the foreign DeviceSigner trait) and by the software signer are relayed to
the emulator, and `c2pa-python` (the C2PA project's own SDK, from PyPI, not fieldsync's code) validates the
relayed renditions against the development root and reads back the values that were captured. Also: a locked
host signer leaves the photo waiting (reason in the upload log), the QA flags, and `verify_photo`."""

import hashlib
import io
import json

import pytest

import fieldsync_ffi as fs
from conftest import CODE, NEAR, field_orders, location_fix, photo_fixtures, run

c2pa = pytest.importorskip("c2pa", reason="c2pa-python is installed by scripts/test-python.sh")

WO1, WO2 = f"{CODE}::WO-1", f"{CODE}::WO-2"
PHOTOS = photo_fixtures()
DSCN0010 = PHOTOS / "gps" / "DSCN0010.jpg"  # taken 2008-10-22T16:28:39Z
DSCN0021 = PHOTOS / "gps" / "DSCN0021.jpg"


class HostSigner(fs.DeviceSigner):
    """The host's key store, as a phone's would be: the key stays on this side (signed with `cryptography`);
    the library hands over SHA-256 digests. `locked` stands for a keystore not unlocked since boot."""

    def __init__(self, key_pem: str, chain_der: list[bytes], locked: bool = False):
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec, utils

        self._key = serialization.load_pem_private_key(key_pem.encode(), password=None)
        self._sign = lambda digest: self._key.sign(digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
        self.chain = chain_der
        self.locked = locked
        self.calls = 0

    def sign_digest(self, digest):
        self.calls += 1
        if self.locked:
            raise fs.FieldSyncError.Internal(reason="keystore locked: the user has not unlocked the device")
        return self._sign(bytes(digest))

    def certificate_chain(self):
        return self.chain


def der_chain(pem: str) -> list[bytes]:
    import base64

    blocks = pem.split("-----BEGIN CERTIFICATE-----")[1:]
    return [base64.b64decode("".join(block.split("-----END CERTIFICATE-----")[0].split())) for block in blocks]


@pytest.fixture
def credentials():
    return fs.create_development_credentials("py-phone", "Python Test Vendor")


@pytest.fixture
def site(linked, fieldsync):
    field_orders(linked, fieldsync)
    return linked


def c2pa_read(data: bytes, trust_pem: str):
    """c2pa-python's reading of a JPEG, trusting `trust_pem`: (validation state, manifest store JSON)."""
    settings = c2pa.Settings.from_dict(
        {
            "verify": {"verify_trust": True, "remote_manifest_fetch": False, "ocsp_fetch": False},
            "trust": {"trust_anchors": trust_pem},
        }
    )
    context = c2pa.Context(settings)
    with c2pa.Reader("image/jpeg", io.BytesIO(data), context=context) as reader:
        return reader.get_validation_state(), json.loads(reader.json())


def active_assertions(store: dict) -> dict:
    manifest = store["manifests"][store["active_manifest"]]
    return {assertion["label"]: assertion["data"] for assertion in manifest["assertions"]}


def relay(fieldsync, emulator, file, project=WO1, evidence="before", fix=None):
    photo = run(fieldsync.add_photo(project, "Grass Cut", evidence, str(file), fix))
    assert photo.state == "pending_qa", photo
    fieldsync.approve_photo(photo.uuid)
    assert run(fieldsync.push_outbox(CODE)).delivered == 1
    return photo, emulator.item_file(photo.uuid)


def check_with_c2pa_python(data, credentials, photo, fix):
    state, store = c2pa_read(data, credentials.ca_pem)
    assert state == "Trusted", json.dumps(store.get("validation_results"), indent=1)
    assertions = active_assertions(store)
    fieldsync_assertion = assertions["com.fieldsync.evidence"]
    assert fieldsync_assertion["photo_uuid"] == photo.uuid
    assert fieldsync_assertion["integration_code"] == CODE
    assert fieldsync_assertion["work_order_number"] == "WO-1"
    assert fieldsync_assertion["task"] == "Grass Cut"
    assert fieldsync_assertion["evidence_type"] == "before"
    assert fieldsync_assertion["original_sha256"] == hashlib.sha256(DSCN0010.read_bytes()).hexdigest()
    position = fieldsync_assertion["location_certification"]["position"]
    assert (position["latitude"], position["longitude"]) == pytest.approx((fix.latitude, fix.longitude))
    exif = assertions["stds.exif"]
    assert exif["exif:DateTimeOriginal"] == photo.capture_time == "2008-10-22T16:28:39Z"
    assert float(exif["exif:GPSHPositioningError"]) == fix.accuracy_m
    actions = json.dumps(assertions.get("c2pa.actions.v2") or assertions["c2pa.actions"])
    assert "c2pa.created" in actions and "digitalCapture" in actions and "c2pa.resized" in actions
    manifest = store["manifests"][store["active_manifest"]]
    assert manifest["signature_info"]["common_name"] == "fieldsync device py-phone"


def test_a_host_signer_signs_what_c2pa_python_validates(site, fieldsync, credentials):
    signer = HostSigner(credentials.device_key_pem, der_chain(credentials.device_pem))
    fieldsync.set_device_signer(signer)
    fix = location_fix(NEAR, accuracy_m=6.0)
    photo, data = relay(fieldsync, site, DSCN0010, fix=fix)
    assert signer.calls == 1
    check_with_c2pa_python(data, credentials, photo, fix)
    # The library's own verifier agrees, and the emulator verified it on arrival.
    verification = fs.verify_photo(data, credentials.ca_pem)
    assert (verification.result, verification.trusted) == ("valid", True)
    item = next(item for item in site.items(file_type="picture") if item["uuid"] == photo.uuid)
    assert item["credentials"]["result"] == "valid"


def test_the_software_signer_signs_what_c2pa_python_validates(site, fieldsync, credentials):
    fieldsync.set_software_signer(credentials.device_key_pem, credentials.device_pem)
    fix = location_fix(NEAR, accuracy_m=6.0)
    photo, data = relay(fieldsync, site, DSCN0010, fix=fix)
    check_with_c2pa_python(data, credentials, photo, fix)
    # One image byte changed: c2pa-python and fieldsync both see it.
    flipped = bytearray(data)
    flipped[-100] ^= 1
    state, _ = c2pa_read(bytes(flipped), credentials.ca_pem)
    assert state == "Invalid"
    verification = fs.verify_photo(bytes(flipped), credentials.ca_pem)
    assert (verification.result, verification.tampered_part) == ("tampered", "image")


def test_a_locked_signer_leaves_the_photo_waiting_with_its_reason(site, fieldsync, credentials):
    signer = HostSigner(credentials.device_key_pem, der_chain(credentials.device_pem), locked=True)
    fieldsync.set_device_signer(signer)
    photo = run(fieldsync.add_photo(WO1, "Grass Cut", "before", str(DSCN0010), None))
    assert photo.state == "processing" and "locked" in photo.message
    [entry] = [entry for entry in fieldsync.upload_log() if entry.id == photo.uuid]
    assert entry.reason.is_waiting_for_signer() and "locked" in entry.reason.error
    signer.locked = False
    photo = run(fieldsync.add_photo(WO2, "Grass Cut", "before", str(DSCN0021), None))
    assert all(p.signed and p.state == "pending_qa" for p in fieldsync.photos(None)), fieldsync.photos(None)


def test_qa_sees_a_reused_photo_and_one_taken_before_assignment(site, fieldsync, listener):
    first = run(fieldsync.add_photo(WO1, "Grass Cut", "before", str(DSCN0010), None))
    assert first.taken_before_assignment, "taken in 2008, long before the order reached the device"
    again = run(fieldsync.add_photo(WO2, "Grass Cut", "before", str(DSCN0010), None))
    assert again.possible_reuse_of == first.uuid and again.possible_reuse_distance == 0
    events = listener.wait_for(lambda events: any(e.is_photo_flagged() and e.uuid == again.uuid for e in events))
    [flagged] = [e for e in events if e.is_photo_flagged() and e.uuid == again.uuid]
    assert "possible_reuse" in flagged.flags and flagged.matching_photo == first.uuid
    other = run(fieldsync.add_photo(WO2, "Grass Cut", "after", str(DSCN0021), None))
    assert other.possible_reuse_of is None
