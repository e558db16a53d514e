//! The project search index: a trigram FTS5 table over `projects.search_text` (migration 11).
//!
//! **What is indexed.** `search_text` is the lower-cased work-order number, address, city, ZIP,
//! description and reference of a project, joined (`projects::search_text`). The index is `projects_search`,
//! an external-content FTS5 table with the `trigram` tokenizer: every run of three characters is a token, so
//! any substring of three characters or more ("elm", "0412", "field") is found through the index, which is
//! what a crew typing part of a street, a city or the last digits of a number expects. Prefix tokens would
//! find "spring" in "Springfield" but neither "field" nor the end of a number.
//!
//! **Keeping it in sync.** A new project is indexed by [`index`] and a changed `search_text` is taken out by
//! [`unindex`] before the update and indexed again after it, both in the write's transaction (the only
//! writers of `search_text` are `projects::write` and `projects::update_imported`). A deleted project is
//! taken out by the trigger `projects_search_delete`. Inserts and updates are not triggers: FTS5 flushes its
//! in-memory index to disk at every statement savepoint, and a trigger opens one per row, which made a
//! Full Import of 100,000 orders ten times slower.
//!
//! **Reading it.** [`plan`] turns the search text into one of three ways of filtering the list, all exact
//! (every match is checked against `search_text` with `LIKE`):
//!
//! - fewer than three characters: no trigram to look up, the list is scanned with `LIKE` ([`Plan::Scan`]);
//! - few matches: the list is read from the matching rows and sorted ([`Plan::Drive`]);
//! - many matches: the list is read in its own order, as without a search, and each index entry is tested
//!   against the set of matching rows by the SQL function `fieldsync_search_hit` before its row is read
//!   ([`Plan::Filter`]); a page stops after `limit` rows.
//!
//! The list keeps its order (due date or number) and its keyset cursors with a search: results are not
//! scored. Trigrams stored without positions carry no term frequencies to score, and scoring would read
//! every match before the first page.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};

use rusqlite::Connection;
use rusqlite::functions::FunctionFlags;

use crate::Result;

/// The shortest search (in characters) the trigram index can answer.
pub(crate) const MIN_INDEXED_CHARS: usize = 3;

/// The SQL function that tells whether a project row id is in the current search's matches.
pub(crate) const HIT_FUNCTION: &str = "fieldsync_search_hit";

/// Whether project writes maintain the index (always, except in the benchmark that measures its cost).
static INDEX_WRITES: AtomicBool = AtomicBool::new(true);

/// Turns the index writes of every store in this process off or on. **For benchmarks only**: with them
/// off, searches miss the projects written meanwhile. The import benchmark uses it to time the same Full
/// Import with and without the index in one run.
#[doc(hidden)]
pub fn set_index_writes(enabled: bool) {
    INDEX_WRITES.store(enabled, Ordering::Relaxed);
}

fn index_writes() -> bool {
    INDEX_WRITES.load(Ordering::Relaxed)
}

/// Indexes a new project's `search_text`, or a changed one after [`unindex`].
pub(crate) fn index(connection: &Connection, project_id: i64, search_text: &str) -> Result<()> {
    if index_writes() && !search_text.is_empty() {
        connection
            .prepare_cached("INSERT INTO projects_search (rowid, search_text) VALUES (?1, ?2)")?
            .execute(rusqlite::params![project_id, search_text])?;
    }
    Ok(())
}

/// Takes a project's stored `search_text` out of the index, before an update that changes it. The text is
/// read from the row: FTS5 removes exactly the tokens of the text it is given. An empty text has none (and
/// FTS5 refuses to delete a row it never indexed).
pub(crate) fn unindex(connection: &Connection, project_id: i64) -> Result<()> {
    if index_writes() {
        connection
            .prepare_cached(
                "INSERT INTO projects_search (projects_search, rowid, search_text)
                 SELECT 'delete', id, search_text FROM projects WHERE id = ?1 AND search_text <> ''",
            )?
            .execute([project_id])?;
    }
    Ok(())
}

/// The row ids matching the current search, for `fieldsync_search_hit`: one bit per row id.
#[derive(Debug, Default)]
pub(crate) struct HitSet {
    bits: Vec<u64>,
}

impl HitSet {
    /// `ids` sorted ascending (FTS5 returns them in row id order).
    fn new(ids: &[i64]) -> Self {
        let top = ids.last().copied().unwrap_or(0).max(0);
        let mut bits = vec![0u64; usize::try_from(top / 64 + 1).unwrap_or(0)];
        for &id in ids {
            if let Ok(id) = usize::try_from(id) {
                bits[id / 64] |= 1 << (id % 64);
            }
        }
        Self { bits }
    }

    fn contains(&self, id: i64) -> bool {
        usize::try_from(id)
            .ok()
            .and_then(|id| self.bits.get(id / 64).map(|word| word >> (id % 64) & 1 == 1))
            .unwrap_or(false)
    }
}

thread_local! {
    /// The matches of the search under way on this thread (the function runs on the thread that steps
    /// the statement).
    static HITS: RefCell<Option<Rc<HitSet>>> = const { RefCell::new(None) };
}

/// Registers `fieldsync_search_hit(id)` on a connection: 1 when `id` is in the matches installed by
/// [`Plan::install`] on this thread, else 0.
pub(crate) fn register(connection: &Connection) -> Result<()> {
    connection.create_scalar_function(
        HIT_FUNCTION,
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DIRECTONLY,
        |context| {
            let id: i64 = context.get(0)?;
            Ok(HITS.with(|hits| hits.borrow().as_ref().is_some_and(|hits| hits.contains(id))))
        },
    )?;
    Ok(())
}

/// How a search filters a project list.
#[derive(Debug)]
pub(crate) enum Plan {
    /// Too short for the index: `search_text LIKE pattern` on every row the list reads.
    Scan {
        /// The `LIKE` pattern (lower-cased, escaped with `\`).
        pattern: String,
    },
    /// Few matches: read them (through the index) and sort them.
    Drive {
        /// The FTS5 query.
        fts: String,
        /// The `LIKE` pattern that confirms each match.
        pattern: String,
    },
    /// Many matches: read the list in its order, testing each row id against them.
    Filter {
        /// The matching row ids.
        hits: Rc<HitSet>,
        /// The `LIKE` pattern that confirms each match.
        pattern: String,
    },
}

/// Matches at most this many times the list's size over this many matches are read directly; more are
/// tested along the list. Reading a match costs about as much as six steps along an index, and a page along
/// the list takes `limit × rows / matches` steps: directly is cheaper while `matches² < 6 × limit × rows`
/// (50-row pages of 100,000 projects: about 5,000 matches).
const DRIVE_FACTOR: i64 = 6;

/// Plans the search for `text` (already trimmed and not empty) on a list of pages of `limit` rows.
pub(crate) fn plan(connection: &Connection, text: &str, limit: u32) -> Result<Plan> {
    let lower = text.to_lowercase();
    let pattern = super::like_pattern(&lower);
    if lower.chars().count() < MIN_INDEXED_CHARS {
        return Ok(Plan::Scan { pattern });
    }
    let fts = trigram_query(&lower);
    let ids: Vec<i64> = connection
        .prepare_cached("SELECT rowid FROM projects_search WHERE projects_search MATCH ?1")?
        .query_map([&fts], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let rows: i64 = connection
        .prepare_cached("SELECT coalesce(max(id), 1) FROM projects")?
        .query_row([], |row| row.get(0))?;
    let matches = i64::try_from(ids.len()).unwrap_or(i64::MAX);
    if matches.saturating_mul(matches) < DRIVE_FACTOR * i64::from(limit.max(1)) * rows {
        return Ok(Plan::Drive { fts, pattern });
    }
    Ok(Plan::Filter {
        hits: Rc::new(HitSet::new(&ids)),
        pattern,
    })
}

/// The FTS5 query for a substring of at least three characters: the trigrams that cover it, joined with
/// `AND` (one every three characters, and the last one). The index stores no positions (`detail=none`),
/// so it cannot check that they are adjacent: `LIKE` confirms each candidate.
fn trigram_query(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let last = chars.len().saturating_sub(MIN_INDEXED_CHARS);
    let mut starts: Vec<usize> = (0..=last).step_by(MIN_INDEXED_CHARS).collect();
    if starts.last() != Some(&last) {
        starts.push(last);
    }
    starts
        .iter()
        .map(|&start| {
            let trigram: String = chars[start..start + MIN_INDEXED_CHARS].iter().collect();
            format!("\"{}\"", trigram.replace('"', "\"\""))
        })
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// Makes `fieldsync_search_hit` answer for this plan's matches on this thread until the guard drops.
pub(crate) struct Installed(());

impl Plan {
    /// Installs the matches of a [`Plan::Filter`] (a no-op for the others).
    pub(crate) fn install(&self) -> Installed {
        if let Plan::Filter { hits, .. } = self {
            HITS.with(|current| *current.borrow_mut() = Some(Rc::clone(hits)));
        }
        Installed(())
    }
}

impl Drop for Installed {
    fn drop(&mut self) {
        HITS.with(|current| *current.borrow_mut() = None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_looks_up_the_trigrams_that_cover_it() {
        assert_eq!(trigram_query("elm"), "\"elm\"");
        assert_eq!(trigram_query("maple"), "\"map\" AND \"ple\"");
        assert_eq!(trigram_query("spring"), "\"spr\" AND \"ing\"");
        assert_eq!(trigram_query("a\"bcd"), "\"a\"\"b\" AND \"bcd\"");
        assert_eq!(trigram_query("ünïcode"), "\"ünï\" AND \"cod\" AND \"ode\"");
    }

    #[test]
    fn the_hit_set_holds_exactly_its_ids() {
        let hits = HitSet::new(&[1, 63, 64, 65, 1000]);
        for id in [1, 63, 64, 65, 1000] {
            assert!(hits.contains(id), "{id}");
        }
        for id in [-1, 0, 2, 62, 66, 999, 1001, i64::MAX] {
            assert!(!hits.contains(id), "{id}");
        }
        assert!(!HitSet::new(&[]).contains(0));
    }
}
