//! Store tests on real SQLite files.

use std::io::Cursor;

use serde_json::json;

use super::*;
use crate::model::{ImportKind, NewIntegration, ProjectEdit, ProjectId, ProjectQuery};

pub(crate) fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("cache.db")).unwrap();
    store
        .create_integration(NewIntegration::new("ACME", "http://127.0.0.1:9/api", "vendor1"))
        .unwrap();
    (dir, store)
}

fn order(number: &str, city: &str) -> serde_json::Value {
    json!({"workOrderNumber": number, "address1": "1 Elm", "city": city, "state": "IL", "zip": "62701",
           "clientStatus": "Open", "services": [{"serviceName": "Lawn"}, {"serviceName": "Trash"}]})
}

fn import(
    store: &Store,
    kind: ImportKind,
    orders: &[serde_json::Value],
) -> crate::Result<crate::model::ImportReport> {
    let body = json!({"workOrders": orders, "error": ""}).to_string();
    store.import_response("ACME", Cursor::new(body), None, &ImportOptions::new(kind))
}

fn id(number: &str) -> ProjectId {
    ProjectId::parse(&format!("ACME::{number}")).unwrap()
}

#[test]
fn import_stores_projects_with_tasks_and_moves_status() {
    let (_dir, store) = store();
    let report = import(
        &store,
        ImportKind::FullImport,
        &[order("1", "Springfield"), order("2", "Peoria")],
    )
    .unwrap();
    assert_eq!(report.created, 2);
    let project = store.project(&id("1")).unwrap();
    assert_eq!(project.city.as_deref(), Some("Springfield"));
    assert_eq!(project.tasks.len(), 2);
    let integration = store.integration("ACME").unwrap();
    assert_eq!(integration.status, crate::model::IntegrationStatus::Idle);
    assert!(integration.last_refreshed.is_some());
}

#[test]
fn an_unchanged_reimport_is_skipped_by_fingerprint() {
    let (_dir, store) = store();
    let orders = [order("1", "Springfield"), order("2", "Peoria")];
    import(&store, ImportKind::FullImport, &orders).unwrap();
    let report = import(&store, ImportKind::FullImport, &orders).unwrap();
    assert!(report.is_no_op(), "{report:?}");
    assert_eq!(report.unchanged, 2);
}

#[test]
fn a_fingerprint_does_not_hide_a_change_made_earlier_in_the_batch() {
    let (_dir, store) = store();
    import(&store, ImportKind::Refresh, &[order("1", "A")]).unwrap();
    // "B" then the old "A" again: the second must be applied even though its bytes were seen before.
    import(&store, ImportKind::Refresh, &[order("1", "B"), order("1", "A")]).unwrap();
    assert_eq!(store.project(&id("1")).unwrap().city.as_deref(), Some("A"));
}

#[test]
fn a_failed_import_changes_no_project_and_records_the_error() {
    let (_dir, store) = store();
    import(&store, ImportKind::FullImport, &[order("1", "Springfield")]).unwrap();
    let body = r#"{"workOrders": [{"workOrderNumber": "1", "address1": "x", "city": "Changed", "state": "IL", "zip": "1", "services": [{"serviceName": "a"}]}, "#;
    let err = store.import_response(
        "ACME",
        Cursor::new(body),
        None,
        &ImportOptions::new(ImportKind::FullImport),
    );
    assert!(matches!(err, Err(crate::Error::InvalidResponse(_))), "{err:?}");
    assert_eq!(
        store.project(&id("1")).unwrap().city.as_deref(),
        Some("Springfield")
    );
    let integration = store.integration("ACME").unwrap();
    assert_eq!(integration.status, crate::model::IntegrationStatus::Error);
    assert!(integration.last_error.unwrap().contains("not valid"));
    // The next good import clears the error.
    import(&store, ImportKind::Refresh, &[]).unwrap();
    assert_eq!(store.integration("ACME").unwrap().last_error, None);
}

#[test]
fn a_provider_error_with_http_200_is_an_error() {
    let (_dir, store) = store();
    let body = json!({"workOrders": [order("1", "X")], "error": "account suspended"}).to_string();
    let err = store.import_response(
        "ACME",
        Cursor::new(body),
        None,
        &ImportOptions::new(ImportKind::Refresh),
    );
    assert!(
        matches!(err, Err(crate::Error::Provider(ref message)) if message == "account suspended"),
        "{err:?}"
    );
    assert_eq!(store.project_count().unwrap(), 0);
}

#[test]
fn an_oversized_response_is_refused() {
    let (_dir, store) = store();
    let body = json!({"workOrders": [order("1", "X")]}).to_string();
    let options = ImportOptions {
        max_bytes: 10,
        ..ImportOptions::new(ImportKind::Refresh)
    };
    let err = store.import_response("ACME", Cursor::new(body), None, &options);
    assert!(
        matches!(err, Err(crate::Error::ResponseTooLarge { .. })),
        "{err:?}"
    );
}

#[test]
fn auto_admin_off_keeps_local_edits_across_imports() {
    let (_dir, store) = store();
    store
        .edit_integration(
            "ACME",
            &crate::model::IntegrationEdit {
                auto_admin: Some(false),
                mode: Some(crate::model::Mode::Internal),
                ..Default::default()
            },
        )
        .unwrap();
    let mut first = order("1", "A");
    first["instructions"] = json!("provider");
    import(&store, ImportKind::Refresh, &[first.clone()]).unwrap();
    let edit = ProjectEdit {
        instructions: Some("mine".into()),
        ..Default::default()
    };
    store.edit_project(&id("1"), &edit).unwrap();
    first["instructions"] = json!("provider again");
    import(&store, ImportKind::Refresh, &[first]).unwrap();
    assert_eq!(
        store.project(&id("1")).unwrap().instructions.as_deref(),
        Some("mine")
    );
}

#[test]
fn auto_admin_on_overwrites_local_edits_even_with_an_identical_order() {
    let (_dir, store) = store();
    store
        .edit_integration(
            "ACME",
            &crate::model::IntegrationEdit {
                mode: Some(crate::model::Mode::Internal),
                ..Default::default()
            },
        )
        .unwrap();
    let mut first = order("1", "A");
    first["instructions"] = json!("provider");
    import(&store, ImportKind::Refresh, &[first.clone()]).unwrap();
    store
        .edit_project(
            &id("1"),
            &ProjectEdit {
                instructions: Some("mine".into()),
                ..Default::default()
            },
        )
        .unwrap();
    import(&store, ImportKind::Refresh, &[first]).unwrap();
    assert_eq!(
        store.project(&id("1")).unwrap().instructions.as_deref(),
        Some("provider")
    );
}

#[test]
fn a_status_edit_is_queued_as_field_work_and_protects_the_project() {
    let (_dir, store) = store();
    import(
        &store,
        ImportKind::FullImport,
        &[order("1", "A"), order("2", "B")],
    )
    .unwrap();
    store
        .edit_project(
            &id("1"),
            &ProjectEdit {
                status: Some("Complete".into()),
                ..Default::default()
            },
        )
        .unwrap();
    let pending = store.pending_outbox_entries("ACME").unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(
        pending[0].payload,
        json!({"workOrderNumber": "1", "status": "Complete"})
    );

    let report = import(&store, ImportKind::FullImport, &[]).unwrap();
    assert_eq!((report.removed, report.kept), (1, 1));
    assert!(store.project(&id("1")).unwrap().removal_pending);
    assert!(matches!(
        store.delete_project(&id("1")),
        Err(crate::Error::PendingFieldWork { .. })
    ));
    assert!(matches!(
        store.delete_integration("ACME", false),
        Err(crate::Error::PendingFieldWork { .. })
    ));
}

#[test]
fn closed_projects_refuse_edits_and_stay_closed_after_imports() {
    let (_dir, store) = store();
    import(&store, ImportKind::Refresh, &[order("1", "A")]).unwrap();
    store.close_project(&id("1")).unwrap();
    import(&store, ImportKind::Refresh, &[order("1", "B")]).unwrap();
    let project = store.project(&id("1")).unwrap();
    assert!(project.closed);
    assert_eq!(project.city.as_deref(), Some("B"));
    let edit = ProjectEdit {
        status: Some("x".into()),
        ..Default::default()
    };
    assert!(matches!(
        store.edit_project(&id("1"), &edit),
        Err(crate::Error::ProjectClosed(_))
    ));
}

#[test]
fn lists_filter_search_and_page() {
    let (_dir, store) = store();
    let mut orders: Vec<_> = (0..30)
        .map(|n| order(&format!("{n:03}"), if n % 3 == 0 { "Peoria" } else { "Joliet" }))
        .collect();
    orders[4]["clientStatus"] = json!("Rush");
    import(&store, ImportKind::FullImport, &orders).unwrap();
    let page = |query: ProjectQuery| store.list_projects(&query).unwrap();
    assert_eq!(
        page(ProjectQuery {
            limit: 7,
            ..Default::default()
        })
        .len(),
        7
    );
    assert_eq!(
        page(ProjectQuery {
            search: Some("peor".into()),
            limit: 100,
            ..Default::default()
        })
        .len(),
        10
    );
    let rush = page(ProjectQuery {
        client_status: Some("rush".into()),
        ..Default::default()
    });
    assert_eq!(rush.len(), 1);
    assert_eq!(rush[0].id.to_string(), "ACME::004");
    assert!(
        page(ProjectQuery {
            search: Some("%".into()),
            ..Default::default()
        })
        .is_empty(),
        "LIKE is escaped"
    );
    let second = page(ProjectQuery {
        sort: crate::model::ProjectSort::Number,
        limit: 5,
        offset: 5,
        ..Default::default()
    });
    assert_eq!(second[0].work_order_number, "005");
}

#[test]
fn keyset_pages_walk_the_same_list_as_offsets_and_do_not_shift_when_rows_arrive() {
    use crate::model::ProjectSort;
    let (_dir, store) = store();
    let mut orders: Vec<_> = (0..30).map(|n| order(&format!("{n:03}"), "Peoria")).collect();
    for (n, order) in orders.iter_mut().enumerate() {
        order["clientDueDate"] = json!(format!("2030-01-{:02}", 1 + n % 4)); // many ties on each date
    }
    import(&store, ImportKind::FullImport, &orders).unwrap();
    let list = |sort, limit, offset, after: Option<ProjectId>| {
        store
            .list_projects(&ProjectQuery {
                sort,
                limit,
                offset,
                after,
                ..Default::default()
            })
            .unwrap()
            .into_iter()
            .map(|summary| summary.id.to_string())
            .collect::<Vec<_>>()
    };
    for sort in [ProjectSort::DueDate, ProjectSort::Number] {
        let all = list(sort, 100, 0, None);
        assert_eq!(all.len(), 30);
        let mut walked: Vec<String> = Vec::new();
        loop {
            let after = walked.last().map(|last| ProjectId::parse(last).unwrap());
            let page = list(sort, 7, 0, after);
            if page.is_empty() {
                break;
            }
            walked.extend(page);
        }
        assert_eq!(walked, all, "{sort:?}");
    }

    // A project arriving before the cursor: the next keyset page is unchanged, an offset page repeats a row.
    let first = list(ProjectSort::DueDate, 10, 0, None);
    let expected_next = list(ProjectSort::DueDate, 10, 10, None);
    let mut early = order("000a", "Peoria");
    early["clientDueDate"] = json!("2030-01-01");
    import(&store, ImportKind::Refresh, &[early]).unwrap();
    let cursor = ProjectId::parse(first.last().unwrap()).unwrap();
    assert_eq!(list(ProjectSort::DueDate, 10, 0, Some(cursor)), expected_next);
    assert_eq!(
        list(ProjectSort::DueDate, 10, 10, None)[0],
        *first.last().unwrap(),
        "with an offset the last row of page 1 comes again"
    );

    assert!(matches!(
        store.list_projects(&ProjectQuery {
            after: Some(id("gone")),
            ..Default::default()
        }),
        Err(crate::Error::UnknownProject(_))
    ));
}

#[test]
fn a_newer_schema_is_refused_and_left_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("newer.db");
    {
        let connection = rusqlite::Connection::open(&path).unwrap();
        connection
            .execute_batch(
                "CREATE TABLE future (x); INSERT INTO future VALUES (1); PRAGMA user_version = 99;",
            )
            .unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let err = Store::open(&path).unwrap_err();
    assert!(
        matches!(err, crate::Error::SchemaTooNew { found: 99, .. }),
        "{err:?}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, ["newer.db"], "no journal or WAL file was created");
}

mod model_based {
    use proptest::prelude::*;

    use super::*;
    use crate::model::{IntegrationEdit, Project};
    use crate::reconcile::MemoryCache;
    use crate::reconcile::tests::{Response, Setup, arb_responses, arb_setup, kind, run};

    fn configure(store: &Store, setup: &Setup) {
        if let Some(work_type) = &setup.work_type {
            store.save_work_type(work_type).unwrap();
        }
        let edit = IntegrationEdit {
            mode: Some(setup.mode),
            auto_admin: Some(setup.auto_admin),
            default_work_type: Some(setup.work_type.as_ref().map(|work_type| work_type.name.clone())),
            default_assign_to: Some(setup.assign_to.clone()),
            ..Default::default()
        };
        store.edit_integration("ACME", &edit).unwrap();
    }

    fn stored_projects(store: &Store) -> Vec<Project> {
        let query = ProjectQuery {
            sort: crate::model::ProjectSort::Number,
            limit: 1000,
            ..Default::default()
        };
        store
            .list_projects(&query)
            .unwrap()
            .iter()
            .map(|summary| store.project(&summary.id).unwrap())
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Streaming the responses through SQLite (with fingerprint skipping) gives the same projects and the
        /// same reports as the pure in-memory model.
        #[test]
        fn sqlite_import_matches_the_memory_model(setup in arb_setup(), responses in arb_responses()) {
            let (_dir, store) = super::store();
            configure(&store, &setup);
            let mut model = MemoryCache::default();
            let responses: Vec<Response> = responses.into_iter().flat_map(|response| [response.clone(), response]).collect();
            for (full, orders) in &responses {
                let expected = run(&mut model, &setup, kind(*full), orders);
                let body = serde_json::json!({"workOrders": orders}).to_string();
                let options = ImportOptions { today: Some(time::macros::date!(2026 - 11 - 23)), ..ImportOptions::new(kind(*full)) };
                let report = store.import_response("ACME", Cursor::new(body), None, &options).unwrap();
                prop_assert_eq!(report, expected);
                prop_assert_eq!(stored_projects(&store), model.projects.values().cloned().collect::<Vec<_>>());
            }
        }
    }
}

#[test]
fn lists_sort_by_the_vendors_due_date_else_the_providers() {
    let (_dir, store) = store();
    let mut orders = vec![order("a", "X"), order("b", "X"), order("c", "X"), order("d", "X")];
    orders[0]["clientDueDate"] = json!("2026-12-09");
    orders[1]["clientDueDate"] = json!("2026-12-01");
    orders[3]["clientDueDate"] = json!("2026-12-05");
    import(&store, ImportKind::FullImport, &orders).unwrap();
    store
        .edit_project(
            &id("d"),
            &ProjectEdit {
                due_date: Some("2026-11-30".into()),
                ..Default::default()
            },
        )
        .unwrap();
    let numbers: Vec<String> = store
        .list_projects(&ProjectQuery::default())
        .unwrap()
        .into_iter()
        .map(|p| p.work_order_number)
        .collect();
    assert_eq!(
        numbers,
        ["d", "b", "a", "c"],
        "the vendor's date wins; no date sorts last"
    );
}

#[test]
fn migration_4_backfills_search_text_so_old_projects_are_found() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v3.db");
    {
        let mut connection = rusqlite::Connection::open(&path).unwrap();
        migrations::create_at_version(&mut connection, 3).unwrap();
        connection
            .execute_batch(
                "INSERT INTO integrations (id, code, mode, username, base_url, created_at)
                     VALUES (1, 'OLD', 'external', 'u', 'https://p.example', 0);
                 INSERT INTO projects (integration_id, work_order_number, address1, city, updated_at)
                     VALUES (1, 'W-9', '12 Magnolia Dr', 'Marietta', 0);",
            )
            .unwrap();
    }
    let store = Store::open(&path).unwrap();
    let found = store
        .list_projects(&ProjectQuery {
            search: Some("MAGNOLIA".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id.to_string(), "OLD::W-9");
}

/// Item: Pruvan Share projects already in a cache (imported by the rules that dropped instructions,
/// description, due date and status for external integrations) get the missing values on their next
/// import, as fills only, although their stored fingerprints match the unchanged orders.
#[test]
fn a_cache_imported_by_earlier_rules_gets_missing_values_as_fills_on_its_next_import() {
    let (_dir, store) = store();
    let with_vendor_fields = |number: &str| {
        let mut order = order(number, "Springfield");
        order["instructions"] = json!("Mow front and back");
        order["description"] = json!("Grass cut");
        order["dueDate"] = json!("2026-12-01");
        order["status"] = json!("rush");
        order
    };
    let orders = [with_vendor_fields("1"), with_vendor_fields("2")];
    import(&store, ImportKind::FullImport, &orders).unwrap();

    // Rewrite both rows as the earlier rules left them: no vendor fields from the wire, and the bare
    // 16-byte fingerprint they stored (seeded without a rules version), which still matches the orders.
    let integration = store.integration("ACME").unwrap();
    let old_seed = xxhash_rust::xxh3::xxh3_64(
        json!({"version": 1, "mode": integration.mode, "auto_admin": integration.auto_admin,
               "work_type": null, "assign_to": integration.default_assign_to})
        .to_string()
        .as_bytes(),
    );
    store
        .write(|tx| {
            for order in &orders {
                let old = xxhash_rust::xxh3::xxh3_128_with_seed(order.to_string().as_bytes(), old_seed);
                tx.execute(
                    "UPDATE projects SET instructions = NULL, description = NULL, due_date = NULL,
                         status = NULL, fingerprint = ?2
                     WHERE work_order_number = ?1",
                    rusqlite::params![order["workOrderNumber"].as_str(), old.to_le_bytes().to_vec()],
                )?;
            }
            // Project 2: the vendor had set its own instructions (which cleared its fingerprint).
            tx.execute(
                "UPDATE projects SET instructions = 'Side gate only', fingerprint = NULL
                 WHERE work_order_number = '2'",
                [],
            )?;
            Ok(())
        })
        .unwrap();

    let report = import(&store, ImportKind::FullImport, &orders).unwrap();
    assert_eq!(report.updated, 2, "{report:?}");
    let first = store.project(&id("1")).unwrap();
    assert_eq!(first.instructions.as_deref(), Some("Mow front and back"));
    assert_eq!(first.description.as_deref(), Some("Grass cut"));
    assert_eq!(first.due_date.as_deref(), Some("2026-12-01"));
    assert_eq!(first.status.as_deref(), Some("RUSH"));
    let second = store.project(&id("2")).unwrap();
    assert_eq!(
        second.instructions.as_deref(),
        Some("Side gate only"),
        "a vendor's value is never overwritten by the fill"
    );
    assert_eq!(second.status.as_deref(), Some("RUSH"));

    // Filled once: the same response is skipped by its (new) fingerprints from now on.
    let report = import(&store, ImportKind::FullImport, &orders).unwrap();
    assert!(report.is_no_op(), "{report:?}");
    assert_eq!(report.unchanged, 2);
}

#[test]
fn an_order_that_changes_nothing_records_its_fingerprint() {
    let (_dir, store) = store();
    let orders = [order("1", "Springfield")];
    import(&store, ImportKind::FullImport, &orders).unwrap();
    // A local edit clears the fingerprint; the next import of the same order changes nothing (Auto
    // Admin on, but the order carries no instructions) and records the fingerprint again.
    store
        .edit_project(
            &id("1"),
            &ProjectEdit {
                instructions: Some("Side gate".into()),
                ..Default::default()
            },
        )
        .unwrap();
    let fingerprint = |store: &Store| {
        store
            .read(|connection| {
                Ok(connection.query_row(
                    "SELECT fingerprint FROM projects WHERE work_order_number = '1'",
                    [],
                    |row| row.get::<_, Option<Vec<u8>>>(0),
                )?)
            })
            .unwrap()
    };
    assert_eq!(
        fingerprint(&store).map(|bytes| bytes.len()),
        Some(1),
        "rules version only"
    );
    let report = import(&store, ImportKind::FullImport, &orders).unwrap();
    assert_eq!(report.unchanged, 1);
    assert_eq!(fingerprint(&store).map(|bytes| bytes.len()), Some(17));
}

/// Every page of `query` walked forwards with `after`, then backwards with `before` from the end.
fn pages_both_ways(store: &Store, query: &ProjectQuery) -> (Vec<Vec<String>>, Vec<Vec<String>>) {
    let ids = |page: Vec<ProjectSummary>| page.into_iter().map(|p| p.id.to_string()).collect::<Vec<_>>();
    let mut forward: Vec<Vec<String>> = Vec::new();
    loop {
        let after = forward
            .last()
            .and_then(|page| page.last())
            .map(|last| ProjectId::parse(last).unwrap());
        let page = ids(store
            .list_projects(&ProjectQuery {
                after,
                ..query.clone()
            })
            .unwrap());
        if page.is_empty() {
            break;
        }
        forward.push(page);
    }
    // Backwards from the end: the first `before` is the project after the last page's last row, which
    // does not exist; start from the last page instead and go back from its first row.
    let mut backward: Vec<Vec<String>> = forward.last().cloned().into_iter().collect();
    loop {
        let first = backward
            .last()
            .and_then(|page| page.first())
            .map(|id| ProjectId::parse(id).unwrap());
        let page = ids(store
            .list_projects(&ProjectQuery {
                before: first,
                ..query.clone()
            })
            .unwrap());
        if page.is_empty() {
            break;
        }
        backward.push(page);
    }
    (forward, backward)
}

#[test]
fn backward_pages_are_the_forward_pages_in_reverse_and_count_counts_them() {
    use crate::model::ProjectSort;
    let (_dir, store) = store();
    let cities = ["Springfield", "Peoria", "Elmhurst", "Chicago"];
    let mut orders: Vec<_> = (0..95)
        .map(|n| order(&format!("{n:03}"), cities[n % 4]))
        .collect();
    for (n, order) in orders.iter_mut().enumerate() {
        order["clientDueDate"] = json!(format!("2030-01-{:02}", 1 + n % 5)); // ties on every date
        order["address1"] = json!(format!("{} {} St", 10 + n, ["Elm", "Oak", "Maple"][n % 3]));
    }
    import(&store, ImportKind::FullImport, &orders).unwrap();
    let searches = [
        None,
        Some("elm"),
        Some("ELMHURST"),
        Some("o"),
        Some("04"),
        Some("maple st"),
        Some("zzz"),
    ];
    for sort in [ProjectSort::DueDate, ProjectSort::Number] {
        for search in searches {
            let query = ProjectQuery {
                sort,
                limit: 7,
                search: search.map(str::to_owned),
                ..Default::default()
            };
            let (forward, mut backward) = pages_both_ways(&store, &query);
            backward.reverse();
            assert_eq!(backward, forward, "{sort:?} {search:?}");
            let rows: Vec<String> = forward.concat();
            let all: Vec<String> = store
                .list_projects(&ProjectQuery {
                    limit: 1000,
                    ..query.clone()
                })
                .unwrap()
                .into_iter()
                .map(|p| p.id.to_string())
                .collect();
            assert_eq!(rows, all, "{sort:?} {search:?}: the pages walk the whole list");
            assert_eq!(
                store.count_projects(&query).unwrap(),
                rows.len() as u64,
                "{sort:?} {search:?}"
            );
        }
    }
    // What each search finds: each part at the start of a word of the number, address or city, case
    // ignored.
    let count = |search: &str| {
        store
            .count_projects(&ProjectQuery {
                search: Some(search.into()),
                ..Default::default()
            })
            .unwrap()
    };
    // Elm streets (32) or Elmhurst (24), both for 8 of them.
    assert_eq!(count("elm"), 48);
    assert_eq!(count("zzz"), 0);
    assert_eq!(count("maple st"), 31);
    assert_eq!(count("094"), 1);
    // `after` and `before` together: the rows between.
    let all = store
        .list_projects(&ProjectQuery {
            limit: 1000,
            ..Default::default()
        })
        .unwrap();
    let between = store
        .list_projects(&ProjectQuery {
            after: Some(all[10].id.clone()),
            before: Some(all[20].id.clone()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(between, all[11..20].to_vec());
    assert!(matches!(
        store.list_projects(&ProjectQuery {
            before: Some(id("gone")),
            ..Default::default()
        }),
        Err(crate::Error::UnknownProject(_))
    ));
}

#[test]
fn pages_never_repeat_or_skip_a_project_while_projects_arrive() {
    let (_dir, store) = store();
    let mut orders: Vec<_> = (0..60)
        .map(|n| order(&format!("{:03}", n * 2), "Peoria"))
        .collect();
    for (n, order) in orders.iter_mut().enumerate() {
        order["clientDueDate"] = json!(format!("2030-01-{:02}", 1 + n % 3));
    }
    import(&store, ImportKind::FullImport, &orders).unwrap();
    for search in [None, Some("peoria")] {
        let query = ProjectQuery {
            limit: 9,
            search: search.map(str::to_owned),
            ..Default::default()
        };
        let before: Vec<String> = store
            .list_projects(&ProjectQuery {
                limit: 1000,
                ..query.clone()
            })
            .unwrap()
            .into_iter()
            .map(|p| p.id.to_string())
            .collect();
        // Walk forwards, importing new projects (odd numbers, every due date) between two pages.
        let mut seen: Vec<String> = Vec::new();
        let mut extra = 1;
        loop {
            let after = seen.last().map(|last| ProjectId::parse(last).unwrap());
            let page: Vec<String> = store
                .list_projects(&ProjectQuery {
                    after,
                    ..query.clone()
                })
                .unwrap()
                .into_iter()
                .map(|p| p.id.to_string())
                .collect();
            if page.is_empty() {
                break;
            }
            seen.extend(page);
            let mut new = order(&format!("{extra:03}{}", search.is_some() as u8), "Peoria");
            new["clientDueDate"] = json!(format!("2030-01-{:02}", 1 + extra % 3));
            import(&store, ImportKind::Refresh, &[new]).unwrap();
            extra += 2;
        }
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), seen.len(), "{search:?}: a row came twice");
        let kept: Vec<&String> = seen.iter().filter(|id| before.contains(id)).collect();
        assert_eq!(
            kept,
            before.iter().collect::<Vec<_>>(),
            "{search:?}: every old row, once, in order"
        );
    }
}

#[test]
fn the_search_index_follows_every_write_of_a_project() {
    let (_dir, store) = store();
    let integrity = |store: &Store| {
        store
            .write(|connection| {
                connection.execute(
                    "INSERT INTO projects_search (projects_search, rank) VALUES ('integrity-check', 1)",
                    [],
                )?;
                Ok(())
            })
            .unwrap()
    };
    let find = |search: &str| {
        store
            .list_projects(&ProjectQuery {
                search: Some(search.into()),
                limit: 500,
                ..Default::default()
            })
            .unwrap()
            .into_iter()
            .map(|p| p.work_order_number)
            .collect::<Vec<_>>()
    };
    // Five rows a page: the many matches of "peoria" are tested along the list.
    let peoria = || {
        store
            .count_projects(&ProjectQuery {
                search: Some("peoria".into()),
                limit: 5,
                ..Default::default()
            })
            .unwrap()
    };
    let orders: Vec<_> = (0..300)
        .map(|n| order(&format!("N{n:03}"), if n == 7 { "Zürich" } else { "Peoria" }))
        .collect();
    import(&store, ImportKind::FullImport, &orders).unwrap();
    assert_eq!(store.search_backlog().unwrap(), 300);
    assert_eq!(store.catch_up_search().unwrap(), 300);
    assert_eq!(store.search_backlog().unwrap(), 0);
    integrity(&store);
    assert_eq!(find("zürich"), ["N007"]);
    assert_eq!(find("ZÜRICH"), ["N007"]);
    assert_eq!(find("peoria").len(), 299);
    assert_eq!(peoria(), 299);
    // A refresh moves a project to another city: found under the new one only.
    import(&store, ImportKind::Refresh, &[order("N008", "Zürich")]).unwrap();
    assert_eq!(find("zürich"), ["N007", "N008"]);
    assert_eq!(peoria(), 298);
    // A local edit rewrites the row (and its search text).
    store
        .edit_project(
            &id("N009"),
            &ProjectEdit {
                instructions: Some("x".into()),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(find("n009"), ["N009"]);
    integrity(&store);
    // A vendor's delete and a Full Import's removal take projects out.
    store.delete_project(&id("N007")).unwrap();
    assert_eq!(find("zürich"), ["N008"]);
    import(&store, ImportKind::FullImport, &orders[100..200]).unwrap();
    assert_eq!(peoria(), 100);
    assert_eq!(find("zürich"), Vec::<String>::new());
    integrity(&store);
    store.delete_integration("ACME", true).unwrap();
    integrity(&store);
    assert_eq!(
        store
            .count_projects(&ProjectQuery {
                search: Some("peoria".into()),
                ..Default::default()
            })
            .unwrap(),
        0
    );
}

/// What every search of `searches` finds, by number, in list order, with pages of `limit`.
fn found_by(store: &Store, searches: &[&str], limit: u32) -> Vec<(String, Vec<String>, u64)> {
    searches
        .iter()
        .map(|search| {
            let query = ProjectQuery {
                search: Some((*search).into()),
                limit,
                ..Default::default()
            };
            let mut numbers = Vec::new();
            loop {
                let after = numbers.last().map(|number: &String| id(number));
                let page = store
                    .list_projects(&ProjectQuery {
                        after,
                        ..query.clone()
                    })
                    .unwrap();
                if page.is_empty() {
                    break;
                }
                numbers.extend(page.into_iter().map(|p| p.work_order_number));
            }
            (search.to_string(), numbers, store.count_projects(&query).unwrap())
        })
        .collect()
}

#[test]
fn a_search_finds_the_same_projects_before_during_and_after_the_index_catches_up() {
    let (_dir, store) = store();
    let cities = ["Springfield", "Peoria", "São Paulo", "Elmhurst"];
    let orders: Vec<_> = (0..240)
        .map(|n| {
            let mut order = order(&format!("WO-{n:04}"), cities[n % 4]);
            order["address1"] = json!(format!("{} {} St", 2 + n % 30, ["Elm", "Oak", "Maple"][n % 3]));
            order["clientDueDate"] = json!(format!("2030-01-{:02}", 1 + n % 9));
            order
        })
        .collect();
    import(&store, ImportKind::FullImport, &orders).unwrap();
    let searches = [
        "elm",
        "ELM ST",
        "st elm",
        "spring",
        "field",
        "são",
        "sao",
        "wo-00",
        "WO-0042",
        "0042",
        "2 elm",
        "12 oak",
        "62701",
        "peoria maple",
        "%",
        "-01",
        "zzz",
        "e",
    ];
    // The rule, applied to every project directly: each part at the start of a word.
    let expected: Vec<(String, Vec<String>, u64)> = {
        let all = store
            .list_projects(&ProjectQuery {
                limit: 1000,
                ..Default::default()
            })
            .unwrap();
        searches
            .iter()
            .map(|search| {
                let lower = search.to_lowercase();
                let parts: Vec<String> = lower.split_whitespace().map(str::to_owned).collect();
                let numbers: Vec<String> = all
                    .iter()
                    .filter(|summary| {
                        let project = store.project(&summary.id).unwrap();
                        let text = [
                            Some(project.work_order_number.as_str()),
                            project.address1.as_deref(),
                            project.city.as_deref(),
                            project.zip.as_deref(),
                        ]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(" ")
                        .to_lowercase();
                        if parts.iter().all(|part| !part.chars().any(char::is_alphanumeric)) {
                            text.contains(&lower)
                        } else {
                            super::search::matches(&text, &parts)
                        }
                    })
                    .map(|summary| summary.work_order_number.clone())
                    .collect();
                let count = numbers.len() as u64;
                (search.to_string(), numbers, count)
            })
            .collect()
    };
    assert_eq!(expected[0].2, 120, "Elm St (80) or Elmhurst (60), 20 both");
    assert_eq!(expected[4].2, 0, "not inside a word");
    assert_eq!(expected[7].2, 100, "WO-0000 to WO-0099");
    // Nothing indexed yet: every project is read from the table.
    assert_eq!(store.search_backlog().unwrap(), 240);
    for limit in [5, 50] {
        assert_eq!(
            found_by(&store, &searches, limit),
            expected,
            "before, pages of {limit}"
        );
    }
    store.catch_up_search().unwrap();
    assert_eq!(store.search_backlog().unwrap(), 0);
    for limit in [5, 50] {
        assert_eq!(
            found_by(&store, &searches, limit),
            expected,
            "after, pages of {limit}"
        );
    }
    // Half indexed (as after a crash between two catch-up transactions): the mark splits the projects.
    store
        .write(|tx| {
            tx.execute_batch(
                "INSERT INTO projects_search (projects_search) VALUES ('delete-all');
                 INSERT INTO projects_search (rowid, search_text)
                     SELECT id, search_text FROM projects WHERE id <= 120 AND search_text <> '';
                 UPDATE search_state SET indexed_through = 120;",
            )?;
            Ok(())
        })
        .unwrap();
    assert_eq!(store.search_backlog().unwrap(), 120);
    for limit in [5, 50] {
        assert_eq!(
            found_by(&store, &searches, limit),
            expected,
            "half, pages of {limit}"
        );
    }
    assert_eq!(store.catch_up_search().unwrap(), 120);
    assert_eq!(found_by(&store, &searches, 7), expected);
}

#[test]
fn a_reused_row_id_below_the_mark_is_indexed_by_its_insert() {
    let (_dir, store) = store();
    import(
        &store,
        ImportKind::FullImport,
        &[order("1", "Springfield"), order("2", "Peoria")],
    )
    .unwrap();
    store.catch_up_search().unwrap();
    // The row with the highest id goes; the next insert takes its id again, at the mark.
    store.delete_project(&id("2")).unwrap();
    import(&store, ImportKind::Refresh, &[order("3", "Zürich")]).unwrap();
    assert_eq!(
        store.search_backlog().unwrap(),
        0,
        "at the mark: indexed, not left to a catch-up"
    );
    let find = |search: &str| {
        store
            .list_projects(&ProjectQuery {
                search: Some(search.into()),
                ..Default::default()
            })
            .unwrap()
            .into_iter()
            .map(|p| p.work_order_number)
            .collect::<Vec<_>>()
    };
    assert_eq!(find("zür"), ["3"]);
    assert!(find("peoria").is_empty());
    // Deleting it takes it out of the index again.
    store.delete_project(&id("3")).unwrap();
    store
        .write(|tx| {
            tx.execute(
                "INSERT INTO projects_search (projects_search, rank) VALUES ('integrity-check', 1)",
                [],
            )?;
            Ok(())
        })
        .unwrap();
    assert!(find("zür").is_empty());
}

#[test]
fn commits_publish_the_tables_they_changed_and_rollbacks_publish_nothing() {
    let (_dir, store) = store();
    let heard = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = heard.clone();
    let subscription = store.changes().subscribe(Changes::ALL, move |changes| {
        sink.lock().unwrap().push(changes);
    });
    import(&store, ImportKind::FullImport, &[order("1", "Springfield")]).unwrap();
    let after_import = std::mem::take(&mut *heard.lock().unwrap());
    let union = after_import
        .iter()
        .fold(Changes::NONE, |all, changes| all | *changes);
    assert!(union.intersects(Changes::PROJECTS), "{after_import:?}");
    assert!(union.intersects(Changes::INTEGRATIONS), "{after_import:?}");

    store
        .edit_project(
            &id("1"),
            &ProjectEdit {
                status: Some("In Progress".into()),
                ..ProjectEdit::default()
            },
        )
        .unwrap();
    let after_edit = std::mem::take(&mut *heard.lock().unwrap());
    assert_eq!(
        after_edit,
        vec![Changes::PROJECTS | Changes::OUTBOX],
        "one commit, its tables"
    );

    // A transaction that fails rolls back: nobody hears of the row it had written.
    let failed: crate::Result<()> = store.write(|tx| {
        tx.execute("UPDATE projects SET status = 'X'", [])?;
        Err(crate::Error::Provider("no".into()))
    });
    assert!(failed.is_err());
    store.write(|_| Ok(())).unwrap();
    assert!(heard.lock().unwrap().is_empty(), "{:?}", heard.lock().unwrap());

    drop(subscription);
    assert_eq!(store.changes().subscriber_count(), 0);
}

#[test]
fn a_closed_store_refuses_calls_with_a_typed_error_and_reopens() {
    let (_dir, store) = store();
    import(&store, ImportKind::FullImport, &[order("1", "Springfield")]).unwrap();
    assert!(store.close(std::time::Duration::from_secs(1)));
    assert!(store.is_closed());
    assert!(matches!(
        store.list_projects(&ProjectQuery::default()),
        Err(crate::Error::Paused)
    ));
    assert!(matches!(store.write(|_| Ok(())), Err(crate::Error::Paused)));
    store.reopen().unwrap();
    assert_eq!(store.list_projects(&ProjectQuery::default()).unwrap().len(), 1);
    // The hooks came back with the connection.
    let heard = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = heard.clone();
    let _subscription = store.changes().subscribe(Changes::PROJECTS, move |_| {
        flag.store(true, std::sync::atomic::Ordering::SeqCst);
    });
    store.close_project(&id("1")).unwrap();
    assert!(heard.load(std::sync::atomic::Ordering::SeqCst));
}

#[test]
fn the_device_id_is_made_once_per_database_and_agreed_on_by_racing_connections() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.db");
    Store::open(&path).unwrap();
    let ids: Vec<String> = std::thread::scope(|scope| {
        let racers: Vec<_> = (0..4)
            .map(|_| scope.spawn(|| Store::open(&path).unwrap().device_id().unwrap()))
            .collect();
        racers.into_iter().map(|racer| racer.join().unwrap()).collect()
    });
    assert!(ids.iter().all(|id| id == &ids[0]), "{ids:?}");
    uuid::Uuid::parse_str(&ids[0]).expect("a UUID");
    assert_eq!(
        Store::open(&path).unwrap().device_id().unwrap(),
        ids[0],
        "kept across opens"
    );

    let (_other_dir, other) = store();
    assert_ne!(
        other.device_id().unwrap(),
        ids[0],
        "another database, another device"
    );
}
