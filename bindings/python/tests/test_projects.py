"""Imports against the emulator and what the project cache then shows through the bindings."""

import json

import pytest

import fieldsync_ffi as fs
from conftest import CODE, USER, run, work_order

ALL = fs.ProjectQuery(sort_by_number=True, limit=1000)


def by_id(fieldsync, query=ALL):
    return {summary.id: summary for summary in fieldsync.projects(query)}


@pytest.fixture
def imported(linked, fieldsync):
    """Four orders assigned to USER, one to someone else, and a Full Import of them."""
    linked.create_user("vendor2", "other-password", "tok-2")
    linked.create_orders(
        work_order("WO-1001", city="Tampa", state="FL", zip="33606", gpsLatitude=27.94, gpsLongitude=-82.46),
        work_order("WO-1002", clientDueDate="2030-01-10"),
        work_order("WO-1003", clientDueDate="2030-01-20"),
        work_order("WO-1004", clientStatus="Rush", clientDueDate="2030-01-25"),
        work_order("WO-9999", assignedTo="vendor2"),
    )
    report = run(fieldsync.refresh(CODE, fs.RefreshMode.FULL_IMPORT))
    assert (report.created, report.updated, report.removed, report.rejected) == (4, 0, 0, [])
    return linked


def test_full_import_then_list(imported, fieldsync):
    summaries = fieldsync.projects(fs.ProjectQuery(sort_by_number=True))

    assert [s.id for s in summaries] == [f"{CODE}::WO-100{n}" for n in (1, 2, 3, 4)]
    first = summaries[0]
    assert (first.integration, first.work_order_number) == (CODE, "WO-1001")
    assert (first.address1, first.city, first.state, first.zip) == ("001 Elm St", "Tampa", "FL", "33606")
    assert first.client_status == "Open" and first.client_due_date == "2030-01-15"
    assert not first.closed and not first.removal_pending
    integration = fieldsync.integration(CODE)
    assert integration.status == fs.IntegrationStatus.IDLE
    assert integration.last_refreshed is not None and integration.last_error is None


def test_project_queries_filter_search_and_page(imported, fieldsync):
    # Default sort: effective due date.
    assert [s.work_order_number for s in fieldsync.projects(fs.ProjectQuery(limit=2))] == ["WO-1002", "WO-1001"]
    paged = fieldsync.projects(fs.ProjectQuery(sort_by_number=True, limit=2, offset=2))
    assert [s.work_order_number for s in paged] == ["WO-1003", "WO-1004"]
    assert [s.id for s in fieldsync.projects(fs.ProjectQuery(search="tampa"))] == [f"{CODE}::WO-1001"]
    assert [s.id for s in fieldsync.projects(fs.ProjectQuery(client_status="Rush"))] == [f"{CODE}::WO-1004"]
    assert fieldsync.projects(fs.ProjectQuery(integration="OTHER")) == []

    fieldsync.close_project(f"{CODE}::WO-1003")
    open_only = fieldsync.projects(fs.ProjectQuery(include_closed=False, sort_by_number=True))
    assert [s.work_order_number for s in open_only] == ["WO-1001", "WO-1002", "WO-1004"]
    assert by_id(fieldsync)[f"{CODE}::WO-1003"].closed


@pytest.mark.parametrize("by_number", [False, True])
def test_keyset_pages_continue_after_the_last_summary(imported, fieldsync, by_number):
    everything = [s.id for s in fieldsync.projects(fs.ProjectQuery(sort_by_number=by_number))]
    walked, after = [], None
    while page := fieldsync.projects(fs.ProjectQuery(sort_by_number=by_number, limit=3, after=after)):
        walked += [s.id for s in page]
        after = page[-1].id
    assert walked == everything and len(walked) == 4

    with pytest.raises(fs.FieldSyncError.InvalidInput):
        fieldsync.projects(fs.ProjectQuery(after="no separator"))
    with pytest.raises(fs.FieldSyncError.NotFound):
        fieldsync.projects(fs.ProjectQuery(after=f"{CODE}::WO-404"))


def test_project_detail_has_tasks_and_options(imported, fieldsync):
    project = fieldsync.project(f"{CODE}::WO-1001")

    assert project.id == f"{CODE}::WO-1001" and project.integration == CODE
    assert (project.city, project.state, project.zip) == ("Tampa", "FL", "33606")
    assert project.latitude == pytest.approx(27.94) and project.longitude == pytest.approx(-82.46)
    assert json.loads(project.options_json) == {"gate_code": "4411"}
    assert [task.name for task in project.tasks] == ["Grass Cut", "Debris Removal"]
    assert project.tasks[0].instructions == "Front and back"
    assert json.loads(project.tasks[0].options_json) == {"height_in": 3}
    assert json.loads(project.tasks[1].options_json) == {}


def test_refresh_sees_update_unassign_and_delete(imported, fieldsync):
    imported.patch_order("WO-1001", {"clientInstructions": "Gate code 4411", "clientDueDate": "2030-02-01"})
    imported.unassign("WO-1002")
    imported.delete_order("WO-1003")
    imported.create_orders(work_order("WO-1005"))

    report = run(fieldsync.refresh(CODE, fs.RefreshMode.CHANGES))

    assert (report.created, report.updated, report.cancelled, report.deleted, report.removed) == (1, 1, 1, 1, 0)
    projects = by_id(fieldsync)
    assert set(projects) == {f"{CODE}::WO-100{n}" for n in (1, 2, 3, 4, 5)}  # nothing disappears
    assert projects[f"{CODE}::WO-1002"].client_status == "Cancelled"
    assert projects[f"{CODE}::WO-1003"].client_status == "Deleted"
    assert projects[f"{CODE}::WO-1004"].client_status == "Rush"
    updated = fieldsync.project(f"{CODE}::WO-1001")
    assert updated.client_instructions == "Gate code 4411" and updated.client_due_date == "2030-02-01"
    # Only the client status changes on an unassigned order.
    assert fieldsync.project(f"{CODE}::WO-1002").address1 == "002 Elm St"

    # The same refresh again changes nothing.
    again = run(fieldsync.refresh(CODE, fs.RefreshMode.CHANGES))
    assert (again.created, again.updated, again.cancelled, again.deleted) == (0, 0, 0, 0)


def test_edit_project_status_queues_an_outbox_entry(imported, fieldsync):
    assert fieldsync.outbox(CODE) == []

    edited = fieldsync.edit_project(f"{CODE}::WO-1001", fs.ProjectEdit(status="Complete"))
    fieldsync.edit_project(f"{CODE}::WO-1002", fs.ProjectEdit(due_date="2030-03-01", instructions="Back gate"))

    assert edited.status == "Complete"
    assert fieldsync.project(f"{CODE}::WO-1002").due_date == "2030-03-01"
    entries = fieldsync.outbox(CODE)
    assert len(entries) == 1, "only a status change travels to the provider"
    entry = entries[0]
    assert (entry.project, entry.kind, entry.state, entry.attempts) == (f"{CODE}::WO-1001", fs.OutboxKind.STATUS, fs.OutboxState.QUEUED, 0)
    assert len(entry.id) >= 32 and entry.created_at > 0


def test_full_import_keeps_a_project_with_pending_work(imported, fieldsync):
    fieldsync.edit_project(f"{CODE}::WO-1001", fs.ProjectEdit(status="Complete"))
    imported.unassign("WO-1001")
    imported.unassign("WO-1002")

    report = run(fieldsync.refresh(CODE, fs.RefreshMode.FULL_IMPORT))

    assert report.removed == 1
    assert report.kept == [f"{CODE}::WO-1001"]
    projects = by_id(fieldsync)
    assert set(projects) == {f"{CODE}::WO-1001", f"{CODE}::WO-1003", f"{CODE}::WO-1004"}
    assert projects[f"{CODE}::WO-1001"].removal_pending
    assert not projects[f"{CODE}::WO-1003"].removal_pending
    assert fieldsync.project(f"{CODE}::WO-1001").removal_pending
    assert len(fieldsync.outbox(CODE)) == 1


def test_push_key_refresh_and_unknown_key(imported, fieldsync):
    push_key = fieldsync.push_key(CODE)
    assert push_key == fieldsync.push_key(CODE)  # created once, then kept
    imported.create_orders(work_order("WO-2001"))

    report = run(fieldsync.refresh_by_push_key(push_key))

    assert report is not None and report.created == 1
    assert f"{CODE}::WO-2001" in by_id(fieldsync)

    imported.create_orders(work_order("WO-2002"))
    before = fieldsync.integration(CODE).last_refreshed
    assert run(fieldsync.refresh_by_push_key("not-a-key")) is None
    assert f"{CODE}::WO-2002" not in by_id(fieldsync)
    assert fieldsync.integration(CODE).last_refreshed == before


def test_orders_missing_required_fields_are_rejected_alone(linked, fieldsync):
    linked.create_orders(work_order("WO-3001"), {"workOrderNumber": "WO-3002", "assignedTo": USER})

    report = run(fieldsync.refresh(CODE, fs.RefreshMode.FULL_IMPORT))

    assert report.created == 1
    assert [r.work_order_number for r in report.rejected] == ["WO-3002"]
    assert report.rejected[0].reason
    assert list(by_id(fieldsync)) == [f"{CODE}::WO-3001"]


def test_sync_refreshes_only_what_is_due(linked, fieldsync):
    linked.create_orders(work_order("WO-1001"), work_order("WO-1002"))

    first = run(fieldsync.sync(900))

    assert [outcome.code for outcome in first] == [CODE]
    assert first[0].error is None and first[0].report.created == 2
    # Refreshed seconds ago: not due within 15 minutes, due with a max age of 0.
    assert all(outcome.report is None for outcome in run(fieldsync.sync(900)))
    again = run(fieldsync.sync(0))
    assert [outcome.code for outcome in again] == [CODE] and again[0].report.unchanged == 2
