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
//! words are exactly the words above. The index answers the `AND` of one prefix query per word typed of 3
//! characters or more (by its first 6 at most, the longest prefix index), which every match satisfies; the
//! candidates it returns are then checked against the exact rule in Rust (`fieldsync_search_match`, which
//! also decides for the projects the index does not hold yet). The index holds no text of its own and no
//! positions (`detail=none`, `columnsize=0`); its prefix indexes (3 to 6 characters) make a lookup read one
//! stored list lazily.
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
    /// Many matches (or no word long enough to look up): read the list in its order and test each row with
    /// the exact rule; a page stops after `limit` rows, soon since matches are dense.
    Walk {
        /// The parts of the search, for the exact rule.
        parts: Rc<Vec<String>>,
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
    /// Between the two (or many rows above the mark): read the list in its order, skipping by row id the
    /// index entries of rows the index did not match before their rows are read.
    Filter {
        /// The matching row ids at or below the mark.
        hits: Rc<HitSet>,
        /// The mark the plan read.
        mark: i64,
        /// The parts of the search, for the exact rule.
        parts: Rc<Vec<String>>,
    },
}

/// Words shorter than this (in characters) are left out of the index lookup: a short prefix matches a
/// large part of the index (every number starts with "wo"), and the exact rule checks every part anyway.
const MIN_LOOKUP_CHARS: usize = 3;

/// Words are looked up by at most this many first characters: the longest prefix index (migration 12's
/// `prefix = '3 4 5 6'`). A prefix query of another length would merge the lists of every matching word
/// before returning a row.
const MAX_LOOKUP_CHARS: usize = 6;

/// At most this many index matches are read (lazily, from the prefix indexes: about 0.2 µs each); more
/// means the term is common, and the list walked in its order meets `limit` matches within about
/// `limit × projects / matches` rows (1,700 for 50 of 100,000).
const PROBE: usize = if cfg!(test) { 60 } else { 3_000 };

/// Up to this many matches (index matches plus rows above the mark), reading and sorting them is cheaper
/// than walking the list: about 1.5 µs per match against 0.1 µs per index entry walked and 0.1 µs per
/// match read for the hit set (crossover near 600 for pages of 50 over 100,000).
const DRIVE_MAX: usize = if cfg!(test) { 20 } else { 600 };

/// Above this many projects above the mark (a large import not caught up yet), the list is walked in its
/// order rather than reading and sorting every one of them. (The unit tests scale these three down, so that
/// a few hundred projects take every plan.)
const DRIVE_MAX_BACKLOG: i64 = if cfg!(test) { 50 } else { 2_000 };

/// Plans the search for `text` (already trimmed and not empty), for a page (`Some(limit)`) or a count
/// (`None`: every match is read, so the matches drive). Call it in the read transaction of the query it
/// plans (the mark and the matches must be of the same snapshot).
pub(crate) fn plan(connection: &Connection, text: &str, page: Option<u32>) -> Result<Plan> {
    let lower = text.to_lowercase();
    let parts: Vec<String> = lower.split_whitespace().map(str::to_owned).collect();
    let all_words: Vec<&str> = parts.iter().flat_map(|part| words(part)).collect();
    if all_words.is_empty() {
        return Ok(Plan::Scan {
            pattern: super::like_pattern(&lower),
        });
    }
    let lookup: Vec<&str> = all_words
        .iter()
        .copied()
        .filter(|word| word.chars().nth(MIN_LOOKUP_CHARS - 1).is_some())
        .map(|word| match word.char_indices().nth(MAX_LOOKUP_CHARS) {
            Some((end, _)) => &word[..end],
            None => word,
        })
        .collect();
    if lookup.is_empty() && page.is_some() {
        return Ok(Plan::Walk {
            parts: Rc::new(parts),
        });
    }
    // Short words only, for a count: look them all up.
    let lookup = if lookup.is_empty() { all_words } else { lookup };
    // A word is a run of token characters: it holds no `"`, so quoting needs no escape.
    let fts = lookup
        .iter()
        .map(|word| format!("\"{word}\"*"))
        .collect::<Vec<_>>()
        .join(" AND ");
    let (mark, top): (i64, i64) = connection
        .prepare_cached(
            "SELECT indexed_through, (SELECT coalesce(max(id), 0) FROM projects) FROM search_state",
        )?
        .query_row([], |row| Ok((row.get(0)?, row.get(1)?)))?;
    let parts = Rc::new(parts);
    if page.is_none() {
        return Ok(Plan::Drive { fts, mark, parts });
    }
    let ids: Vec<i64> = connection
        .prepare_cached("SELECT rowid FROM projects_search WHERE projects_search MATCH ?1 LIMIT ?2")?
        .query_map(params![&fts, PROBE as i64 + 1], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    if ids.len() > PROBE {
        return Ok(Plan::Walk { parts });
    }
    let backlog = (top - mark).max(0);
    if backlog <= DRIVE_MAX_BACKLOG && ids.len() as i64 + backlog <= DRIVE_MAX as i64 {
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
            Plan::Walk { parts } | Plan::Drive { parts, .. } => (None, Rc::clone(parts)),
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
