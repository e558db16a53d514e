-- fieldsync schema version 10: photo retention.

-- When the provider confirmed the photo (its relay), the age the retention policy counts originals from.
-- Photos relayed before this version take their outbox entry's last update (the delivery), else their first
-- upload, else their creation.
ALTER TABLE photos ADD COLUMN relayed_at INTEGER;
UPDATE photos SET relayed_at = coalesce(
        (SELECT o.updated_at FROM outbox o WHERE o.id = photos.id AND o.state = 'done'),
        first_upload_at, created_at)
    WHERE state = 'relayed';

-- When the retention policy deleted the photo's original or rendition (core/src/photo/retention.rs). The
-- SHA-256 columns keep their value (the file's name, for the record); a set column means the file is gone
-- from the photo store. Only relayed and rejected photos ever have one.
ALTER TABLE photos ADD COLUMN original_evicted_at INTEGER;
ALTER TABLE photos ADD COLUMN rendition_evicted_at INTEGER;
