//! Schema migration tests: every older database, with rows, upgrades to the schema of a fresh one and keeps
//! its rows; a newer database is refused untouched; a failing migration changes nothing.
//!
//! For each version `v` from 0 to [`LATEST_VERSION`], a database is built with [`create_at_version`], filled
//! from `fixtures/schema/v{v}_rows.sql` (version 0 has no tables, hence no rows), and opened with
//! [`Store::open`]. The upgraded schema is compared with a fresh database's through SQLite's pragmas
//! (columns, indexes and their columns, foreign keys, object names), not through the `CREATE` text stored in
//! `sqlite_schema`, which differs after `ALTER TABLE`. The rows are checked twice: every column of every row
//! that existed before must be unchanged, and the public API must return what
//! `fixtures/schema/v{v}_expected.json` says (see `fixtures/schema/README.md`).
//!
//! The pragmas do not show `CHECK` constraints, partial-index conditions or index expressions; those come
//! from the migration files themselves, which `applied_migrations_never_change` pins.
//!
//! The fresh schema itself, `CREATE` text included, is pinned in `docs/schema.sql`
//! (`the_fresh_schema_matches_the_schema_snapshot`; `FIELDSYNC_UPDATE_SCHEMA=1` rewrites it).

// Helpers outside `#[test]` functions panic on purpose too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use fieldsync_core::model::{ImportKind, ProjectId};
use fieldsync_core::store::{ImportOptions, LATEST_VERSION, MIGRATIONS, create_at_version};
use fieldsync_core::{Error, Store};
use rusqlite::Connection;
use rusqlite::types::Value;
use sha2::{Digest, Sha256};

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/schema")
}

/// Reads `fixtures/schema/{name}`, failing with a message that says what a new schema version needs.
fn fixture(name: &str) -> String {
    let path = fixture_dir().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|err| {
        panic!(
            "cannot read the schema fixture {} ({err}): every schema version from 1 to LATEST_VERSION \
             ({LATEST_VERSION}) needs v{{N}}_rows.sql and v{{N}}_expected.json in fixtures/schema \
             (see fixtures/schema/README.md)",
            path.display()
        )
    })
}

fn user_version(connection: &Connection) -> i64 {
    connection
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap()
}

/// Runs `sql` and renders every row as `prefix` followed by its values.
fn rendered_rows(connection: &Connection, sql: &str, params: &[&str], prefix: &str) -> Vec<String> {
    let mut statement = connection.prepare(sql).unwrap();
    let width = statement.column_count();
    let mut rows = statement
        .query(rusqlite::params_from_iter(params.iter()))
        .unwrap();
    let mut lines = Vec::new();
    while let Some(row) = rows.next().unwrap() {
        let values: Vec<String> = (0..width)
            .map(|index| format!("{:?}", row.get::<_, Value>(index).unwrap()))
            .collect();
        lines.push(format!("{prefix} {}", values.join(" | ")));
    }
    lines
}

fn names(connection: &Connection, sql: &str, param: &str) -> Vec<String> {
    connection
        .prepare(sql)
        .unwrap()
        .query_map([param], |row| row.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

fn tables(connection: &Connection) -> Vec<String> {
    connection
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |row| row.get::<_, String>(0))
        .unwrap()
        .collect::<rusqlite::Result<Vec<_>>>()
        .unwrap()
        .into_iter()
        .filter(|name| !name.starts_with("sqlite_"))
        .collect()
}

/// The schema as SQLite describes it, one line per fact, ready for a readable diff.
fn schema(connection: &Connection) -> Vec<String> {
    let mut lines = rendered_rows(
        connection,
        "SELECT type, name, tbl_name FROM sqlite_schema ORDER BY type, name",
        &[],
        "object",
    );
    lines.extend(rendered_rows(
        connection,
        "SELECT type, name, ncol, wr, strict FROM pragma_table_list WHERE schema = 'main' ORDER BY name",
        &[],
        "table_list",
    ));
    for table in tables(connection) {
        lines.extend(rendered_rows(
            connection,
            "SELECT cid, name, type, \"notnull\", dflt_value, pk, hidden FROM pragma_table_xinfo(?1) ORDER BY cid",
            &[&table],
            &format!("{table} column"),
        ));
        lines.extend(rendered_rows(
            connection,
            "SELECT id, seq, \"table\", \"from\", \"to\", on_update, on_delete, \"match\"
             FROM pragma_foreign_key_list(?1) ORDER BY id, seq",
            &[&table],
            &format!("{table} foreign key"),
        ));
        lines.extend(rendered_rows(
            connection,
            "SELECT name, \"unique\", origin, partial FROM pragma_index_list(?1) ORDER BY name",
            &[&table],
            &format!("{table} index"),
        ));
        let indexes = names(
            connection,
            "SELECT name FROM pragma_index_list(?1) ORDER BY name",
            &table,
        );
        for index in indexes {
            lines.extend(rendered_rows(
                connection,
                "SELECT seqno, cid, name, \"desc\", coll, key FROM pragma_index_xinfo(?1) ORDER BY seqno",
                &[&index],
                &format!("{table} index {index} column"),
            ));
        }
    }
    lines
}

/// Every row of every table: the column names, then the rows ordered by all columns.
type TableRows = BTreeMap<String, (Vec<String>, Vec<Vec<Value>>)>;

fn select_rows(
    connection: &Connection,
    table: &str,
    columns: &[String],
) -> rusqlite::Result<Vec<Vec<Value>>> {
    let list = columns
        .iter()
        .map(|column| format!("\"{column}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let order = (1..=columns.len())
        .map(|index| index.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let mut statement = connection.prepare(&format!("SELECT {list} FROM \"{table}\" ORDER BY {order}"))?;
    statement
        .query_map([], |row| (0..columns.len()).map(|index| row.get(index)).collect())?
        .collect()
}

fn all_rows(connection: &Connection) -> TableRows {
    tables(connection)
        .into_iter()
        .map(|table| {
            let columns = names(
                connection,
                "SELECT name FROM pragma_table_info(?1) ORDER BY cid",
                &table,
            );
            let rows = select_rows(connection, &table, &columns).unwrap();
            (table, (columns, rows))
        })
        .collect()
}

/// Every row that existed before still exists with the same values in the columns it had.
fn assert_rows_survived(connection: &Connection, before: &TableRows, version: i64) {
    for (table, (columns, rows)) in before {
        let after = select_rows(connection, table, columns).unwrap_or_else(|err| {
            panic!("v{version}: table {table} with columns {columns:?} is gone after the upgrade: {err}")
        });
        assert_eq!(
            &after, rows,
            "v{version}: rows of {table} changed in the upgrade (columns {columns:?})"
        );
    }
}

/// `expected` is contained in `actual`: objects by the keys `expected` lists, arrays element by element
/// with the same length, anything else equal.
fn assert_subset(expected: &serde_json::Value, actual: &serde_json::Value, path: &str) {
    use serde_json::Value as Json;
    match (expected, actual) {
        (Json::Object(expected), Json::Object(actual_map)) => {
            for (key, value) in expected {
                let found = actual_map
                    .get(key)
                    .unwrap_or_else(|| panic!("{path}.{key}: missing in {actual}"));
                assert_subset(value, found, &format!("{path}.{key}"));
            }
        }
        (Json::Array(expected), Json::Array(actual_items)) => {
            assert_eq!(
                expected.len(),
                actual_items.len(),
                "{path}: expected {} elements, found {actual}",
                expected.len()
            );
            for (index, (value, found)) in expected.iter().zip(actual_items).enumerate() {
                assert_subset(value, found, &format!("{path}[{index}]"));
            }
        }
        _ => assert_eq!(expected, actual, "{path}"),
    }
}

/// Checks the fixture rows of `version` through the public API of an upgraded store.
fn assert_expected_through_api(store: &Store, version: i64) {
    let name = format!("v{version}_expected.json");
    let expected: serde_json::Value = serde_json::from_str(&fixture(&name))
        .unwrap_or_else(|err| panic!("fixtures/schema/{name} is not JSON: {err}"));

    let integrations = store.list_integrations().unwrap();
    assert_subset(
        &expected["integrations"],
        &serde_json::to_value(&integrations).unwrap(),
        &format!("{name} integrations"),
    );
    let work_types = store.list_work_types().unwrap();
    assert_subset(
        &expected["work_types"],
        &serde_json::to_value(&work_types).unwrap(),
        &format!("{name} work_types"),
    );

    let projects = expected["projects"].as_array().expect("`projects` is an array");
    assert_eq!(
        store.project_count().unwrap(),
        projects.len() as u64,
        "{name} must list every project of v{version}_rows.sql"
    );
    for project in projects {
        let id = project["id"]
            .as_str()
            .expect("every expected project has an `id`");
        let found = store
            .project(&ProjectId::parse(id).unwrap())
            .unwrap_or_else(|err| panic!("{name}: project {id}: {err}"));
        assert_subset(
            project,
            &serde_json::to_value(&found).unwrap(),
            &format!("{name} project {id}"),
        );
    }

    let pending = expected["pending_outbox"]
        .as_object()
        .expect("`pending_outbox` is an object");
    for integration in &integrations {
        let entries = store.pending_outbox_entries(&integration.code).unwrap();
        let wanted = pending
            .get(&integration.code)
            .cloned()
            .unwrap_or_else(|| serde_json::json!([]));
        assert_subset(
            &wanted,
            &serde_json::to_value(&entries).unwrap(),
            &format!("{name} pending_outbox {}", integration.code),
        );
    }
}

/// A database at `version` holding that version's fixture rows; returns its rows as SQLite sees them.
fn database_at(path: &Path, version: i64) -> TableRows {
    let mut connection = Connection::open(path).unwrap();
    create_at_version(&mut connection, version).unwrap();
    if version > 0 {
        let name = format!("v{version}_rows.sql");
        connection
            .execute_batch(&fixture(&name))
            .unwrap_or_else(|err| panic!("fixtures/schema/{name} does not load at version {version}: {err}"));
    }
    assert_eq!(user_version(&connection), version);
    all_rows(&connection)
}

fn fresh_schema(dir: &Path) -> Vec<String> {
    let path = dir.join("fresh.db");
    drop(Store::open(&path).unwrap());
    let connection = Connection::open(&path).unwrap();
    assert_eq!(user_version(&connection), LATEST_VERSION);
    schema(&connection)
}

#[test]
fn every_older_schema_upgrades_to_the_fresh_schema_and_keeps_its_rows() {
    let dir = tempfile::tempdir().unwrap();
    let fresh = fresh_schema(dir.path());
    for version in 0..=LATEST_VERSION {
        let path = dir.path().join(format!("v{version}.db"));
        let before = database_at(&path, version);
        if version > 0 {
            assert!(
                before.values().any(|(_, rows)| !rows.is_empty()),
                "v{version}_rows.sql inserts no rows"
            );
        }

        let store = Store::open(&path)
            .unwrap_or_else(|err| panic!("Store::open of a version {version} database failed: {err}"));
        let connection = Connection::open(&path).unwrap();
        assert_eq!(user_version(&connection), LATEST_VERSION, "v{version}");
        assert_eq!(
            schema(&connection),
            fresh,
            "v{version}: the upgraded schema differs from a fresh database's"
        );
        assert_rows_survived(&connection, &before, version);
        drop(connection);
        if version > 0 {
            assert_expected_through_api(&store, version);
        }

        // The upgraded database takes new work: an import creates a project next to the old ones.
        if let Some(integration) = store.list_integrations().unwrap().first() {
            let before_count = store.project_count().unwrap();
            let pending = store.pending_outbox_entries(&integration.code).unwrap().len();
            let body = serde_json::json!({"workOrders": [{
                "workOrderNumber": "MIGRATED-1", "address1": "1 New St", "city": "Dallas", "state": "TX",
                "zip": "75201", "services": [{"serviceName": "Inspection"}]}]});
            let report = store
                .import_response(
                    &integration.code,
                    Cursor::new(body.to_string()),
                    None,
                    &ImportOptions::new(ImportKind::Refresh),
                )
                .unwrap_or_else(|err| panic!("v{version}: import into the upgraded database: {err}"));
            assert_eq!(report.created, 1, "v{version}: {report:?}");
            assert_eq!(store.project_count().unwrap(), before_count + 1);
            assert_eq!(
                store.pending_outbox_entries(&integration.code).unwrap().len(),
                pending,
                "v{version}: an import must not touch the outbox"
            );
        }
    }
}

#[test]
fn every_version_has_its_fixtures() {
    // Fails first and clearly when a migration is added without fixtures, before any database is built.
    for version in 1..=LATEST_VERSION {
        for name in [
            format!("v{version}_rows.sql"),
            format!("v{version}_expected.json"),
        ] {
            assert!(
                fixture_dir().join(&name).is_file(),
                "schema version {version} has no fixtures/schema/{name}: add the rows that exist at that \
                 version and what the API returns for them (see fixtures/schema/README.md)"
            );
        }
    }
}

#[test]
fn applied_migrations_never_change() {
    let recorded: BTreeMap<usize, String> = fixture("migrations.sha256")
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let (version, hash) = line
                .split_once(' ')
                .unwrap_or_else(|| panic!("migrations.sha256: `{line}` is not `N HEX`"));
            (version.parse().unwrap(), hash.trim().to_owned())
        })
        .collect();
    for (index, sql) in MIGRATIONS.iter().enumerate() {
        let version = index + 1;
        let hash = hex::encode(Sha256::digest(sql.as_bytes()));
        let expected = recorded.get(&version).unwrap_or_else(|| {
            panic!(
                "migration {version} has no line in fixtures/schema/migrations.sha256: add `{version} {hash}`"
            )
        });
        assert_eq!(
            &hash, expected,
            "migration {version} changed after release: databases in the field were built with the old text; \
             add a new migration instead"
        );
    }
    assert_eq!(
        recorded.len(),
        MIGRATIONS.len(),
        "migrations.sha256 lists versions that do not exist"
    );
}

/// A database written by a newer fieldsync: the latest schema with rows, a table this build does not know,
/// and `user_version` one higher. `wal` sets the journal mode the newer build would use.
fn newer_database(path: &Path, wal: bool) {
    let mut connection = Connection::open(path).unwrap();
    if wal {
        let mode: String = connection
            .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }
    create_at_version(&mut connection, LATEST_VERSION).unwrap();
    connection
        .execute_batch(&fixture(&format!("v{LATEST_VERSION}_rows.sql")))
        .unwrap();
    connection
        .execute_batch(&format!(
            "CREATE TABLE future_feature (id INTEGER PRIMARY KEY, data TEXT NOT NULL);
             INSERT INTO future_feature (data) VALUES ('from a newer fieldsync');
             PRAGMA user_version = {};",
            LATEST_VERSION + 1
        ))
        .unwrap();
    connection.close().unwrap();
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    files
}

fn assert_newer_schema_refused_untouched(wal: bool) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("newer.db");
    newer_database(&path, wal);
    assert_eq!(files_in(dir.path()), ["newer.db"]);
    let before = std::fs::read(&path).unwrap();
    // Bytes 18 and 19 of the header: 1 for a rollback journal, 2 for WAL.
    assert_eq!(before[18], if wal { 2 } else { 1 });

    let err = Store::open(&path).unwrap_err();
    match &err {
        Error::SchemaTooNew {
            path: reported,
            found,
            supported,
        } => {
            assert_eq!(*found, LATEST_VERSION + 1);
            assert_eq!(*supported, LATEST_VERSION);
            assert_eq!(reported, &path);
        }
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
    assert!(err.to_string().contains("left untouched"), "{err}");
    assert!(
        std::fs::read(&path).unwrap() == before,
        "the newer database was modified"
    );
    assert_eq!(
        files_in(dir.path()),
        ["newer.db"],
        "opening a newer database left files beside it"
    );
}

#[test]
fn a_newer_schema_is_refused_and_left_untouched() {
    assert_newer_schema_refused_untouched(false);
}

#[test]
fn a_newer_wal_database_is_refused_and_left_untouched() {
    assert_newer_schema_refused_untouched(true);
}

#[test]
fn a_failing_migration_leaves_the_database_at_its_old_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1.db");
    database_at(&path, 1);
    {
        // A table in the way of migration 2 (`CREATE TABLE outbox`) makes it fail half-way: after its
        // `ALTER TABLE projects ADD COLUMN removal_pending`.
        let connection = Connection::open(&path).unwrap();
        connection
            .execute_batch("CREATE TABLE outbox (note TEXT); INSERT INTO outbox VALUES ('in the way');")
            .unwrap();
    }
    let before = all_rows(&Connection::open(&path).unwrap());
    assert!(before["projects"].1.len() >= 2);

    for attempt in 0..2 {
        let err = Store::open(&path).expect_err("migration 2 cannot succeed with `outbox` in the way");
        assert!(matches!(err, Error::Storage(_)), "attempt {attempt}: {err:?}");
        assert!(err.to_string().contains("outbox"), "attempt {attempt}: {err}");

        let connection = Connection::open(&path).unwrap();
        assert_eq!(user_version(&connection), 1, "attempt {attempt}");
        let project_columns = names(&connection, "SELECT name FROM pragma_table_info(?1)", "projects");
        assert!(
            !project_columns.iter().any(|column| column == "removal_pending"),
            "attempt {attempt}: the first statement of migration 2 was kept: {project_columns:?}"
        );
        assert_eq!(all_rows(&connection), before, "attempt {attempt}: rows changed");
        let integrity: String = connection
            .query_row("PRAGMA integrity_check", [], |row| row.get(0))
            .unwrap();
        assert_eq!(integrity, "ok");
    }
}

#[test]
fn the_schema_comparison_sees_each_kind_of_difference() {
    // The upgrade test is only as good as `schema`: each of these changes must show in it.
    let dir = tempfile::tempdir().unwrap();
    let fresh = fresh_schema(dir.path());
    let changes = [
        "CREATE INDEX projects_by_city ON projects (city)",
        "ALTER TABLE tasks ADD COLUMN note TEXT",
        "ALTER TABLE work_types ADD COLUMN archived INTEGER NOT NULL DEFAULT 0",
        "DROP INDEX projects_by_client_status; CREATE INDEX projects_by_client_status ON projects (client_status)",
        "DROP INDEX outbox_retry_due; CREATE INDEX outbox_retry_due ON outbox (next_attempt_at DESC) WHERE state = 'retry_wait'",
        "CREATE TABLE probe_extra (id TEXT PRIMARY KEY, project_id INTEGER REFERENCES projects(id))",
    ];
    for (index, change) in changes.iter().enumerate() {
        let path = dir.path().join(format!("changed-{index}.db"));
        drop(Store::open(&path).unwrap());
        let connection = Connection::open(&path).unwrap();
        connection.execute_batch(change).unwrap();
        assert_ne!(schema(&connection), fresh, "`{change}` went unnoticed");
    }
}

#[test]
fn rows_relying_on_schema_defaults_are_readable() {
    // A migration that backfills rows, or any writer that leaves a column to its declared default, must
    // produce rows the API can read: a schema default is part of the schema's contract.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("defaults.db");
    drop(Store::open(&path).unwrap());
    Connection::open(&path)
        .unwrap()
        .execute_batch(
            "INSERT INTO integrations (code, mode, username, base_url, created_at)
                 VALUES ('DEFAULTS', 'external', 'vendor', 'https://p.example.test/api', 1767225600);
             INSERT INTO projects (integration_id, work_order_number, updated_at)
                 VALUES ((SELECT id FROM integrations WHERE code = 'DEFAULTS'), '1', 1767225600);
             INSERT INTO tasks (project_id, position, name)
                 VALUES ((SELECT id FROM projects WHERE work_order_number = '1'), 0, 'Inspection');",
        )
        .unwrap();
    let store = Store::open(&path).unwrap();
    let integration = store
        .integration("DEFAULTS")
        .unwrap_or_else(|err| panic!("an integration row with the schema's defaults is unreadable: {err}"));
    assert_eq!(integration.check_in, Default::default());
    assert_eq!(integration.publish_to, Vec::<String>::new());
    assert_eq!(store.list_integrations().unwrap().len(), 1);
    let project = store.project(&ProjectId::parse("DEFAULTS::1").unwrap()).unwrap();
    assert!(project.options.is_empty() && !project.closed && !project.removal_pending);
    assert_eq!(project.tasks.len(), 1);
}

/// The committed snapshot of the fresh schema, and the variable that rewrites it.
const SCHEMA_SNAPSHOT: &str = "docs/schema.sql";
const UPDATE_SCHEMA: &str = "FIELDSYNC_UPDATE_SCHEMA";

/// One `CREATE` statement as SQLite stored it, made comparable: comments dropped, every run of whitespace
/// one space, none after `(` or before `)` and `,`, one after `,`. Quoted text is kept as it is.
fn normalise_sql(sql: &str) -> String {
    let mut out = String::new();
    let mut chars = sql.chars().peekable();
    let mut space = false;
    while let Some(c) = chars.next() {
        let closing = match c {
            '\'' | '"' | '`' => Some(c),
            '[' => Some(']'),
            _ => None,
        };
        if c == '-' && chars.peek() == Some(&'-') {
            chars.by_ref().find(|&c| c == '\n');
            space = true;
            continue;
        }
        if c == '/' && chars.peek() == Some(&'*') {
            chars.next();
            let mut previous = ' ';
            for c in chars.by_ref() {
                if previous == '*' && c == '/' {
                    break;
                }
                previous = c;
            }
            space = true;
            continue;
        }
        if c.is_whitespace() {
            space = true;
            continue;
        }
        if !out.is_empty() && !matches!(c, ')' | ',') && !out.ends_with('(') && (space || out.ends_with(','))
        {
            out.push(' ');
        }
        space = false;
        out.push(c);
        if let Some(closing) = closing {
            // A doubled quote inside the text closes and reopens: the same characters either way.
            for c in chars.by_ref() {
                out.push(c);
                if c == closing {
                    break;
                }
            }
        }
    }
    out
}

/// A normalised `CREATE TABLE` with one column or constraint per line, for a readable snapshot.
fn one_column_per_line(statement: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    let mut quote = None;
    for c in statement.chars() {
        if let Some(closing) = quote {
            out.push(c);
            if c == closing {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' | '`' => quote = Some(c),
            '[' => quote = Some(']'),
            _ => {}
        }
        match c {
            '(' => {
                depth += 1;
                out.push(c);
                if depth == 1 {
                    out.push_str("\n    ");
                }
            }
            ')' => {
                depth -= 1;
                if depth == 0 {
                    out.push('\n');
                }
                out.push(c);
            }
            ',' if depth == 1 => out.push_str(",\n   "),
            _ => out.push(c),
        }
    }
    out
}

/// The schema of the database at `path` as `docs/schema.sql` holds it: a header, then the `sql` of every
/// table, index, trigger and view in `sqlite_master` (SQLite's own objects left out), sorted by name.
fn schema_snapshot(path: &Path) -> String {
    let connection = Connection::open(path).unwrap();
    let mut statement = connection
        .prepare(
            "SELECT type, sql FROM sqlite_master
              WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'
              ORDER BY name, type",
        )
        .unwrap();
    let objects = statement
        .query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<Vec<_>>>()
        .unwrap();
    let mut out = format!(
        "-- The schema of a freshly migrated fieldsync database (schema version {version}): the SQL of every\n\
         -- table, index, trigger and view in sqlite_master, sorted by name, comments dropped, whitespace\n\
         -- normalised. Generated: do not edit. After adding a migration, regenerate it with\n\
         --   {UPDATE_SCHEMA}=1 cargo nextest run -p fieldsync-tests --test e2e schema_snapshot\n\
         -- and review the difference with the migration.\n",
        version = user_version(&connection)
    );
    for (kind, sql) in objects {
        let sql = normalise_sql(&sql);
        let sql = if kind == "table" {
            one_column_per_line(&sql)
        } else {
            sql
        };
        out.push_str(&format!("\n{sql};\n"));
    }
    out
}

#[test]
fn the_fresh_schema_matches_the_schema_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fresh.db");
    drop(Store::open(&path).unwrap());
    let actual = schema_snapshot(&path);
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(SCHEMA_SNAPSHOT);
    if std::env::var_os(UPDATE_SCHEMA).is_some_and(|value| value == "1") {
        std::fs::write(&file, &actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&file)
        .unwrap_or_default()
        .replace("\r\n", "\n");
    if expected == actual {
        return;
    }
    let difference = expected
        .lines()
        .zip(actual.lines())
        .position(|(expected, actual)| expected != actual)
        .unwrap_or_else(|| expected.lines().count().min(actual.lines().count()));
    panic!(
        "{SCHEMA_SNAPSHOT} is not the schema of a fresh database (first difference at line {line}: \
         the snapshot has {snapshot:?}, the database {database:?}). If the change is intended (a new \
         migration), regenerate the snapshot with\n    {UPDATE_SCHEMA}=1 cargo nextest run -p \
         fieldsync-tests --test e2e schema_snapshot\nand commit it with the migration.",
        line = difference + 1,
        snapshot = expected.lines().nth(difference).unwrap_or("<end of file>"),
        database = actual.lines().nth(difference).unwrap_or("<end of file>"),
    );
}

#[test]
fn the_schema_snapshot_normalises_only_what_does_not_matter() {
    assert_eq!(
        normalise_sql("CREATE TABLE t (  -- why\n  a TEXT DEFAULT '  x -- y' , /* note */\n b INT\n)"),
        "CREATE TABLE t (a TEXT DEFAULT '  x -- y', b INT)"
    );
    // What `ALTER TABLE ... ADD COLUMN` leaves in sqlite_master reads like the same table written at once.
    assert_eq!(
        normalise_sql("CREATE TABLE t (\n    a TEXT\n, b REAL)"),
        normalise_sql("CREATE TABLE t (a TEXT, b REAL)")
    );
    assert_eq!(
        one_column_per_line("CREATE TABLE t (a TEXT CHECK (a IN ('x,y', 'z')), b INT)"),
        "CREATE TABLE t (\n    a TEXT CHECK (a IN ('x,y', 'z')),\n    b INT\n)"
    );
    // A different type, default or constraint is a difference.
    assert_ne!(
        normalise_sql("CREATE TABLE t (a TEXT)"),
        normalise_sql("CREATE TABLE t (a INT)")
    );
}
