//! Project search: an FTS5 word index over `projects.search_text` (migration 12), brought up to date after
//! imports rather than inside them.
//!
//! **What a search finds.** `search_text` is the lower-cased work-order number, address, city, ZIP,
//! description and reference of a project, joined (`projects::search_text`). Its words are the runs of
//! letters, digits and non-ASCII characters; every other ASCII character (space, `-`, `/`, `#`, …) separates
//! words. A search is cut at its spaces into parts, and finds the projects where **every part appears in
//! that text at the start of a word**, parts in any order: "mapl" finds "1042 Maple Dr", "elm spring" finds
//! Elm St in Springfield, "WO-00042" finds WO-0004217, "2 main" finds "2 Main St" but not "12 Main St". It
//! does not find the middle of a word ("field" in "Springfield", "42" in "WO-0000042"): digits match from
//! the start of the number's part, leading zeros included. Case is ignored (the text and the search are
//! lower-cased by Rust's `to_lowercase`). A search with no letter or digit at all (only punctuation, such
//! as `%`) matches the text as typed, anywhere ([`Plan::Scan`]).
//!
//! **The index.** `projects_search` is an external-content FTS5 table with the `ascii` tokenizer, whose
//! words are exactly the words above. The index answers the `AND` of one prefix query per word typed,
//! which every match satisfies; the few candidates it returns are then checked against the exact rule in
//! Rust (`fieldsync_search_match`, which also decides for the projects the index does not hold yet). The
//! index holds no text of its own and no positions (`detail=none`, `columnsize=0`).
//!
//! **Kept up to date after an import, never missed by a search.** The index holds exactly the projects
//! whose row id is at most the mark `search_state.indexed_through`:
//!
//! - a project inserted with a row id above the mark is not indexed by its write (a Full Import of 100,000
//!   orders writes no index entry); [`Store::catch_up_search`] later indexes the rows above the mark in
//!   bounded transactions of [`CATCH_UP_ROWS`] rows and moves the mark, in the same transaction;
//! - a project at or below the mark is indexed when it is inserted (a reused row id) and re-indexed when its
//!   `search_text` changes, in the write's transaction ([`index`], [`unindex`]); a delete takes it out (the
//!   trigger `projects_search_delete`);
//! - a search reads, in one snapshot, the index for the projects at or below the mark and the table for
//!   those above it, testing each of those with the same rule in Rust (`fieldsync_search_match`).
//!
//! Every committed state satisfies the invariant, so a crash at any point (in an import, in a catch-up)
//! leaves a database whose searches are complete; the next catch-up continues from the mark. The engine
//! catches up after every import and `App::open` at start-up. Until then a search right after a large
//! import reads the new projects from the table: slower (a scan along the list), never incomplete.
//!
//! **Reading it.** [`plan`] turns the search text into one of three ways of filtering the list:
//!
//! - no word: `LIKE` on `search_text` ([`Plan::Scan`]);
//! - few matches and few projects above the mark: the list is read from those rows and sorted
//!   ([`Plan::Drive`]);
//! - otherwise: the list is read in its own order, as without a search, and each index entry is tested
//!   against the set of index matches by the SQL function `fieldsync_search_hit` before its row is read
//!   (rows above the mark pass), then against the exact rule ([`Plan::Filter`]); a page stops after `limit`
//!   rows.
//!
//! The list keeps its order (due date or number) and its keyset cursors with a search: results are not
//! scored.

use std::cell::RefCell;
use std::rc::Rc;

use rusqlite::functions::FunctionFlags;
use rusqlite::{Connection, params};

use super::Store;
use crate::Result;

/// The SQL function that tells whether a project row id is in the current search's index matches.
pub(crate) const HIT_FUNCTION: &str = "fieldsync_search_hit";

/// The SQL function that tells whether a `search_text` matches the current search (the exact rule, for the
/// index's candidates and for the projects the index does not hold yet).
pub(crate) const MATCH_FUNCTION: &str = "fieldsync_search_match";

/// Rows indexed per catch-up transaction: the longest the catch-up holds the writer is about this many rows'
/// worth of index writes (tens of milliseconds), so field work waiting for the writer never waits long.
pub const CATCH_UP_ROWS: i64 = 20_000;

/// The mark: the index holds exactly the projects with a row id at most this.
pub(crate) fn indexed_through(connection: &Connection) -> Result<i64> {
    Ok(connection
        .prepare_cached("SELECT indexed_through FROM search_state")?
        .query_row([], |row| row.get(0))?)
}

/// Indexes the project `project_id` from its row if the index is meant to hold it (at or below the mark):
/// after an insert with a reused row id, or after an update that changed its `search_text`.
pub(crate) fn index(connection: &Connection, project_id: i64) -> Result<()> {
    connection
        .prepare_cached(
            "INSERT INTO projects_search (rowid, search_text)
             SELECT id, search_text FROM projects
             WHERE id = ?1 AND search_text <> '' AND id <= (SELECT indexed_through FROM search_state)",
        )?
        .execute([project_id])?;
    Ok(())
}

/// Takes a project's stored `search_text` out of the index, before an update that changes it (a no-op above
/// the mark). The text is read from the row: FTS5 removes exactly the words of the text it is given. An
/// empty text has none (and FTS5 must not be asked to delete a row it never indexed).
pub(crate) fn unindex(connection: &Connection, project_id: i64) -> Result<()> {
    connection
        .prepare_cached(
            "INSERT INTO projects_search (projects_search, rowid, search_text)
             SELECT 'delete', id, search_text FROM projects
             WHERE id = ?1 AND search_text <> '' AND id <= (SELECT indexed_through FROM search_state)",
        )?
        .execute([project_id])?;
    Ok(())
}

impl Store {
    /// Brings the search index up to date: indexes the projects above the mark, [`CATCH_UP_ROWS`] rows per
    /// transaction (so field work waiting for the writer waits for one of them at most), and returns how
    /// many rows it indexed. Searches are complete before, during and after (see the module docs); this
    /// only makes them fast again after a large import. The engine calls it after every import and
    /// `App::open` at start-up.
    pub fn catch_up_search(&self) -> Result<u64> {
        let mut indexed = 0u64;
        loop {
            let step = self.write(|tx| {
                let mark = indexed_through(tx)?;
                let top: i64 = tx
                    .prepare_cached("SELECT coalesce(max(id), 0) FROM projects")?
                    .query_row([], |row| row.get(0))?;
                if top <= mark {
                    return Ok(None);
                }
                let through = top.min(mark.saturating_add(CATCH_UP_ROWS));
                let rows = tx
                    .prepare_cached(
                        "INSERT INTO projects_search (rowid, search_text)
                         SELECT id, search_text FROM projects WHERE id > ?1 AND id <= ?2 AND search_text <> ''",
                    )?
                    .execute(params![mark, through])?;
                tx.prepare_cached("UPDATE search_state SET indexed_through = ?1")?
                    .execute([through])?;
                Ok(Some(rows as u64))
            })?;
            match step {
                Some(rows) => indexed += rows,
                None => return Ok(indexed),
            }
        }
    }

    /// How many projects the search index does not hold yet (above the mark). 0 once caught up.
    pub fn search_backlog(&self) -> Result<u64> {
        self.read(|connection| {
            Ok(connection
                .prepare_cached(
                    "SELECT count(*) FROM projects WHERE id > (SELECT indexed_through FROM search_state)",
                )?
                .query_row([], |row| row.get(0))?)
        })
    }
}

/// The words of a text, as the index's tokenizer cuts them: runs of ASCII letters and digits and of
/// non-ASCII characters. Applied to lower-cased text only.
pub(crate) fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(is_separator).filter(|word| !word.is_empty())
}

fn is_separator(c: char) -> bool {
    c.is_ascii() && !c.is_ascii_alphanumeric()
}

/// Whether every one of `parts` (lower-cased, no spaces) appears in `text` at the start of a word: the
/// search rule.
pub(crate) fn matches(text: &str, parts: &[String]) -> bool {
    parts.iter().all(|part| {
        // A part that starts with a separator ("#4", "-900") starts a word wherever it is.
        let anywhere = part.starts_with(is_separator);
        text.match_indices(part.as_str())
            .any(|(at, _)| anywhere || text[..at].chars().next_back().is_none_or(is_separator))
    })
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

/// What the SQL functions answer for during one search on this thread.
#[derive(Debug, Default)]
struct Current {
    hits: Option<Rc<HitSet>>,
    parts: Rc<Vec<String>>,
}

thread_local! {
    /// The search under way on this thread (the functions run on the thread that steps the statement).
    static CURRENT: RefCell<Current> = RefCell::new(Current::default());
}

/// Registers `fieldsync_search_hit(id)` (1 when `id` is in the index matches installed by [`Plan::install`]
/// on this thread) and `fieldsync_search_match(search_text)` (1 when the text matches the installed search)
/// on a connection.
pub(crate) fn register(connection: &Connection) -> Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DIRECTONLY;
    connection.create_scalar_function(HIT_FUNCTION, 1, flags, |context| {
        let id: i64 = context.get(0)?;
        Ok(CURRENT.with(|current| {
            current
                .borrow()
                .hits
                .as_ref()
                .is_some_and(|hits| hits.contains(id))
        }))
    })?;
    connection.create_scalar_function(MATCH_FUNCTION, 1, flags, |context| {
        let text = context.get_raw(0).as_str().unwrap_or("");
        Ok(CURRENT.with(|current| {
            let current = current.borrow();
            !current.parts.is_empty() && matches(text, &current.parts)
        }))
    })?;
    Ok(())
}

/// How a search filters a project list.
#[derive(Debug)]
pub(crate) enum Plan {
    /// No word to look up: `search_text LIKE pattern` on every row the list reads.
    Scan {
        /// The `LIKE` pattern (lower-cased, escaped with `\`).
        pattern: String,
    },
    /// Few matches and few rows above the mark: read them and sort them.
    Drive {
        /// The FTS5 query.
        fts: String,
        /// The mark the plan read.
        mark: i64,
        /// The parts of the search, for the exact rule.
        parts: Rc<Vec<String>>,
    },
    /// Many matches (or many rows above the mark): read the list in its order, testing each row.
    Filter {
        /// The matching row ids at or below the mark.
        hits: Rc<HitSet>,
        /// The mark the plan read.
        mark: i64,
        /// The parts of the search, for the exact rule.
        parts: Rc<Vec<String>>,
    },
}

/// Matches at most this many times the list's size over this many matches are read directly; more are
/// tested along the list. Reading a match costs about as much as six steps along an index, and a page along
/// the list takes `limit × rows / matches` steps: directly is cheaper while `matches² < 6 × limit × rows`
/// (50-row pages of 100,000 projects: about 5,000 matches).
const DRIVE_FACTOR: i64 = 6;

/// Above this many projects above the mark (a large import not caught up yet), the list is walked in its
/// order rather than reading and sorting every one of them.
const DRIVE_MAX_BACKLOG: i64 = 2_000;

/// Plans the search for `text` (already trimmed and not empty) on a list of pages of `limit` rows. Call it
/// in the read transaction of the query it plans (the mark and the matches must be of the same snapshot).
pub(crate) fn plan(connection: &Connection, text: &str, limit: u32) -> Result<Plan> {
    let lower = text.to_lowercase();
    let parts: Vec<String> = lower.split_whitespace().map(str::to_owned).collect();
    let wanted: Vec<&str> = parts.iter().flat_map(|part| words(part)).collect();
    if wanted.is_empty() {
        return Ok(Plan::Scan {
            pattern: super::like_pattern(&lower),
        });
    }
    // A word is a run of token characters: it holds no `"`, so quoting needs no escape.
    let fts = wanted
        .iter()
        .map(|word| format!("\"{word}\"*"))
        .collect::<Vec<_>>()
        .join(" AND ");
    let (mark, top): (i64, i64) = connection
        .prepare_cached(
            "SELECT indexed_through, (SELECT coalesce(max(id), 0) FROM projects) FROM search_state",
        )?
        .query_row([], |row| Ok((row.get(0)?, row.get(1)?)))?;
    let ids: Vec<i64> = connection
        .prepare_cached("SELECT rowid FROM projects_search WHERE projects_search MATCH ?1")?
        .query_map([&fts], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let parts = Rc::new(parts);
    let backlog = (top - mark).max(0);
    let matches = i64::try_from(ids.len())
        .unwrap_or(i64::MAX)
        .saturating_add(backlog);
    if backlog <= DRIVE_MAX_BACKLOG
        && matches.saturating_mul(matches) < DRIVE_FACTOR * i64::from(limit.max(1)) * top.max(1)
    {
        return Ok(Plan::Drive { fts, mark, parts });
    }
    Ok(Plan::Filter {
        hits: Rc::new(HitSet::new(&ids)),
        mark,
        parts,
    })
}

/// Makes the search functions answer for this plan on this thread until the guard drops.
pub(crate) struct Installed(());

impl Plan {
    /// Installs the matches and words of a plan (nothing for a scan).
    pub(crate) fn install(&self) -> Installed {
        let (hits, parts) = match self {
            Plan::Scan { .. } => (None, Rc::default()),
            Plan::Drive { parts, .. } => (None, Rc::clone(parts)),
            Plan::Filter { hits, parts, .. } => (Some(Rc::clone(hits)), Rc::clone(parts)),
        };
        CURRENT.with(|current| *current.borrow_mut() = Current { hits, parts });
        Installed(())
    }
}

impl Drop for Installed {
    fn drop(&mut self) {
        CURRENT.with(|current| *current.borrow_mut() = Current::default());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(words: &[&str]) -> Vec<String> {
        words.iter().map(|word| (*word).to_owned()).collect()
    }

    #[test]
    fn words_are_runs_of_letters_digits_and_non_ascii() {
        assert_eq!(
            words("wo-0000042 1042 elm st. #4/b são paulo").collect::<Vec<_>>(),
            ["wo", "0000042", "1042", "elm", "st", "4", "b", "são", "paulo"]
        );
        assert_eq!(words(" -- %% ").count(), 0);
    }

    #[test]
    fn every_part_typed_must_appear_at_the_start_of_a_word() {
        let text = "wo-0000042 12 main st 1042 maple dr springfield 62701";
        assert!(matches(text, &owned(&["mapl"])));
        assert!(matches(text, &owned(&["spring", "627"])), "parts in any order");
        assert!(matches(text, &owned(&["wo-00000"])));
        assert!(
            matches(text, &owned(&["-0000042"])),
            "a part starting with a separator"
        );
        assert!(matches(text, &owned(&["maple", "dr"])));
        assert!(!matches(text, &owned(&["field"])), "not inside a word");
        assert!(!matches(text, &owned(&["42"])), "not inside the number");
        assert!(!matches(text, &owned(&["2"])), "\"12\" does not start with 2");
        assert!(!matches(text, &owned(&["maple", "dallas"])), "every part");
        assert!(!matches(text, &owned(&["wo-42"])), "a part as typed");
        // Found once at a word start even if an earlier occurrence is inside a word.
        assert!(matches("xelm elm", &owned(&["elm"])));
        assert!(matches("são paulo", &owned(&["são", "pau"])));
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
