-- fieldsync schema version 3: lists sort by the effective due date, the vendor's or else the provider's.
-- External integrations never set the vendor's due date, so sorting by it alone left their lists unsorted.

DROP INDEX projects_by_due;
CREATE INDEX projects_by_due ON projects (coalesce(due_date, client_due_date, '~'), work_order_number);
