-- fieldsync schema version 8: which process is processing a photo.

-- The run that claimed a `processing` photo (its lock file's name in `<db>-runs/`, see
-- core/src/outbox/lease.rs); NULL when none has. Two processes adding photos to one database never process
-- the same photo: a photo is claimed in a write transaction, and taken over only when its run is dead.
ALTER TABLE photos ADD COLUMN processing_owner TEXT;
