-- fieldsync schema version 11: project search reads a full-text index instead of scanning every project.
--
-- A trigram FTS5 index over `projects.search_text` (the lower-cased number, address, city, ZIP, description
-- and reference that migration 4 added and every project write keeps): any substring of three characters or
-- more is found through the index. External content: the index stores no copy of the text (`content`),
-- only which rows hold each trigram (`detail=none`, no per-row sizes: `columnsize=0`); the text to check a
-- match against is `projects.search_text`.
--
-- Inserts and updates write the index explicitly in the store's write paths (core/src/store/search.rs): an
-- FTS5 table written from a trigger flushes its in-memory index at every statement, which made a Full
-- Import ten times slower. Deletes are rare and come from several places (a vendor's delete, a Full
-- Import's removal, a delivered removal, an integration's cascade), so one trigger handles them all.
CREATE VIRTUAL TABLE projects_search USING fts5(
    search_text,
    content = 'projects',
    content_rowid = 'id',
    tokenize = 'trigram',
    detail = none,
    columnsize = 0
);

INSERT INTO projects_search (projects_search) VALUES ('rebuild');

-- An empty text has no tokens (and FTS5 refuses to delete a row it never indexed).
CREATE TRIGGER projects_search_delete AFTER DELETE ON projects WHEN old.search_text <> '' BEGIN
    INSERT INTO projects_search (projects_search, rowid, search_text) VALUES ('delete', old.id, old.search_text);
END;
