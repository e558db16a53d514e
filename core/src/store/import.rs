//! Applying a getWorkOrders response to the cache: one transaction, streamed, with unchanged orders skipped.
//!
//! The response is read as a stream (memory stays flat whatever its size). Each order's raw JSON is
//! fingerprinted together with the integration's settings; an order whose fingerprint is the one stored
//! on its project was applied before with the same settings and no local edit since, so reconciling it
//! again cannot change anything and it is skipped unparsed. That keeps a re-import of an unchanged
//! account cheap. Everything else goes through [`Importer`], the same code the in-memory model runs.

use foldhash::{HashMap, HashMapExt, HashSet};
use std::cell::Cell;
use std::io::Read;
use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};

use super::fingerprint::{RULES_VERSION, Stored, decode_fingerprint, encode_applied, encode_fingerprint};
use super::{Store, cursor, integrations, projects, work_types};
use crate::model::StatusEvent;
use crate::model::{ImportKind, ImportReport, Project, now};
use crate::outbox::queue;
use crate::reconcile::{CachedBy, Importer, ProjectCache, ReconcileSettings};
use crate::wire::{ReadError, WorkOrder, malformed_order, read_work_orders};
use crate::{Error, Result};

/// The largest response accepted: a 100,000-order account is about 80 MB.
pub const MAX_RESPONSE_BYTES: u64 = 128 * 1024 * 1024;

/// Bumped when the meaning of a stored fingerprint changes, so that old ones stop matching.
///
/// Version 3: tasks carry their survey (`survey`, `surveyDynamic`), which earlier versions dropped; an
/// upgraded cache applies every order once more to pick them up.
const FINGERPRINT_VERSION: u64 = 3;

/// How to import a response.
pub struct ImportOptions<'a> {
    /// Refresh or Full Import.
    pub kind: ImportKind,
    /// Responses larger than this are refused.
    pub max_bytes: u64,
    /// Called with the number of bytes read so far, about every megabyte.
    pub progress: Option<&'a dyn Fn(u64)>,
    /// The import day (for a work type's relative due date); today when `None`.
    pub today: Option<time::Date>,
    /// The provider's clock when the response has no `serverTime` (e.g. its HTTP `Date` header): the next
    /// Refresh asks for changes since then. Never the device clock.
    pub server_time_fallback: Option<i64>,
}

impl ImportOptions<'_> {
    /// Options for `kind` with the default size limit and no progress reporting.
    pub fn new(kind: ImportKind) -> Self {
        Self {
            kind,
            max_bytes: MAX_RESPONSE_BYTES,
            progress: None,
            today: None,
            server_time_fallback: None,
        }
    }
}

impl std::fmt::Debug for ImportOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImportOptions")
            .field("kind", &self.kind)
            .field("max_bytes", &self.max_bytes)
            .finish()
    }
}

impl Store {
    /// Imports a getWorkOrders response from a file, moving the integration's status as a refresh does.
    pub fn import_file(&self, code: &str, path: &Path, options: &ImportOptions) -> Result<ImportReport> {
        self.integration(code)?;
        let file = std::fs::File::open(path).map_err(|err| Error::io(path, err))?;
        let size = file.metadata().map_err(|err| Error::io(path, err))?.len();
        self.import_response(
            code,
            std::io::BufReader::with_capacity(256 * 1024, file),
            Some(size),
            options,
        )
    }

    /// Imports a getWorkOrders response body. The integration goes `pending` → `running` → `idle` (with
    /// `last_refreshed`) or `error` (with `last_error`). The projects change in one transaction together
    /// with the final status: after a crash the cache holds the state before or after, never between.
    pub fn import_response(
        &self,
        code: &str,
        body: impl Read,
        declared_size: Option<u64>,
        options: &ImportOptions,
    ) -> Result<ImportReport> {
        self.begin_import(code)?;
        let result = self.apply_import(code, body, declared_size, options);
        if let Err(err) = &result {
            self.fail_import(code, &err.to_string());
        }
        result
    }

    /// Marks an import as asked for: `pending` (a running import stays `running`).
    pub fn request_import(&self, code: &str) -> Result<()> {
        self.write(|tx| integrations::transition(tx, code, StatusEvent::Requested, None, now()))
            .map(drop)
    }

    /// Marks an import as started: `running`. A status still `running` here was left by a process that
    /// stopped mid-import (the caller owns the integration's run), so it is taken over.
    pub fn begin_import(&self, code: &str) -> Result<()> {
        self.write(|tx| {
            let status = integrations::find(tx, code)?.status;
            if status == crate::model::IntegrationStatus::Running {
                tracing::warn!(code, "taking over an import that did not finish");
                integrations::transition(tx, code, StatusEvent::Interrupted, Some("interrupted"), now())?;
            }
            if status != crate::model::IntegrationStatus::Pending {
                integrations::transition(tx, code, StatusEvent::Requested, None, now())?;
            }
            integrations::transition(tx, code, StatusEvent::Started, None, now())?;
            Ok(())
        })
    }

    /// Applies a response to a `running` integration in one transaction that also records success.
    pub fn apply_import(
        &self,
        code: &str,
        body: impl Read,
        declared_size: Option<u64>,
        options: &ImportOptions,
    ) -> Result<ImportReport> {
        match declared_size {
            Some(size) if size > options.max_bytes => Err(Error::ResponseTooLarge {
                size,
                limit: options.max_bytes,
            }),
            _ => {
                let report = self.write(|tx| apply_response(tx, code, body, declared_size, options))?;
                // A large import leaves its pages in the WAL: copy them back and truncate the file.
                self.shrink_wal();
                Ok(report)
            }
        }
    }

    /// Records an import the app stopped (it rolled back): back to `before` (`idle` or `error`). Logged,
    /// never fails itself.
    pub fn stop_import(&self, code: &str, before: crate::model::IntegrationStatus) {
        if let Err(err) =
            self.write(|tx| integrations::transition(tx, code, StatusEvent::Stopped { before }, None, now()))
        {
            tracing::error!(%err, "could not record the stopped import");
        }
    }

    /// Records a failed import: `error` with `message` as `last_error`. Logged, never fails itself.
    pub fn fail_import(&self, code: &str, message: &str) {
        if let Err(err) =
            self.write(|tx| integrations::transition(tx, code, StatusEvent::Failed, Some(message), now()))
        {
            tracing::error!(%err, "could not record the import failure");
        }
    }
}

/// Bytes per order below any real one: a response of N bytes lists at most about N / this orders, so maps
/// sized by it rarely grow during a Full Import (a 100k-order response of 87 MB reserves room for 85k).
const BYTES_PER_ORDER_HINT: u64 = 1024;
/// The most entries reserved up front from a response's size.
const MAX_RESERVED_ORDERS: u64 = 1 << 20;

fn apply_response(
    connection: &Connection,
    code: &str,
    body: impl Read,
    declared_size: Option<u64>,
    options: &ImportOptions,
) -> Result<ImportReport> {
    let integration = integrations::find(connection, code)?;
    let integration_id = integrations::id_of(connection, code)?;
    let work_type = integration
        .default_work_type
        .as_deref()
        .map(|name| work_types::find(connection, name))
        .transpose()?;
    let today = options
        .today
        .unwrap_or_else(|| time::OffsetDateTime::now_utc().date());
    let settings = ReconcileSettings {
        integration: code,
        mode: integration.mode,
        auto_admin: integration.auto_admin,
        default_work_type: work_type.as_ref(),
        default_assign_to: &integration.default_assign_to,
        today,
    };
    let seed = settings_seed(&settings, FINGERPRINT_VERSION);
    // A Full Import needs every project (to find the absent ones); a Refresh touches few, so it looks them
    // up one by one instead of loading an index of the whole cache.
    let mut cache = match options.kind {
        ImportKind::FullImport => SqliteCache::load(connection, integration_id, code)?,
        ImportKind::Refresh => SqliteCache::lazy(connection, integration_id, code),
    };
    let mut importer = Importer::new(settings, options.kind);
    if options.kind == ImportKind::FullImport {
        // Every listed order lands in the importer's map and, when new, in the cache's: sized once.
        let expected = declared_size.map_or(0, |size| (size / BYTES_PER_ORDER_HINT).min(MAX_RESERVED_ORDERS));
        let expected = usize::try_from(expected).unwrap_or_default();
        importer.reserve(expected.max(cache.stored.len()));
        cache.reserve(expected.saturating_sub(cache.stored.len()));
    }

    let reader = LimitedReader::new(body, options.max_bytes, options.progress);
    let exceeded = reader.exceeded.clone();
    let mut index = 0u64;
    let read = read_work_orders(reader, |text| -> Result<()> {
        index += 1;
        let fingerprint = xxhash_rust::xxh3::xxh3_128_with_seed(text.as_bytes(), seed);
        if let Some(first_listing) = cache.stored.match_unchanged(fingerprint) {
            // Counted once per project, however often the response lists it; the cache remembers it as
            // listed, so no number is copied or hashed here.
            if first_listing {
                importer.count_skipped();
            }
            return Ok(());
        }
        let order = match WorkOrder::from_json(text) {
            Ok(order) => order,
            Err(err) => match malformed_order(index - 1, &err) {
                Some(message) => return Err(Error::InvalidResponse(message)),
                None => {
                    importer.reject_unreadable(err.to_string());
                    return Ok(());
                }
            },
        };
        if let Some(number) = order.work_order_number.as_deref()
            && cache
                .lookup(number)?
                .is_some_and(|entry| entry.stored == Stored::Current(Some(fingerprint)))
        {
            if !cache.skipped(number)? {
                importer.skip_unchanged(number);
            }
            return Ok(());
        }
        cache.fingerprint = fingerprint;
        importer.apply_owned(&mut cache, order)
    });
    let meta = match read {
        Ok(meta) => meta,
        Err(ReadError::Callback(err)) => return Err(err),
        Err(ReadError::Malformed(_)) if exceeded.get() => {
            return Err(Error::ResponseTooLarge {
                size: options.max_bytes + 1,
                limit: options.max_bytes,
            });
        }
        Err(ReadError::Malformed(message)) => return Err(Error::InvalidResponse(message)),
    };
    if let Some(error) = meta.error {
        return Err(Error::Provider(error));
    }
    // Every new project written before the import's last statements.
    cache.flush()?;
    let mut report = importer.finish(&mut cache)?;
    report.adopted = cache.adopted;
    integrations::transition(connection, code, StatusEvent::Succeeded, None, now())?;
    let choice = cursor::choose(
        meta.server_time,
        options.server_time_fallback,
        integration.sync_cursor,
        now(),
    );
    if let Some(note) = &choice.note {
        // The provider's clock is not a secret; the note says which value was refused and why.
        tracing::warn!(
            code,
            note = note.as_str(),
            "sync cursor not taken from serverTime"
        );
    }
    if let Some(cursor) = choice.cursor
        && Some(cursor) != integration.sync_cursor
    {
        connection.execute(
            "UPDATE integrations SET sync_cursor = ?2 WHERE id = ?1",
            params![integration_id, cursor],
        )?;
    }
    report.cursor_note = choice.note;
    Ok(report)
}

/// Mixes everything that shapes the result of an order besides the order and the project.
fn settings_seed(settings: &ReconcileSettings, version: u64) -> u64 {
    let description = serde_json::json!({
        "version": version,
        "rules": RULES_VERSION,
        "mode": settings.mode,
        "auto_admin": settings.auto_admin,
        "work_type": settings.default_work_type,
        "assign_to": settings.default_assign_to,
    });
    xxhash_rust::xxh3::xxh3_64(description.to_string().as_bytes())
}

/// The projects of one integration as the import sees them: the rows themselves in SQLite (inside the
/// import's transaction), looked up by number when an order is parsed and remembered once seen; for a
/// Full Import also every stored fingerprint (to skip unchanged orders unparsed) and every row id (to find
/// the absent projects). Nothing is loaded per project but two integers and a fingerprint: no number is
/// copied out of SQLite unless its order is parsed or its project is absent.
struct SqliteCache<'c> {
    connection: &'c Connection,
    integration_id: i64,
    integration: &'c str,
    /// Row id, what the fingerprint column says and whether the project is `local`, per work-order number:
    /// the projects this import looked up or wrote.
    by_number: HashMap<String, Entry>,
    /// The projects stored when a Full Import starts, with their fingerprints (empty for a Refresh).
    stored: StoredProjects,
    /// The integration had no project when the import started: a number not in `by_number` is not stored,
    /// unless this import inserted it (see `written`).
    empty: bool,
    /// When `empty`: the hashes of the numbers this import inserted. A new project is not entered in
    /// `by_number` (no `String` per created order; the importer keeps the one map of every number): a
    /// number whose hash is absent is not stored, one whose hash is present is looked up in SQLite (a hash
    /// is no proof; only a repeat within the batch, or a collision, costs that query).
    written: std::collections::HashSet<u64, FingerprintHasher>,
    /// Hashes the numbers of `written` (seeded per process).
    number_hasher: foldhash::fast::RandomState,
    /// The last number looked up and not found (emptied once written; numbers are never empty): a new
    /// order's number is looked up before it is parsed and again when it is applied, and the second lookup
    /// costs no query.
    missed: Option<String>,
    /// A Full Import: `stored` was loaded.
    full: bool,
    /// The fingerprint of the order being applied, stored with the project it writes.
    fingerprint: u128,
    /// Local projects adopted by this import.
    adopted: u64,
    /// The statements that insert new projects, once one was inserted.
    new_projects: Option<projects::NewProjects<'c>>,
}

/// Fingerprints are xxh3-128 values and `written` holds foldhash values, uniformly distributed already: their
/// bits are the hash.
#[derive(Debug, Default, Clone, Copy)]
struct FingerprintHasher(u64);

impl std::hash::Hasher for FingerprintHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // A `u128` key calls `write_u128`; this is the generic fallback.
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }

    fn write_u128(&mut self, value: u128) {
        self.0 = (value as u64) ^ ((value >> 64) as u64);
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

impl std::hash::BuildHasher for FingerprintHasher {
    type Hasher = Self;

    fn build_hasher(&self) -> Self {
        Self::default()
    }
}

/// The projects of the integration when a Full Import starts (local ones left out), in row-id order, with
/// their stored fingerprints: what each incoming order's fingerprint is compared with, and the candidates
/// for removal.
///
/// An unchanged account comes back in the order it was stored, so an order is first compared with the
/// project after the last one matched: a walk through memory in order, no hash table touched. Only when
/// that fails is the fingerprint looked up in a map, built at the first such miss (an account that changed
/// everywhere pays what a map from the start cost).
#[derive(Debug, Default)]
struct StoredProjects {
    rows: Vec<StoredRow>,
    /// Per row: skipped as unchanged by this import, so listed (never absent).
    listed: Vec<bool>,
    any_listed: bool,
    /// The row after the last one matched.
    cursor: usize,
    /// Row index per fingerprint, once the walk missed.
    by_fingerprint: Option<std::collections::HashMap<u128, u32, FingerprintHasher>>,
}

#[derive(Debug, Clone, Copy)]
struct StoredRow {
    id: i64,
    /// 0: none that can match (never stored, cleared by a local edit, or replaced by this import).
    fingerprint: u128,
}

impl StoredProjects {
    fn with_capacity(count: usize) -> Self {
        Self {
            rows: Vec::with_capacity(count),
            listed: Vec::with_capacity(count),
            ..Self::default()
        }
    }

    fn push(&mut self, id: i64, fingerprint: Option<u128>) {
        self.rows.push(StoredRow {
            id,
            fingerprint: fingerprint.unwrap_or(0),
        });
        self.listed.push(false);
    }

    /// Orders the rows by id (a table scan reads them so already), before any is listed.
    fn sort(&mut self) {
        debug_assert!(!self.any_listed, "sorted before the listing starts");
        if !self.rows.is_sorted_by_key(|row| row.id) {
            self.rows.sort_unstable_by_key(|row| row.id);
        }
    }

    fn len(&self) -> usize {
        self.rows.len()
    }

    /// When a stored project holds this fingerprint: marks it listed and returns whether this is the first
    /// time this import lists it. `None`: no stored project holds it.
    fn match_unchanged(&mut self, fingerprint: u128) -> Option<bool> {
        if fingerprint == 0 {
            return None;
        }
        let index = match self.rows.get(self.cursor) {
            Some(row) if row.fingerprint == fingerprint => self.cursor,
            _ => {
                let rows = &self.rows;
                let map = self.by_fingerprint.get_or_insert_with(|| {
                    let mut map = std::collections::HashMap::with_capacity_and_hasher(
                        rows.len(),
                        FingerprintHasher::default(),
                    );
                    for (index, row) in rows.iter().enumerate() {
                        if row.fingerprint != 0 {
                            map.insert(row.fingerprint, index as u32);
                        }
                    }
                    map
                });
                let index = *map.get(&fingerprint)? as usize;
                if self.rows[index].fingerprint != fingerprint {
                    return None;
                }
                index
            }
        };
        self.cursor = index + 1;
        self.any_listed = true;
        Some(!std::mem::replace(&mut self.listed[index], true))
    }

    fn index_of(&self, id: i64) -> Option<usize> {
        self.rows.binary_search_by_key(&id, |row| row.id).ok()
    }

    /// The project `id` no longer holds `fingerprint` (this import rewrote it): an order with that
    /// fingerprint must be applied, not skipped.
    fn forget(&mut self, id: i64, fingerprint: u128) {
        if let Some(index) = self.index_of(id)
            && self.rows[index].fingerprint == fingerprint
        {
            self.rows[index].fingerprint = 0;
        }
    }

    fn any_listed(&self) -> bool {
        self.any_listed
    }

    fn is_listed(&self, id: i64) -> bool {
        self.index_of(id).is_some_and(|index| self.listed[index])
    }

    /// The ids of the stored projects this import did not skip as unchanged.
    fn unlisted_ids(&self) -> impl Iterator<Item = i64> + '_ {
        self.rows
            .iter()
            .zip(&self.listed)
            .filter(|(_, listed)| !**listed)
            .map(|(row, _)| row.id)
    }
}

/// What the import knows about a stored project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    id: i64,
    stored: Stored,
    /// Created on the device before its order arrived: never removed by a Full Import, adopted by the
    /// first import that brings its order.
    local: bool,
}

impl<'c> SqliteCache<'c> {
    /// For a Full Import: every stored fingerprint and row id, read in one pass.
    fn load(connection: &'c Connection, integration_id: i64, integration: &'c str) -> Result<Self> {
        let count: i64 = connection.query_row(
            "SELECT count(*) FROM projects WHERE integration_id = ?1",
            [integration_id],
            |row| row.get(0),
        )?;
        let count = usize::try_from(count).unwrap_or_default();
        let mut stored = StoredProjects::with_capacity(count);
        // A scan of the table, not of an index on integration_id: pages in file order instead of one seek
        // per project, and row ids ascending (`StoredProjects` finds a project by its id in them).
        let mut statement = connection
            .prepare("SELECT id, fingerprint, local FROM projects NOT INDEXED WHERE integration_id = ?1")?;
        let mut rows = statement.query([integration_id])?;
        while let Some(row) = rows.next()? {
            if row.get(2)? {
                continue;
            }
            let stored_as = decode_fingerprint(row.get_ref(1)?.as_blob_or_null().ok().flatten());
            stored.push(row.get(0)?, stored_as.fingerprint());
        }
        stored.sort();
        Ok(Self {
            stored,
            empty: count == 0,
            full: true,
            ..Self::lazy(connection, integration_id, integration)
        })
    }

    /// For a Refresh: projects are looked up one by one as orders name them.
    fn lazy(connection: &'c Connection, integration_id: i64, integration: &'c str) -> Self {
        Self {
            connection,
            integration_id,
            integration,
            by_number: HashMap::new(),
            stored: StoredProjects::default(),
            empty: false,
            written: std::collections::HashSet::default(),
            number_hasher: foldhash::fast::RandomState::default(),
            missed: None,
            full: false,
            fingerprint: 0,
            adopted: 0,
            new_projects: None,
        }
    }

    /// True when `number` is the last number looked up and not found, and was not written since.
    fn just_missed(&self, number: &str) -> bool {
        self.missed
            .as_deref()
            .is_some_and(|missed| !missed.is_empty() && missed == number)
    }

    /// What the cache holds about a project, if it holds it.
    fn lookup(&mut self, number: &str) -> Result<Option<Entry>> {
        if let Some(&entry) = self.by_number.get(number) {
            return Ok(Some(entry));
        }
        if self.just_missed(number) || (self.empty && !self.written.contains(&self.number_hash(number))) {
            return Ok(None);
        }
        if self.empty {
            // The number may be one of the new rows not yet written (they are not in `by_number` here).
            self.flush()?;
        }
        let row = self
            .connection
            .prepare_cached(
                "SELECT id, fingerprint, local FROM projects WHERE integration_id = ?1 AND work_order_number = ?2",
            )?
            .query_row(params![self.integration_id, number], |row| {
                Ok(Entry {
                    id: row.get(0)?,
                    stored: decode_fingerprint(row.get_ref(1)?.as_blob_or_null().ok().flatten()),
                    local: row.get(2)?,
                })
            })
            .optional()?;
        match row {
            Some(entry) => {
                self.by_number.insert(number.to_owned(), entry);
            }
            None => {
                // Reuses the buffer: no allocation per new order.
                let missed = self.missed.get_or_insert_with(String::new);
                missed.clear();
                missed.push_str(number);
            }
        }
        Ok(row)
    }

    /// Writes the new projects bound so far: SQL sees them from here on.
    fn flush(&mut self) -> Result<()> {
        match &mut self.new_projects {
            Some(inserter) => inserter.flush(),
            None => Ok(()),
        }
    }

    /// [`SqliteCache::flush`] when the project row `id` is one bound and not yet written (one this import
    /// created, named again).
    fn flush_if_bound(&mut self, id: i64) -> Result<()> {
        if self
            .new_projects
            .as_ref()
            .is_some_and(|inserter| inserter.holds(id))
        {
            self.flush()?;
        }
        Ok(())
    }

    fn number_hash(&self, number: &str) -> u64 {
        use std::hash::BuildHasher;
        self.number_hasher.hash_one(number)
    }

    /// Makes room for `orders` new projects (a Full Import's hint from the response's size).
    fn reserve(&mut self, orders: usize) {
        if self.empty {
            self.written.reserve(orders);
        } else {
            self.by_number.reserve(orders);
        }
    }

    fn forget_fingerprint(&mut self, number: &str) {
        if let Some(&Entry {
            id,
            stored: Stored::Current(Some(old)),
            ..
        }) = self.by_number.get(number)
        {
            self.stored.forget(id, old);
        }
    }

    /// Records that `number` now holds the order just applied (and is no longer local).
    /// `known`: `by_number` holds an entry for it already (looked up before).
    fn record_applied(&mut self, number: &str, id: i64, known: bool) {
        let entry = Entry {
            id,
            stored: Stored::Current(Some(self.fingerprint)),
            local: false,
        };
        // Not indexed by its fingerprint: the same order again in this batch is parsed, then skipped by
        // the fingerprint of its entry (one String fewer per applied order).
        if known && let Some(slot) = self.by_number.get_mut(number) {
            *slot = entry;
        } else {
            if self.just_missed(number)
                && let Some(missed) = &mut self.missed
            {
                missed.clear();
            }
            if self.empty {
                // Found again by its hash and the UNIQUE index, if the batch names it again.
                let hash = self.number_hash(number);
                self.written.insert(hash);
            } else {
                self.by_number.insert(number.to_owned(), entry);
            }
        }
    }
}

impl ProjectCache for SqliteCache<'_> {
    type Error = Error;

    fn get(&mut self, number: &str) -> Result<Option<Project>> {
        match self.lookup(number)? {
            Some(entry) => {
                self.flush_if_bound(entry.id)?;
                projects::load(self.connection, self.integration, entry.id).map(Some)
            }
            None => Ok(None),
        }
    }

    fn put(&mut self, project: &Project, existing: Option<&Project>) -> Result<()> {
        let number = project.work_order_number.as_str();
        // `existing` is what `get` found: without it the project is not stored, no need to ask again.
        let entry = match existing {
            Some(_) => self.lookup(number)?,
            None => None,
        };
        if let Some(Entry {
            id,
            stored: Stored::Current(Some(old)),
            ..
        }) = entry
        {
            self.stored.forget(id, old);
        }
        let bytes = encode_applied(self.fingerprint);
        let id = match (entry, existing) {
            // Only the columns that changed (and the tasks only if they did): fewer bytes to bind, fewer
            // index entries to rewrite.
            (Some(entry), Some(existing)) => {
                self.flush_if_bound(entry.id)?;
                projects::update_imported(self.connection, entry.id, existing, project, &bytes)?;
                entry.id
            }
            (None, _) => {
                // Prepared once for the whole import: a Full Import into an empty cache inserts every order.
                let mut inserter = match self.new_projects.take() {
                    Some(inserter) => inserter,
                    None => projects::NewProjects::new(self.connection)?,
                };
                let id = inserter.insert(self.integration_id, project, &bytes);
                self.new_projects = Some(inserter);
                id?
            }
            (entry, _) => {
                // This may insert a row with an id of SQLite's choosing: the next batch of new projects
                // starts after it.
                self.flush()?;
                self.new_projects = None;
                projects::write(
                    self.connection,
                    self.integration_id,
                    entry.map(|entry| entry.id),
                    project,
                    Some(&bytes),
                    projects::Writer::Import,
                )?
            }
        };
        if entry.is_some_and(|entry| entry.local) {
            self.adopted += 1;
        }
        self.record_applied(number, id, entry.is_some());
        Ok(())
    }

    fn remove(&mut self, number: &str) -> Result<()> {
        self.forget_fingerprint(number);
        if let Some(entry) = self.by_number.remove(number) {
            self.flush_if_bound(entry.id)?;
            self.connection
                .prepare_cached("DELETE FROM projects WHERE id = ?1")?
                .execute([entry.id])?;
        }
        Ok(())
    }

    fn flag_removal_pending(&mut self, number: &str) -> Result<()> {
        self.forget_fingerprint(number);
        if let Some(entry) = self.by_number.get(number) {
            self.flush_if_bound(entry.id)?;
        }
        if let Some(entry) = self.by_number.get_mut(number) {
            // Keep the rules version: flagging is not a reason to treat the project as an old one.
            let stored = match entry.stored {
                Stored::EarlierRules => None,
                Stored::Current(_) => Some(encode_fingerprint(None)),
            };
            entry.stored = match entry.stored {
                Stored::EarlierRules => Stored::EarlierRules,
                Stored::Current(_) => Stored::Current(None),
            };
            self.connection
                .prepare_cached("UPDATE projects SET removal_pending = 1, fingerprint = ?2 WHERE id = ?1")?
                .execute(params![entry.id, stored])?;
        }
        Ok(())
    }

    fn cached_by(&mut self, number: &str) -> Result<CachedBy> {
        Ok(match self.lookup(number)? {
            // A local project was created on the device, not by earlier rules: the normal rules apply.
            Some(Entry {
                stored: Stored::EarlierRules,
                local: false,
                ..
            }) => CachedBy::EarlierRules,
            _ => CachedBy::CurrentRules,
        })
    }

    fn keep_unchanged(&mut self, number: &str) -> Result<()> {
        // Applying this order changed nothing, so it is as applied: record its fingerprint (and the rules
        // version) so the next import skips it. Without this a project edited locally, or cached by
        // earlier rules, would be parsed again on every import. A local project is adopted all the same.
        let Some(entry) = self.lookup(number)? else {
            return Ok(());
        };
        if entry.stored == Stored::Current(Some(self.fingerprint)) && !entry.local {
            return Ok(());
        }
        self.forget_fingerprint(number);
        self.flush_if_bound(entry.id)?;
        self.connection
            .prepare_cached("UPDATE projects SET fingerprint = ?2, local = 0 WHERE id = ?1")?
            .execute(params![entry.id, encode_fingerprint(Some(self.fingerprint))])?;
        if entry.local {
            self.adopted += 1;
        }
        self.record_applied(number, entry.id, true);
        Ok(())
    }

    fn has_pending_work(&mut self, number: &str) -> Result<bool> {
        match self.lookup(number)? {
            Some(entry) => {
                self.flush_if_bound(entry.id)?;
                queue::project_has_pending(self.connection, entry.id)
            }
            None => Ok(false),
        }
    }

    fn skipped(&mut self, number: &str) -> Result<bool> {
        if !self.stored.any_listed() {
            return Ok(false);
        }
        Ok(self
            .lookup(number)?
            .is_some_and(|entry| self.stored.is_listed(entry.id)))
    }

    fn numbers(&mut self) -> Result<Vec<String>> {
        debug_assert!(self.full, "only a Full Import lists every project");
        self.flush()?;
        // A local project is not on the provider's list because the provider does not have it yet: a Full
        // Import never removes it, nor flags it (`stored` leaves local projects out). Every stored
        // project this import looked up was named by an order (listed, or rejected: never absent), and so
        // was every project skipped by its fingerprint; only the others' numbers are read.
        let seen: HashSet<i64> = self.by_number.values().map(|entry| entry.id).collect();
        let mut statement = self
            .connection
            .prepare_cached("SELECT work_order_number FROM projects WHERE id = ?1")?;
        let mut numbers = Vec::new();
        for id in self.stored.unlisted_ids() {
            if !seen.contains(&id) {
                numbers.push(statement.query_row([id], |row| row.get(0))?);
            }
        }
        Ok(numbers)
    }
}

/// Counts bytes, reports progress, and stops reading past the size limit.
struct LimitedReader<'a, R> {
    inner: R,
    read: u64,
    limit: u64,
    next_report: u64,
    progress: Option<&'a dyn Fn(u64)>,
    exceeded: std::rc::Rc<Cell<bool>>,
}

impl<'a, R> LimitedReader<'a, R> {
    const REPORT_EVERY: u64 = 1 << 20;

    fn new(inner: R, limit: u64, progress: Option<&'a dyn Fn(u64)>) -> Self {
        Self {
            inner,
            read: 0,
            limit,
            next_report: 0,
            progress,
            exceeded: Default::default(),
        }
    }
}

impl<R: Read> Read for LimitedReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let count = self.inner.read(buf)?;
        self.read += count as u64;
        if self.read > self.limit {
            self.exceeded.set(true);
            return Err(std::io::Error::other("the response is larger than the limit"));
        }
        if let Some(progress) = self.progress
            && (self.read >= self.next_report || count == 0)
        {
            progress(self.read);
            self.next_report = self.read + Self::REPORT_EVERY;
        }
        Ok(count)
    }
}

#[cfg(test)]
#[path = "import_tests.rs"]
mod tests;
