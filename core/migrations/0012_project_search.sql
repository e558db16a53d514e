-- fieldsync schema version 12: project search reads a full-text index instead of scanning every project.
--
-- `projects_search` is an FTS5 index of `projects.search_text` (the lower-cased number, address, city, ZIP,
-- description and reference that migration 4 added and every project write keeps), tokenised with FTS5's
-- `ascii` tokenizer: a word is a run of letters, digits and non-ASCII characters, any other ASCII character
-- separates words. A search finds the projects where every word typed begins a word of that text
-- (core/src/store/search.rs). External content: the index keeps no copy of the text, only which rows hold
-- each word (`detail=none`, no per-row sizes: `columnsize=0`), plus prefix indexes of 3 to 6 characters, so
-- that a word typed is looked up as one stored list read lazily (FTS5 otherwise merges the lists of every
-- word that starts with it before returning the first row: about 1 ms for a street name on 100,000
-- projects). Longer words typed are looked up by their first 6 characters.
--
-- The index is brought up to date after an import, not inside it (`Store::catch_up_search`): it holds
-- exactly the projects whose row id is at most `search_state.indexed_through`, and a search reads the
-- projects above that mark from the table, so no committed project is ever missed. Row ids at or below the
-- mark are indexed by the write that inserts or changes them; a delete takes the row out (the trigger).
-- This migration starts with an empty index and the mark at 0: the first catch-up indexes every project.
CREATE VIRTUAL TABLE projects_search USING fts5(
    search_text,
    content = 'projects',
    content_rowid = 'id',
    tokenize = 'ascii',
    detail = none,
    columnsize = 0,
    prefix = '3 4 5 6'
);

CREATE TABLE search_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    indexed_through INTEGER NOT NULL
);
INSERT INTO search_state (id, indexed_through) VALUES (1, 0);

-- An empty text has no words (and FTS5 must not be asked to delete a row it never indexed).
CREATE TRIGGER projects_search_delete AFTER DELETE ON projects
WHEN old.search_text <> '' AND old.id <= (SELECT indexed_through FROM search_state) BEGIN
    INSERT INTO projects_search (projects_search, rowid, search_text) VALUES ('delete', old.id, old.search_text);
END;
