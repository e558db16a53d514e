//! The importer's side of field work (schema 9): surveys on tasks, `changed_since_viewed`, adoption of
//! local projects, and Full Imports that leave local projects alone.

use std::io::Cursor;

use serde_json::json;

use super::*;
use crate::model::{ImportKind, ProjectId};
use crate::store::tests::store;

fn order(number: &str, city: &str) -> serde_json::Value {
    json!({"workOrderNumber": number, "address1": "1 Elm", "city": city, "state": "IL", "zip": "62701",
           "clientStatus": "Open", "services": [{"serviceName": "Lawn"}, {"serviceName": "Trash"}]})
}

fn surveyed(number: &str) -> serde_json::Value {
    let mut order = order(number, "Springfield");
    order["services"] = json!([
        {"serviceName": "HPIR", "survey": "hpirFull-v3",
         "surveyDynamic": {"questions": [{"id": "q1", "type": "text", "label": "Roof?"}]}},
        {"serviceName": "Lawn"}
    ]);
    order
}

fn body(orders: &[serde_json::Value]) -> String {
    json!({"workOrders": orders, "error": ""}).to_string()
}

fn import(store: &Store, kind: ImportKind, orders: &[serde_json::Value]) -> ImportReport {
    store
        .import_response("ACME", Cursor::new(body(orders)), None, &ImportOptions::new(kind))
        .unwrap()
}

fn id(number: &str) -> ProjectId {
    ProjectId::parse(&format!("ACME::{number}")).unwrap()
}

fn sql(store: &Store, statement: &str) {
    store
        .write(|tx| {
            tx.execute_batch(statement)?;
            Ok(())
        })
        .unwrap();
}

fn query_i64(store: &Store, query: &str) -> i64 {
    store
        .read(|connection| Ok(connection.query_row(query, [], |row| row.get(0))?))
        .unwrap()
}

/// Row id, `local` and `changed_since_viewed` of a project.
fn flags(store: &Store, number: &str) -> (i64, bool, bool) {
    store
        .read(|connection| {
            Ok(connection.query_row(
                "SELECT id, local, changed_since_viewed FROM projects WHERE work_order_number = ?1",
                [number],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )?)
        })
        .unwrap()
}

fn insert_local(store: &Store, number: &str) -> i64 {
    sql(
        store,
        &format!(
            "INSERT INTO projects (integration_id, work_order_number, local, updated_at)
             VALUES ((SELECT id FROM integrations WHERE code = 'ACME'), '{number}', 1, 1700000000)"
        ),
    );
    flags(store, number).0
}

#[test]
fn surveys_round_trip_into_the_projects_tasks() {
    let (_dir, store) = store();
    let report = import(&store, ImportKind::Refresh, &[surveyed("1")]);
    assert_eq!(report.created, 1, "{report:?}");
    let tasks = store.project(&id("1")).unwrap().tasks;
    assert_eq!(tasks[0].name, "HPIR");
    assert_eq!(tasks[0].survey_id.as_deref(), Some("hpirFull-v3"));
    let inline: serde_json::Value = serde_json::from_str(tasks[0].survey_inline.as_deref().unwrap()).unwrap();
    assert_eq!(inline["questions"][0]["label"], "Roof?");
    assert_eq!(
        (tasks[1].survey_id.as_ref(), tasks[1].survey_inline.as_ref()),
        (None, None)
    );
}

#[test]
fn a_reimport_after_the_upgrade_reapplies_orders_whose_surveys_were_dropped() {
    let (_dir, store) = store();
    let orders = [surveyed("1"), order("2", "Peoria")];
    import(&store, ImportKind::FullImport, &orders);
    // What a cache written by the previous version holds: the same projects without their surveys, each
    // with the fingerprint (version 2) of the order it applied.
    let integration = store.integration("ACME").unwrap();
    let settings = ReconcileSettings {
        integration: "ACME",
        mode: integration.mode,
        auto_admin: integration.auto_admin,
        default_work_type: None,
        default_assign_to: &integration.default_assign_to,
        today: time::OffsetDateTime::now_utc().date(),
    };
    let old_seed = settings_seed(&settings, 2);
    store
        .write(|tx| {
            tx.execute("UPDATE tasks SET survey_id = NULL, survey_inline = NULL", [])?;
            for order in &orders {
                let fingerprint =
                    xxhash_rust::xxh3::xxh3_128_with_seed(order.to_string().as_bytes(), old_seed);
                tx.execute(
                    "UPDATE projects SET fingerprint = ?2 WHERE work_order_number = ?1",
                    params![
                        order["workOrderNumber"].as_str(),
                        encode_fingerprint(Some(fingerprint))
                    ],
                )?;
            }
            Ok(())
        })
        .unwrap();
    let report = import(&store, ImportKind::FullImport, &orders);
    assert_eq!((report.updated, report.unchanged), (1, 1), "{report:?}");
    let tasks = store.project(&id("1")).unwrap().tasks;
    assert_eq!(tasks[0].survey_id.as_deref(), Some("hpirFull-v3"));
    assert!(tasks[0].survey_inline.is_some());
    // And from then on the new fingerprints skip both.
    let report = import(&store, ImportKind::FullImport, &orders);
    assert!(report.is_no_op() && report.unchanged == 2, "{report:?}");
}

#[test]
fn updated_a_viewed_project_changed_by_a_refresh_becomes_changed_since_viewed() {
    let (_dir, store) = store();
    import(&store, ImportKind::Refresh, &[order("1", "A")]);
    sql(&store, "UPDATE projects SET viewed_at = 1700000000");
    import(&store, ImportKind::Refresh, &[order("1", "B")]);
    assert!(flags(&store, "1").2);
    let status = query_i64(&store, "SELECT field_status = 'updated' FROM projects");
    assert_eq!(status, 1);
}

#[test]
fn updated_an_unchanged_reimport_leaves_a_viewed_project_as_viewed() {
    let (_dir, store) = store();
    import(&store, ImportKind::Refresh, &[order("1", "A")]);
    sql(&store, "UPDATE projects SET viewed_at = 1700000000");
    // Skipped by its fingerprint.
    import(&store, ImportKind::Refresh, &[order("1", "A")]);
    assert!(!flags(&store, "1").2);
    // Parsed and reconciled (another order's bytes), but identical after reconcile.
    let mut same = order("1", "A");
    same["unknownField"] = json!(1);
    let report = import(&store, ImportKind::FullImport, &[same]);
    assert_eq!(report.unchanged, 1, "{report:?}");
    assert!(!flags(&store, "1").2);
}

#[test]
fn updated_a_project_never_viewed_stays_new() {
    let (_dir, store) = store();
    import(&store, ImportKind::Refresh, &[order("1", "A")]);
    assert!(!flags(&store, "1").2);
    import(&store, ImportKind::Refresh, &[order("1", "B")]);
    assert!(!flags(&store, "1").2);
    let new = query_i64(&store, "SELECT field_status = 'new' FROM projects");
    assert_eq!(new, 1);
}

#[test]
fn adoption_a_refresh_adopts_a_local_project_in_its_row() {
    let (_dir, store) = store();
    let row = insert_local(&store, "L-1");
    sql(
        &store,
        "INSERT INTO survey_drafts (project_id, task_name, question_id, answer, updated_at)
                 SELECT id, 'Lawn', 'q1', 'yes', 1 FROM projects",
    );
    let report = import(&store, ImportKind::Refresh, &[order("L-1", "Springfield")]);
    assert_eq!(
        (report.adopted, report.updated, report.created),
        (1, 1, 0),
        "{report:?}"
    );
    assert_eq!(flags(&store, "L-1"), (row, false, false));
    let project = store.project(&id("L-1")).unwrap();
    assert_eq!(project.city.as_deref(), Some("Springfield"));
    assert_eq!(project.tasks.len(), 2);
    let drafts = query_i64(
        &store,
        &format!("SELECT count(*) FROM survey_drafts WHERE project_id = {row}"),
    );
    assert_eq!(drafts, 1, "field work linked to the row stays");
    // Adopted once: the same order again is skipped.
    let report = import(&store, ImportKind::Refresh, &[order("L-1", "Springfield")]);
    assert!(report.is_no_op() && report.adopted == 0, "{report:?}");
}

#[test]
fn adoption_a_full_import_adopts_a_local_project_in_its_row() {
    let (_dir, store) = store();
    import(&store, ImportKind::FullImport, &[order("1", "A")]);
    let row = insert_local(&store, "L-1");
    let report = import(
        &store,
        ImportKind::FullImport,
        &[order("1", "A"), order("L-1", "B")],
    );
    assert_eq!(
        (report.adopted, report.updated, report.removed),
        (1, 1, 0),
        "{report:?}"
    );
    assert_eq!(flags(&store, "L-1"), (row, false, false));
    assert_eq!(store.project(&id("L-1")).unwrap().city.as_deref(), Some("B"));
}

#[test]
fn adoption_of_a_viewed_local_project_marks_it_changed_since_viewed() {
    let (_dir, store) = store();
    let row = insert_local(&store, "L-1");
    sql(&store, "UPDATE projects SET viewed_at = 1700000000");
    import(&store, ImportKind::Refresh, &[order("L-1", "Springfield")]);
    assert_eq!(flags(&store, "L-1"), (row, false, true));
}

#[test]
fn a_full_import_that_does_not_list_a_local_project_keeps_it() {
    let (_dir, store) = store();
    import(
        &store,
        ImportKind::FullImport,
        &[order("1", "A"), order("2", "B")],
    );
    let row = insert_local(&store, "L-1");
    let report = import(&store, ImportKind::FullImport, &[order("1", "A")]);
    assert_eq!(
        (report.removed, report.kept, report.adopted),
        (1, 0, 0),
        "{report:?}"
    );
    assert!(report.kept_projects.is_empty());
    assert_eq!(flags(&store, "L-1"), (row, true, false));
    let pending = query_i64(
        &store,
        "SELECT removal_pending FROM projects WHERE work_order_number = 'L-1'",
    );
    assert_eq!(pending, 0);
    // Also with an empty list.
    let report = import(&store, ImportKind::FullImport, &[]);
    assert_eq!(report.removed, 1, "{report:?}");
    assert_eq!(flags(&store, "L-1"), (row, true, false));
}

#[test]
fn a_full_import_into_an_empty_cache_that_names_an_order_twice_creates_it_once() {
    // The second naming finds the row the first inserted (by its number's hash, then the UNIQUE index):
    // the same text is skipped by its fingerprint, a changed one updates the row; the report is net.
    let naming_a1_twice = |second_city| {
        [
            order("A1", "Springfield"),
            order("B2", "Springfield"),
            order("A1", second_city),
        ]
    };
    let (_first, first) = store();
    let report = import(&first, ImportKind::FullImport, &naming_a1_twice("Springfield"));
    assert_eq!((report.created, report.updated, report.unchanged), (2, 0, 0));
    let (_dir, store) = store();
    let report = import(&store, ImportKind::FullImport, &naming_a1_twice("Chicago"));
    assert_eq!((report.created, report.updated, report.unchanged), (2, 0, 0));
    assert_eq!(query_i64(&store, "SELECT count(*) FROM projects"), 2);
    assert_eq!(store.project(&id("A1")).unwrap().city.as_deref(), Some("Chicago"));
    // And the next import of the same response changes nothing.
    let report = import(&store, ImportKind::FullImport, &naming_a1_twice("Chicago"));
    assert!(report.is_no_op(), "{report:?}");
}

#[test]
fn an_order_whose_stored_text_returns_after_a_change_in_the_same_response_is_applied_again() {
    // An order whose fingerprint is stored is skipped unparsed; here that text names a project the same
    // response changed 300 orders earlier, so its fingerprint is no longer stored and it is applied.
    let (_dir, store) = store();
    import(&store, ImportKind::FullImport, &[order("A1", "Springfield")]);
    let fillers = 300usize;
    let mut orders = vec![order("A1", "Chicago")];
    orders.extend((0..fillers).map(|n| order(&format!("F{n}"), "Peoria")));
    orders.push(order("A1", "Springfield"));
    let report = import(&store, ImportKind::FullImport, &orders);
    assert_eq!(report.created, fillers as u64, "{report:?}");
    assert_eq!(
        store.project(&id("A1")).unwrap().city.as_deref(),
        Some("Springfield")
    );
    let report = import(&store, ImportKind::FullImport, &orders);
    assert!(report.is_no_op(), "{report:?}");
}

#[test]
fn a_syntax_error_after_hundreds_of_orders_names_its_order_and_rolls_back() {
    let (_dir, store) = store();
    import(&store, ImportKind::FullImport, &[order("A1", "Springfield")]);
    let count = 400usize;
    let mut text = String::from(r#"{"error":"","workOrders":["#);
    for n in 0..count {
        text.push_str(&order(&format!("F{n}"), "Peoria").to_string());
        text.push(',');
    }
    // Brackets balance, so the response reader hands it over; the parser refuses it.
    text.push_str(r#"{"workOrderNumber": "BAD" "city": "x"}]}"#);
    let err = store
        .import_response(
            "ACME",
            Cursor::new(text),
            None,
            &ImportOptions::new(ImportKind::FullImport),
        )
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidResponse(message) if message.contains(&format!("work order #{} ", count + 1))),
        "{err:?}"
    );
    assert_eq!(query_i64(&store, "SELECT count(*) FROM projects"), 1);
}

#[test]
fn progress_reports_rise_to_the_size_of_the_body() {
    let (_dir, store) = store();
    let orders: Vec<_> = (0..3_000).map(|n| order(&format!("P{n}"), "Peoria")).collect();
    let text = body(&orders);
    let reports = std::cell::RefCell::new(Vec::new());
    let progress = |bytes: u64| reports.borrow_mut().push(bytes);
    let options = ImportOptions {
        progress: Some(&progress),
        ..ImportOptions::new(ImportKind::FullImport)
    };
    store
        .import_response("ACME", Cursor::new(text.clone()), None, &options)
        .unwrap();
    let reports = reports.into_inner();
    assert!(reports.len() >= 2, "{reports:?}");
    assert!(reports.windows(2).all(|pair| pair[0] <= pair[1]), "{reports:?}");
    assert_eq!(reports.last().copied(), Some(text.len() as u64));
}

fn with_services(number: &str, count: usize) -> serde_json::Value {
    let mut order = order(number, "Peoria");
    order["services"] = (0..count)
        .map(|n| json!({"serviceName": format!("Service {n}")}))
        .collect();
    order
}

#[test]
fn new_projects_written_in_batches_keep_every_row_task_and_repeat() {
    // 100 new orders fill three batches and part of a fourth; one order has more tasks than a task batch
    // holds twice over; P070 is named again, changed, while its row is still bound and not written.
    let (_dir, store) = store();
    let mut orders: Vec<_> = (0..100).map(|n| order(&format!("P{n:03}"), "Peoria")).collect();
    orders[10] = with_services("P010", 150);
    orders.insert(75, order("P070", "Chicago"));
    let report = import(&store, ImportKind::FullImport, &orders);
    assert_eq!((report.created, report.updated), (100, 0), "{report:?}");
    assert_eq!(query_i64(&store, "SELECT count(*) FROM projects"), 100);
    // Row ids follow the response, as inserting one by one gave them.
    assert_eq!(
        query_i64(
            &store,
            "SELECT count(*) FROM projects WHERE id = 1 + CAST(substr(work_order_number, 2) AS INTEGER)"
        ),
        100
    );
    assert_eq!(
        store.project(&id("P070")).unwrap().city.as_deref(),
        Some("Chicago")
    );
    let tasks = store.project(&id("P010")).unwrap().tasks;
    assert_eq!(tasks.len(), 150);
    assert!(
        tasks
            .iter()
            .enumerate()
            .all(|(n, task)| task.name == format!("Service {n}"))
    );
    assert_eq!(query_i64(&store, "SELECT count(*) FROM tasks"), 99 * 2 + 150);
    assert!(import(&store, ImportKind::FullImport, &orders).is_no_op());
}

#[test]
fn a_project_created_and_changed_by_one_response_into_a_filled_cache_is_written_once() {
    let (_dir, store) = store();
    import(&store, ImportKind::FullImport, &[order("A1", "Springfield")]);
    let mut orders = vec![order("A1", "Springfield")];
    orders.extend((0..40).map(|n| order(&format!("N{n:02}"), "Peoria")));
    orders.push(order("N05", "Chicago"));
    orders.push(order("N39", "Decatur"));
    let report = import(&store, ImportKind::FullImport, &orders);
    assert_eq!(
        (report.created, report.unchanged, report.updated),
        (40, 1, 0),
        "{report:?}"
    );
    assert_eq!(query_i64(&store, "SELECT count(*) FROM projects"), 41);
    assert_eq!(
        store.project(&id("N05")).unwrap().city.as_deref(),
        Some("Chicago")
    );
    assert_eq!(
        store.project(&id("N39")).unwrap().city.as_deref(),
        Some("Decatur")
    );
    assert_eq!(store.project(&id("N39")).unwrap().tasks.len(), 2);
    // A Refresh that creates one project writes it before the import ends.
    let report = import(&store, ImportKind::Refresh, &[order("R1", "Peoria")]);
    assert_eq!(report.created, 1);
    assert_eq!(store.project(&id("R1")).unwrap().tasks.len(), 2);
}

#[test]
fn stored_projects_match_in_order_then_by_map_and_once_each() {
    let mut stored = StoredProjects::with_capacity(4);
    for (id, fingerprint) in [(3, Some(30)), (1, Some(10)), (2, None), (4, Some(40))] {
        stored.push(id, fingerprint);
    }
    stored.sort();
    assert!(!stored.any_listed());
    // In order: 10 (id 1) then 30 (id 3, after the unmatchable id 2: found by the map).
    assert_eq!(stored.match_unchanged(10), Some(true));
    assert_eq!(stored.match_unchanged(30), Some(true));
    assert_eq!(stored.match_unchanged(40), Some(true));
    // Listed again: matched, not a first listing.
    assert_eq!(stored.match_unchanged(10), Some(false));
    // Unknown, and "no fingerprint", never match.
    assert_eq!(stored.match_unchanged(99), None);
    assert_eq!(stored.match_unchanged(0), None);
    assert!(stored.is_listed(1) && !stored.is_listed(2) && stored.is_listed(3));
    assert_eq!(stored.unlisted_ids().collect::<Vec<_>>(), [2]);
}

#[test]
fn a_forgotten_fingerprint_matches_neither_in_order_nor_by_map() {
    let mut stored = StoredProjects::with_capacity(2);
    stored.push(1, Some(10));
    stored.push(2, Some(20));
    stored.sort();
    // Before the map exists (the walk would meet it next) ...
    stored.forget(1, 10);
    assert_eq!(stored.match_unchanged(10), None);
    // ... and after it was built.
    stored.forget(2, 20);
    assert_eq!(stored.match_unchanged(20), None);
    // A fingerprint the project does not hold any more is not forgotten twice over another one.
    stored.forget(2, 21);
    assert_eq!(stored.unlisted_ids().collect::<Vec<_>>(), [1, 2]);
}

#[test]
fn an_unchanged_account_listed_in_another_order_is_skipped_whole() {
    let (_dir, store) = store();
    let orders: Vec<_> = (0..50).map(|n| order(&format!("P{n:02}"), "Peoria")).collect();
    import(&store, ImportKind::FullImport, &orders);
    let mut shuffled = orders.clone();
    shuffled.reverse();
    shuffled.swap(3, 40);
    let report = import(&store, ImportKind::FullImport, &shuffled);
    assert!(report.is_no_op(), "{report:?}");
    assert_eq!(report.unchanged, 50);
    // One order gone and one changed: the walk misses twice and still finds the others.
    let mut changed = orders.clone();
    changed.remove(20);
    changed[30] = order("P31", "Chicago");
    let report = import(&store, ImportKind::FullImport, &changed);
    assert_eq!(
        (report.unchanged, report.updated, report.removed),
        (48, 1, 1),
        "{report:?}"
    );
}
