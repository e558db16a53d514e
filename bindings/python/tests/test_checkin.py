"""Check-ins through the bindings: the host's LocationSource (a Python class) or an explicit fix, the
certification rules, typed errors that write nothing, and offline delivery to the emulator exactly once with
the original times."""

import re
import threading
import time

import pytest

import fieldsync_ffi as fs
from conftest import CODE, HOME, NEAR, field_orders, location_fix, now_ms, rfc3339, run

Kind, State = fs.OutboxKind, fs.OutboxState

WO1, WO2, WO3, WO4 = (f"{CODE}::WO-{n}" for n in (1, 2, 3, 4))
DEAD_URL = "http://127.0.0.1:9/api/v2"  # nothing listens there: the provider is unreachable
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.fixture
def site(linked, fieldsync):
    field_orders(linked, fieldsync)
    return linked


class GpsTrack(fs.LocationSource):
    """The host's location service: a list of fixes, each arriving `delay` seconds after it is asked for.
    When none is left (or the next comes too late) it waits out the timeout and answers None, as a real
    location service does."""

    def __init__(self, *fixes, delay=0.0):
        self._lock = threading.Lock()
        self.pending = list(fixes)
        self.delay = delay
        self.timeouts: list[int] = []
        self.threads: list[int] = []
        self._never = threading.Event()

    def next_fix(self, timeout_ms):
        with self._lock:
            self.timeouts.append(timeout_ms)
            self.threads.append(threading.get_ident())
            fix = self.pending.pop(0) if self.pending else None
        if fix is None or self.delay * 1000 > timeout_ms:
            self._never.wait(timeout_ms / 1000)
            return None
        self._never.wait(self.delay)
        return fix


class FailingSource(fs.LocationSource):
    def __init__(self, error):
        self.error = error
        self.calls = 0

    def next_fix(self, timeout_ms):
        self.calls += 1
        raise self.error


def checkins_at(emulator):
    return emulator.items(file_type="checkin")


# ----- the host's location source -----


def test_check_in_takes_the_first_good_enough_fix_from_the_hosts_location_source(site, fieldsync):
    track = GpsTrack(
        location_fix((HOME[0] + 0.0005, HOME[1]), accuracy_m=65.0),
        location_fix((HOME[0] + 0.0003, HOME[1]), accuracy_m=25.0),
        location_fix(NEAR, accuracy_m=4.0),
        location_fix(HOME, accuracy_m=1.0),  # never asked for: 4 m was good enough
    )

    check_in = run(fieldsync.check_in(WO1, track, 5_000, 10.0, "B-7731", "jane"))

    assert UUID.match(check_in.uuid), check_in.uuid
    assert (check_in.project, check_in.certified, check_in.reasons, check_in.state) == (WO1, True, [], State.QUEUED)
    assert check_in.distance_m == pytest.approx(11.1, abs=0.5)
    assert len(track.timeouts) == 3 and len(track.pending) == 1
    assert all(0 < timeout <= 5_000 for timeout in track.timeouts), track.timeouts
    assert threading.get_ident() not in track.threads, "the source is called from a library worker thread"
    [entry] = fieldsync.outbox(CODE)
    assert (entry.id, entry.project, entry.kind, entry.state, entry.attempts) == (check_in.uuid, WO1, Kind.CHECK_IN, State.QUEUED, 0)

    [outcome] = run(fieldsync.sync(3600))
    assert (outcome.code, outcome.delivered, outcome.retrying, outcome.error) == (CODE, 1, 0, None)
    [item] = checkins_at(site)
    assert (item["uuid"], item["workOrderNumber"], item["deliveries"]) == (check_in.uuid, "WO-1", 1)
    metadata = item["metadata"]
    assert metadata["gpsAccuracy"] == 4.0, "the fix that stopped the capture is the one recorded"
    position = (metadata["gpsLatitude"], metadata["gpsLongitude"], metadata["gpsAltitude"])
    assert position == pytest.approx((NEAR[0], NEAR[1], 182.0), abs=1e-9)
    assert (metadata["checkInId"], metadata["createdBySubUser"], metadata["deviceId"]) == ("B-7731", "jane", "pytest-device")
    assert metadata["csrCertifiedLocation"] is True and metadata["certificationReasons"] == []
    assert fieldsync.outbox(CODE) == []


def test_when_the_budget_runs_out_the_most_accurate_fix_is_used(site, fieldsync):
    track = GpsTrack(
        location_fix((float("nan"), HOME[1])),  # unusable fixes are skipped
        location_fix((0.0, 0.0)),
        location_fix(NEAR, accuracy_m=80.0),
        location_fix(NEAR, accuracy_m=70.0),
        location_fix(NEAR, accuracy_m=75.0),
    )
    started = time.monotonic()

    check_in = run(fieldsync.check_in(WO1, track, 400, 10.0, None, None))

    assert time.monotonic() - started >= 0.35, "it waited for a better fix until the budget was spent"
    assert len(track.timeouts) == 6 and track.timeouts[-1] <= 400
    assert not check_in.certified
    assert check_in.reasons == ["accuracy 70 m is worse than the 50 m limit"]
    assert [entry.id for entry in fieldsync.outbox(CODE)] == [check_in.uuid], "recorded, not certified"


@pytest.mark.parametrize(
    "fixes",
    [(), (location_fix((float("nan"), 1.0)), location_fix((0.0, 0.0)), location_fix((91.0, 1.0)))],
    ids=["silent", "only-unusable-fixes"],
)
def test_no_fix_in_time_is_invalid_input_and_writes_nothing(site, fieldsync, fixes):
    track = GpsTrack(*fixes)
    started = time.monotonic()

    with pytest.raises(fs.FieldSyncError.InvalidInput) as caught:
        run(fieldsync.check_in(WO1, track, 300, 10.0, None, None))

    elapsed = time.monotonic() - started
    assert "no location fix arrived in time" in caught.value.reason
    assert 0.25 <= elapsed < 5, elapsed
    assert track.timeouts and all(timeout <= 300 for timeout in track.timeouts)
    assert fieldsync.outbox(CODE) == []


@pytest.mark.parametrize(
    ("error", "expected", "reason"),
    [
        (fs.FieldSyncError.InvalidInput("location permission denied"), fs.FieldSyncError.InvalidInput, "^location permission denied$"),
        # A host callback that fails unexpectedly is `Internal` (a bug in the host), as documented; it used
        # to come back as `InvalidInput` ("invalid location: internal: ...").
        (RuntimeError("GPS chip on fire"), fs.FieldSyncError.Internal, "a host callback failed: .*GPS chip on fire"),
    ],
    ids=["typed", "unexpected"],
)
def test_a_failing_location_source_gives_back_its_error_and_writes_nothing(site, fieldsync, error, expected, reason):
    source = FailingSource(error)

    with pytest.raises(fs.FieldSyncError) as caught:
        run(fieldsync.check_in(WO1, source, 1_000, 10.0, None, None))

    assert type(caught.value) is expected, repr(caught.value)
    assert re.search(reason, caught.value.reason), caught.value.reason
    assert source.calls == 1
    assert fieldsync.outbox(CODE) == []


# ----- explicit fixes and the rules -----


def test_explicit_fixes_are_certified_or_recorded_uncertified_per_the_rules(site, fieldsync):
    now = now_ms()
    cases = [
        # (fix, certified, reason pattern, distance)
        (location_fix(NEAR, at_ms=now), True, None, 11.1),
        (location_fix((HOME[0] + 0.01, HOME[1]), at_ms=now), False, r"^111\d m from the property, outside the 200 m geofence$", 1111.0),
        (location_fix(NEAR, accuracy_m=80.0, at_ms=now), False, r"^accuracy 80 m is worse than the 50 m limit$", 11.1),
        (location_fix(NEAR, at_ms=now - 600_000), False, r"^the fix is 60\d s old \(limit 120 s\)$", 11.1),
        (location_fix(NEAR, at_ms=now + 900_000), False, r"^the fix time is (89\d|900) s off the device clock \(limit 300 s\)$", 11.1),
        (location_fix(NEAR, at_ms=now, is_mock=True), False, r"^the OS flagged the location as mocked$", 11.1),
    ]

    recorded = [fieldsync.check_in_with_fix(WO1, fix, None, None) for fix, *_ in cases]

    for check_in, (_, certified, reason, distance) in zip(recorded, cases):
        assert (check_in.certified, check_in.state, check_in.project) == (certified, State.QUEUED, WO1)
        assert check_in.distance_m == pytest.approx(distance, abs=1.0)
        if reason is None:
            assert check_in.reasons == []
        else:
            assert len(check_in.reasons) == 1 and re.match(reason, check_in.reasons[0]), check_in.reasons
    assert [entry.id for entry in fieldsync.outbox(CODE)] == [check_in.uuid for check_in in recorded]

    # Never silently accepted: the provider gets each with its verdict and reasons.
    [outcome] = run(fieldsync.sync(3600))
    assert (outcome.delivered, outcome.error) == (len(cases), None)
    received = {item["uuid"]: item["metadata"] for item in checkins_at(site)}
    assert set(received) == {check_in.uuid for check_in in recorded}
    for check_in in recorded:
        assert received[check_in.uuid]["csrCertifiedLocation"] is check_in.certified
        assert received[check_in.uuid]["certificationReasons"] == check_in.reasons


def test_a_project_without_coordinates_is_unverifiable_until_the_host_geocodes_it(site, fieldsync):
    unverifiable = fieldsync.check_in_with_fix(WO3, location_fix(), None, None)
    assert not unverifiable.certified and unverifiable.distance_m is None
    assert unverifiable.reasons == ["the project has no coordinates: location not verifiable"]

    fieldsync.set_project_location(WO3, *HOME)
    geocoded = fieldsync.check_in_with_fix(WO3, location_fix(), None, None)

    assert geocoded.certified and geocoded.reasons == []
    assert geocoded.distance_m == pytest.approx(11.1, abs=0.5)
    with pytest.raises(fs.FieldSyncError.InvalidInput):
        fieldsync.set_project_location(WO3, 95.0, HOME[1])
    with pytest.raises(fs.FieldSyncError.InvalidInput):
        fieldsync.set_project_location("WO-3", *HOME)
    with pytest.raises(fs.FieldSyncError.NotFound):
        fieldsync.set_project_location(f"{CODE}::WO-404", *HOME)


def test_the_saved_check_in_id_is_used_when_a_check_in_gives_none(site, fieldsync):
    fieldsync.set_check_in_badge("B-7731")
    saved = fieldsync.check_in_with_fix(WO1, location_fix(), None, "jane")
    explicit = fieldsync.check_in_with_fix(WO1, location_fix(), "B-0042", "jane")

    run(fieldsync.push_outbox(CODE))

    received = {item["uuid"]: item["metadata"]["checkInId"] for item in checkins_at(site)}
    assert received == {saved.uuid: "B-7731", explicit.uuid: "B-0042"}


# ----- errors: nothing written -----


def bad_fix(**fields):
    fix = location_fix()
    for name, value in fields.items():
        setattr(fix, name, value)
    return fix


@pytest.mark.parametrize(
    ("project", "fix", "badge", "error", "reason"),
    [
        ("", location_fix(), None, fs.FieldSyncError.InvalidInput, "project id"),
        ("WO-1", location_fix(), None, fs.FieldSyncError.InvalidInput, "project id"),
        (f"{CODE}::", location_fix(), None, fs.FieldSyncError.InvalidInput, "project id"),
        (WO1, bad_fix(latitude=float("nan")), None, fs.FieldSyncError.InvalidInput, "latitude"),
        (WO1, bad_fix(latitude=91.0), None, fs.FieldSyncError.InvalidInput, "latitude"),
        (WO1, bad_fix(longitude=-180.5), None, fs.FieldSyncError.InvalidInput, "longitude"),
        (WO1, bad_fix(longitude=float("inf")), None, fs.FieldSyncError.InvalidInput, "longitude"),
        (WO1, bad_fix(latitude=0.0, longitude=0.0), None, fs.FieldSyncError.InvalidInput, "0,0"),
        (WO1, bad_fix(accuracy_m=-3.0), None, fs.FieldSyncError.InvalidInput, "accuracy"),
        (WO1, bad_fix(altitude_m=float("nan")), None, fs.FieldSyncError.InvalidInput, "altitude"),
        (WO1, location_fix(), "  ", fs.FieldSyncError.InvalidInput, "check-in ID"),
        (WO1, location_fix(), "B" * 65, fs.FieldSyncError.InvalidInput, "check-in ID"),
        (f"{CODE}::WO-404", location_fix(), None, fs.FieldSyncError.NotFound, "WO-404"),
        ("NOPE::WO-1", location_fix(), None, fs.FieldSyncError.NotFound, "NOPE"),
        (WO4, location_fix(), None, fs.FieldSyncError.Conflict, "closed"),
    ],
)
def test_a_bad_check_in_is_a_typed_error_and_writes_nothing(site, fieldsync, project, fix, badge, error, reason):
    fieldsync.close_project(WO4)

    with pytest.raises(error) as caught:
        fieldsync.check_in_with_fix(project, fix, badge, None)

    assert reason in caught.value.reason, caught.value.reason
    if error is fs.FieldSyncError.Conflict:
        assert caught.value.kind == fs.ConflictKind.PROJECT_CLOSED
    assert fieldsync.outbox(CODE) == []


def test_a_bad_project_id_is_refused_before_the_location_source_is_asked(site, fieldsync):
    track = GpsTrack(location_fix())
    with pytest.raises(fs.FieldSyncError.InvalidInput):
        run(fieldsync.check_in("not-a-project", track, 1_000, 10.0, None, None))
    assert track.timeouts == []
    with pytest.raises(fs.FieldSyncError.NotFound):
        run(fieldsync.check_in(f"{CODE}::WO-404", GpsTrack(location_fix()), 1_000, 10.0, None, None))
    assert fieldsync.outbox(CODE) == []


def test_a_project_requiring_a_check_in_cannot_be_completed_before_one(site, fieldsync):
    site.set_options("WO-1", {"check_in_required": True})
    run(fieldsync.refresh(CODE, fs.RefreshMode.CHANGES))
    complete = fs.ProjectEdit(status="Complete")

    with pytest.raises(fs.FieldSyncError.CompletionBlocked) as blocked:
        fieldsync.edit_project(WO1, complete)
    assert blocked.value.unmet == [fs.UnmetRequirement(task=None, kind=fs.RequirementKind.CHECK_IN, evidence=None, have=0, need=1)]
    assert fieldsync.outbox(CODE) == []

    check_in = fieldsync.check_in_with_fix(WO1, location_fix(), None, None)
    assert fieldsync.edit_project(WO1, complete).status == "Complete"
    assert [(entry.id, entry.kind) for entry in fieldsync.outbox(CODE)][0] == (check_in.uuid, Kind.CHECK_IN)


# ----- offline, then delivered exactly once -----


def test_offline_check_ins_are_delivered_once_in_order_with_their_original_times(site, fieldsync):
    fieldsync.edit_integration(CODE, fs.IntegrationEdit(base_url=DEAD_URL), None, None)
    taken = int(time.time()) - 100  # fixes taken a while ago (still fresh enough to certify)
    plan = [(WO1, taken), (WO3, taken + 10), (WO1, taken + 20)]
    recorded = []
    for project, at in plan:
        before = int(time.time())
        check_in = fieldsync.check_in_with_fix(project, location_fix(at_ms=at * 1000 + 250), "B-7731", None)
        recorded.append((check_in, before, int(time.time())))

    [offline] = run(fieldsync.sync(3600))
    # The first attempt fails to connect (hyper words it "could not connect" or, racing the refused connection,
    # "the connection failed: send failed because receiver is gone"): delivery stops there until the next sync.
    # Projects relay in parallel, so the first entry of each project (WO-1, WO-3) may have been in flight.
    assert (offline.delivered, offline.report) == (0, None) and offline.retrying in (1, 2), offline
    assert isinstance(offline.error, fs.FieldSyncError.Network), repr(offline.error)
    assert offline.error.reason.startswith("uploadPictures: "), offline.error.reason
    assert [entry.id for entry in fieldsync.outbox(CODE)] == [check_in.uuid for check_in, *_ in recorded], "nothing lost"
    assert checkins_at(site) == []

    fieldsync.edit_integration(CODE, fs.IntegrationEdit(base_url=site.base_url), None, None)
    [online] = run(fieldsync.sync(3600))

    assert (online.delivered, online.retrying, online.needs_attention, online.error) == (3, 0, 0, None)
    received = checkins_at(site)
    by_uuid = {item["uuid"]: item for item in received}
    assert sorted(by_uuid) == sorted(check_in.uuid for check_in, *_ in recorded) and len(received) == 3
    wo1 = [item["uuid"] for item in received if item["workOrderNumber"] == "WO-1"]
    assert wo1 == [recorded[0][0].uuid, recorded[2][0].uuid], "each project's check-ins in capture order"
    for (check_in, before, after), (project, at) in zip(recorded, plan):
        item = by_uuid[check_in.uuid]
        assert item["deliveries"] == 1
        assert item["workOrderNumber"] == project.split("::")[1]
        assert item["metadata"]["gpsTimestamp"] == rfc3339(at), "the fix's own time, not the delivery's"
        assert item["metadata"]["creationDate"] in {rfc3339(t) for t in range(before, after + 1)}
    assert fieldsync.outbox(CODE) == []

    assert run(fieldsync.sync(3600)) == [], "nothing left to deliver, nothing due to refresh"
    assert [item["deliveries"] for item in checkins_at(site)] == [1, 1, 1]


def test_a_check_in_the_provider_stored_before_the_connection_dropped_is_not_duplicated(site, fieldsync):
    check_in = fieldsync.check_in_with_fix(WO1, location_fix(), None, None)
    site.add_fault({"endpoint": "uploadPictures", "kind": "dropAfter", "times": 1})

    first = run(fieldsync.push_outbox(CODE))

    assert (first.delivered, first.retrying) == (0, 1)
    assert isinstance(first.error, fs.FieldSyncError.Network), repr(first.error)
    [stored] = checkins_at(site)
    assert (stored["uuid"], stored["deliveries"]) == (check_in.uuid, 1), "the provider kept it"
    [entry] = fieldsync.outbox(CODE)
    assert (entry.id, entry.state, entry.attempts) == (check_in.uuid, State.RETRY_WAIT, 1) and entry.last_error

    second = run(fieldsync.push_outbox(CODE))

    assert (second.delivered, second.retrying, second.error) == (1, 0, None)
    [again] = checkins_at(site)
    assert (again["uuid"], again["deliveries"]) == (check_in.uuid, 2), "sent twice, stored once"
    assert fieldsync.outbox(CODE) == []


def test_a_check_in_refused_with_500_stays_queued_until_the_provider_recovers(site, fieldsync):
    check_in = fieldsync.check_in_with_fix(WO1, location_fix(), None, None)
    site.add_fault({"endpoint": "uploadPictures", "kind": "http500"})

    [failed] = run(fieldsync.sync(3600))

    assert (failed.delivered, failed.retrying) == (0, 1)
    assert isinstance(failed.error, fs.FieldSyncError.Network), repr(failed.error)
    assert "500" in failed.error.reason, failed.error.reason
    [entry] = fieldsync.outbox(CODE)
    assert (entry.id, entry.state, entry.attempts) == (check_in.uuid, State.RETRY_WAIT, 1)
    assert checkins_at(site) == []

    site.clear_faults()
    [delivered] = run(fieldsync.sync(3600))

    assert (delivered.delivered, delivered.error) == (1, None)
    assert [(item["uuid"], item["deliveries"]) for item in checkins_at(site)] == [(check_in.uuid, 1)]


def test_the_integrations_check_in_rules_tighten_or_refuse(site, fieldsync):
    assert fieldsync.integration(CODE).check_in == fs.CheckInRules(), "the defaults"
    assert (fs.CheckInRules().geofence_radius_m, fs.CheckInRules().refuse_uncertified) == (200.0, False)

    tighter = fs.CheckInRules(geofence_radius_m=5.0)
    assert fieldsync.edit_integration(CODE, fs.IntegrationEdit(check_in=tighter), None, None).check_in == tighter
    recorded = fieldsync.check_in_with_fix(WO1, location_fix(NEAR), None, None)  # 11.1 m from the property
    assert not recorded.certified
    assert any("outside the 5 m geofence" in reason for reason in recorded.reasons), recorded.reasons
    queued = [entry.id for entry in fieldsync.outbox(CODE)]
    assert queued == [recorded.uuid]

    refusing = fs.CheckInRules(geofence_radius_m=5.0, refuse_uncertified=True)
    fieldsync.edit_integration(CODE, fs.IntegrationEdit(check_in=refusing), None, None)
    with pytest.raises(fs.FieldSyncError.CheckInRefused) as refused:
        fieldsync.check_in_with_fix(WO1, location_fix(NEAR), None, None)
    assert refused.value.project == WO1
    assert refused.value.failed_rules == ["11 m from the property, outside the 5 m geofence"], refused.value.failed_rules
    assert [entry.id for entry in fieldsync.outbox(CODE)] == queued, "a refused check-in writes nothing"
    assert fieldsync.check_in_with_fix(WO1, location_fix(HOME), None, None).certified, "on the spot still passes"

    with pytest.raises(fs.FieldSyncError.InvalidInput, match="positive"):
        fieldsync.edit_integration(CODE, fs.IntegrationEdit(check_in=fs.CheckInRules(geofence_radius_m=-1.0)), None, None)
    assert fieldsync.integration(CODE).check_in == refusing, "a refused edit changes nothing"
