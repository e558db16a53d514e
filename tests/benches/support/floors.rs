//! Floors for the import scenarios, measured in the same run and alternated with the real thing: what the
//! same rows cost SQLite with no JSON, no reconcile and no bookkeeping.
//!
//! - Full Import: a raw rusqlite loader inserts the same project and task rows (read back from an imported
//!   cache) into a new database with the same schema (so the same four list indexes), in one transaction,
//!   with the pragmas the store uses.
//! - Unchanged re-import: a table scan of the fingerprints, plus reading the response and fingerprinting
//!   every order (work no import can skip: it has to read what the provider sent).
//! - Refresh: `UPDATE` by primary key of the same 1,000 changed rows, with their tasks deleted and
//!   inserted again, in one transaction.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Result, ensure};
use fieldsync_core::Store;
use fieldsync_core::model::ImportKind;
use fieldsync_core::wire::read_work_orders;
use rusqlite::types::Value;
use rusqlite::{Connection, params_from_iter};

use super::table;
use super::{Config, Responses, millis, new_integration, remove_database, seconds, timed_import};

/// Alternating rounds of each pair.
const ROUNDS: usize = 3;
/// Alternating rounds of the Refresh pair.
const REFRESH_ROUNDS: usize = 5;

/// Every row of a table, all columns.
struct Rows {
    columns: Vec<String>,
    rows: Vec<Vec<Value>>,
}

impl Rows {
    /// The stored columns of `table` (generated columns are computed by SQLite, never written).
    fn read(connection: &Connection, table: &str, filter: &str) -> Result<Self> {
        let stored: Vec<String> = connection
            .prepare(&format!(
                "SELECT name FROM pragma_table_xinfo('{table}') WHERE hidden = 0"
            ))?
            .query_map([], |row| row.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let mut statement =
            connection.prepare(&format!("SELECT {} FROM {table} {filter}", stored.join(", ")))?;
        let columns: Vec<String> = statement.column_names().map(|name| name.to_string()).collect();
        let width = columns.len();
        let rows = statement
            .query_map([], |row| {
                (0..width).map(|index| row.get::<_, Value>(index)).collect()
            })?
            .collect::<rusqlite::Result<Vec<Vec<Value>>>>()?;
        Ok(Self { columns, rows })
    }

    fn insert_sql(&self, table: &str) -> String {
        let marks: Vec<String> = (1..=self.columns.len()).map(|n| format!("?{n}")).collect();
        format!(
            "INSERT INTO {table} ({}) VALUES ({})",
            self.columns.join(", "),
            marks.join(", ")
        )
    }
}

/// Opens a connection the way the store configures its writer.
fn raw_connection(path: &Path) -> Result<Connection> {
    let connection = Connection::open(path)?;
    connection.busy_timeout(Duration::from_secs(5))?;
    connection.pragma_update(None, "journal_mode", "WAL")?;
    connection.pragma_update(None, "foreign_keys", true)?;
    connection.pragma_update(None, "synchronous", "NORMAL")?;
    connection.pragma_update(None, "cache_size", -32 * 1024)?;
    connection.pragma_update(None, "temp_store", "MEMORY")?;
    Ok(connection)
}

/// A new database with the store's schema and the bench integration (id 1). `Store::open` runs the store's
/// own migrations, so the floor keeps every index the store has, whatever later migrations add.
fn empty_cache(path: &Path) -> Result<()> {
    remove_database(path)?;
    let store = Store::open(path)?;
    store.create_integration(new_integration())?;
    Ok(())
}

fn load(path: &Path, projects: &Rows, tasks: &Rows) -> Result<Duration> {
    let mut connection = raw_connection(path)?;
    let started = Instant::now();
    let tx = connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    {
        let mut insert = tx.prepare(&projects.insert_sql("projects"))?;
        for row in &projects.rows {
            insert.execute(params_from_iter(row))?;
        }
        let mut insert = tx.prepare(&tasks.insert_sql("tasks"))?;
        for row in &tasks.rows {
            insert.execute(params_from_iter(row))?;
        }
    }
    tx.commit()?;
    Ok(started.elapsed())
}

fn scan_fingerprints(connection: &Connection) -> Result<usize> {
    let mut statement = connection
        .prepare("SELECT id, work_order_number, fingerprint FROM projects WHERE integration_id = 1")?;
    let mut rows = statement.query([])?;
    let mut count = 0;
    while let Some(row) = rows.next()? {
        std::hint::black_box((row.get_ref(0)?, row.get_ref(1)?, row.get_ref(2)?));
        count += 1;
    }
    Ok(count)
}

fn read_and_fingerprint(path: &Path) -> Result<usize> {
    let file = std::io::BufReader::with_capacity(256 * 1024, std::fs::File::open(path)?);
    let mut count = 0;
    read_work_orders(file, |text| {
        std::hint::black_box(xxhash_rust::xxh3::xxh3_128_with_seed(text.as_bytes(), 7));
        count += 1;
        Ok::<(), ()>(())
    })
    .map_err(|err| anyhow::anyhow!("{err:?}"))?;
    Ok(count)
}

/// Applies `projects` (same ids) and their tasks by primary key, in one transaction.
fn update(connection: &mut Connection, projects: &Rows, tasks: &Rows) -> Result<Duration> {
    let set: Vec<String> = projects
        .columns
        .iter()
        .enumerate()
        .filter(|(_, name)| name.as_str() != "id")
        .map(|(index, name)| format!("{name} = ?{}", index + 1))
        .collect();
    let id_index = projects
        .columns
        .iter()
        .position(|name| name == "id")
        .expect("an id column")
        + 1;
    let sql = format!("UPDATE projects SET {} WHERE id = ?{id_index}", set.join(", "));
    let project_of_task = tasks
        .columns
        .iter()
        .position(|name| name == "project_id")
        .expect("project_id");
    let started = Instant::now();
    let tx = connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    {
        let mut update = tx.prepare(&sql)?;
        let mut delete = tx.prepare("DELETE FROM tasks WHERE project_id = ?1")?;
        let mut insert = tx.prepare(&tasks.insert_sql("tasks"))?;
        let mut task = 0;
        for row in &projects.rows {
            update.execute(params_from_iter(row))?;
            let id = &row[id_index - 1];
            delete.execute([id])?;
            while task < tasks.rows.len() && &tasks.rows[task][project_of_task] == id {
                insert.execute(params_from_iter(&tasks.rows[task]))?;
                task += 1;
            }
        }
    }
    tx.commit()?;
    Ok(started.elapsed())
}

/// A check-in from another connection (as another process would) while a Full Import of the whole account
/// into a new cache holds the writer; then the WAL's size after that import.
fn field_work_during_import(dir: &Path, path: &Path, config: &Config, responses: &Responses) -> Result<()> {
    let small = dir.join("floor-small.json");
    fieldsync_tests::write_response_file(&small, 0..10, 0..0)?;
    empty_cache(path)?;
    let store = Store::open(path)?;
    timed_import(&store, &small, ImportKind::FullImport)?;
    let (import, waited) = std::thread::scope(|scope| -> Result<(Duration, Duration)> {
        let importer = scope.spawn(|| timed_import(&store, &responses.full, ImportKind::FullImport));
        let field = Store::open(path)?;
        while field.integration(super::CODE)?.status != fieldsync_core::model::IntegrationStatus::Running {
            std::thread::sleep(Duration::from_millis(1));
        }
        std::thread::sleep(Duration::from_millis(20));
        let now = fieldsync_core::model::now();
        let started = Instant::now();
        field.check_in(&fieldsync_core::store::CheckInRequest {
            project: fieldsync_core::model::ProjectId::parse(&format!("{}::WO-0000001", super::CODE))?,
            fix: fieldsync_core::checkin::LocationFix {
                latitude: 33.001,
                longitude: -84.001,
                accuracy_m: 5.0,
                altitude_m: None,
                fix_time_ms: now * 1000,
                is_mock: false,
            },
            badge: Some("B-1".into()),
            user: None,
            device_time: now,
            device_id: "bench".into(),
        })?;
        let waited = started.elapsed();
        let (import, report) = importer
            .join()
            .map_err(|_| anyhow::anyhow!("the import panicked"))??;
        ensure!(report.created == config.orders - 10, "created {}", report.created);
        Ok((import, waited))
    })?;
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let wal_bytes = std::fs::metadata(&wal).map_or(0, |meta| meta.len());
    let db_bytes = std::fs::metadata(path)?.len();
    println!(
        "field work during a Full Import ({}): check-in waited {}; WAL afterwards {} bytes (database {} bytes)",
        seconds(import),
        millis(waited),
        wal_bytes,
        db_bytes
    );
    table::row(
        &format!(
            "check-in from another connection during a Full Import of {} orders",
            config.orders
        ),
        &format!("{} (succeeded)", millis(waited)),
        &format!("the import's write phase: {}", seconds(import)),
        None,
        "succeeds, <= 2 s",
        Some(waited <= Duration::from_secs(2)),
    );
    table::row(
        &format!(
            "WAL file after that Full Import (database {:.1} MB)",
            db_bytes as f64 / 1e6
        ),
        &format!("{:.1} MB", wal_bytes as f64 / 1e6),
        "-",
        None,
        "<= 9 MiB (journal_size_limit; cut after a large import)",
        Some(wal_bytes <= 9 * 1024 * 1024),
    );
    Ok(())
}

fn ratio(measured: Duration, floor: Duration) -> f64 {
    measured.as_secs_f64() / floor.as_secs_f64()
}

/// Runs the three pairs on `store` (the 100k cache after scenario 3) and prints their table rows.
pub fn run(dir: &Path, store: &Store, config: &Config, responses: &Responses) -> Result<()> {
    let cache = store.path().to_path_buf();
    let snapshot = raw_connection(&cache)?;
    let refresh_ids = format!(
        "WHERE id IN (SELECT id FROM projects WHERE work_order_number < 'WO-{:07}')",
        config.refresh_orders
    );
    let refresh_tasks = format!(
        "WHERE project_id IN (SELECT id FROM projects WHERE work_order_number < 'WO-{:07}') ORDER BY project_id, position",
        config.refresh_orders
    );
    // The cache ends on the Changed revision of the first orders (odd number of Refresh runs).
    let changed = (
        Rows::read(&snapshot, "projects", &format!("{refresh_ids} ORDER BY id"))?,
        Rows::read(&snapshot, "tasks", &refresh_tasks)?,
    );
    ensure!(
        changed.0.rows.len() as u64 == config.refresh_orders,
        "the refresh rows"
    );
    drop(snapshot);

    // 1. Full Import into an empty cache vs the raw loader, alternating.
    let full_path = dir.join("floor-import.sqlite");
    let floor_path = dir.join("floor-loader.sqlite");
    let (mut imports, mut loads) = (Vec::new(), Vec::new());
    let mut source = None;
    for _ in 0..ROUNDS {
        empty_cache(&full_path)?;
        let full = Store::open(&full_path)?;
        let (elapsed, report) = timed_import(&full, &responses.full, ImportKind::FullImport)?;
        ensure!(
            report.created == config.orders,
            "the Full Import created {}",
            report.created
        );
        imports.push(elapsed);
        drop(full);
        if source.is_none() {
            let connection = raw_connection(&full_path)?;
            source = Some((
                Rows::read(&connection, "projects", "ORDER BY id")?,
                Rows::read(&connection, "tasks", "ORDER BY project_id, position")?,
            ));
        }
        let (projects, tasks) = source.as_ref().expect("read above");
        empty_cache(&floor_path)?;
        loads.push(load(&floor_path, projects, tasks)?);
    }
    drop(source);
    let indexes: i64 = raw_connection(&floor_path)?.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'projects'",
        [],
        |row| row.get(0),
    )?;
    field_work_during_import(dir, &full_path, config, responses)?;
    remove_database(&full_path)?;
    remove_database(&floor_path)?;
    let (import, floor) = (table::median(&imports), table::median(&loads));
    println!(
        "floor 1: full import {} vs raw loader {} (runs {:?} / {:?})",
        seconds(import),
        seconds(floor),
        imports,
        loads
    );
    table::row(
        &format!(
            "Full Import of {} orders into an empty cache (median of {ROUNDS})",
            config.orders
        ),
        &seconds(import),
        &format!(
            "{} (raw rusqlite loader, same rows, the store's schema: {indexes} indexes on projects)",
            seconds(floor)
        ),
        Some(ratio(import, floor)),
        "<= 1.3x",
        Some(ratio(import, floor) <= 1.3),
    );

    // 2. Unchanged re-import vs a fingerprint scan plus reading the response.
    let (mut reimports, mut scans, mut reads) = (Vec::new(), Vec::new(), Vec::new());
    let connection = raw_connection(&cache)?;
    // Back to the Original revision everywhere (scenario 3 left the Changed one), untimed.
    timed_import(store, &responses.full, ImportKind::FullImport)?;
    for _ in 0..ROUNDS {
        let (elapsed, report) = timed_import(store, &responses.full, ImportKind::FullImport)?;
        ensure!(report.is_no_op(), "the re-import changed something: {report:?}");
        reimports.push(elapsed);
        let started = Instant::now();
        ensure!(
            scan_fingerprints(&connection)? as u64 == config.orders,
            "the scan"
        );
        scans.push(started.elapsed());
        let started = Instant::now();
        ensure!(
            read_and_fingerprint(&responses.full)? as u64 == config.orders,
            "the read"
        );
        reads.push(started.elapsed());
    }
    let (reimport, scan, read) = (
        table::median(&reimports),
        table::median(&scans),
        table::median(&reads),
    );
    let floor = scan + read;
    println!(
        "floor 2: unchanged re-import {} vs scan {} + read and fingerprint {}",
        seconds(reimport),
        millis(scan),
        millis(read)
    );
    table::row(
        &format!(
            "Full Import again, {} orders unchanged (median of {ROUNDS})",
            config.orders
        ),
        &seconds(reimport),
        &format!(
            "{} (fingerprint table scan {} + reading and hashing the response {})",
            seconds(floor),
            millis(scan),
            millis(read)
        ),
        Some(ratio(reimport, floor)),
        "<= 1.5x",
        Some(ratio(reimport, floor) <= 1.5),
    );

    // 3. Refresh of 1,000 changed orders vs UPDATE by primary key plus tasks. Each Refresh brings back the
    // Original revision and each floor run writes the Changed rows, so both always change every row.
    let mut connection = connection;
    let (mut refreshes, mut updates) = (Vec::new(), Vec::new());
    for _ in 0..REFRESH_ROUNDS {
        updates.push(update(&mut connection, &changed.0, &changed.1)?);
        let (elapsed, report) = timed_import(store, &responses.refresh_original, ImportKind::Refresh)?;
        ensure!(
            report.updated == config.refresh_orders,
            "the refresh updated {}",
            report.updated
        );
        refreshes.push(elapsed);
    }
    let (refresh, floor) = (table::median(&refreshes), table::median(&updates));
    println!(
        "floor 3: refresh {} vs update by key {}",
        millis(refresh),
        millis(floor)
    );
    table::row(
        &format!(
            "Refresh of {} changed orders into {} (median of {REFRESH_ROUNDS})",
            config.refresh_orders, config.orders
        ),
        &millis(refresh),
        &format!("{} (UPDATE by primary key + tasks, same rows)", millis(floor)),
        Some(ratio(refresh, floor)),
        "<= 1.5x",
        Some(ratio(refresh, floor) <= 1.5),
    );
    Ok(())
}
