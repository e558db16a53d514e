-- fieldsync schema version 4: project lists read their first page straight from an index.
-- Each list filter gets an index that ends with the list's sort key, so SQLite walks it in order and
-- stops after one page instead of sorting every matching row. Search reads one column instead of six.

DROP INDEX projects_by_client_status;
CREATE INDEX projects_by_client_status
    ON projects (client_status COLLATE NOCASE, coalesce(due_date, client_due_date, '~'), work_order_number);
CREATE INDEX projects_by_integration_due
    ON projects (integration_id, coalesce(due_date, client_due_date, '~'), work_order_number);

-- Lower-cased number, address, city, ZIP, description and reference, kept by every write of a project.
ALTER TABLE projects ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
UPDATE projects SET search_text = lower(
    work_order_number || char(31) || coalesce(address1, '') || char(31) || coalesce(city, '') || char(31) ||
    coalesce(zip, '') || char(31) || coalesce(description, '') || char(31) || coalesce(reference, ''));
