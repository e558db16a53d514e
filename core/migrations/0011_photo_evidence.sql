-- fieldsync schema version 11: evidence (docs/EVIDENCE.md): content credentials on renditions, and the
-- perceptual hash and flags of reused and stale photos.

-- The 64-bit perceptual hash of each processed photo's thumbnail (core/src/evidence/phash.rs), stored as the
-- signed 64-bit integer with the same bits. Appended at processing: `seq` only grows, so a process keeps the
-- hashes in memory and loads only the rows added since (by any process). Photos processed before this
-- version have none.
CREATE TABLE photo_hashes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    photo_id TEXT NOT NULL UNIQUE REFERENCES photos(id) ON DELETE CASCADE,
    phash INTEGER NOT NULL
);
-- `possible_reuse`: the near-duplicate photo found at processing, and how many bits apart.
ALTER TABLE photos ADD COLUMN reuse_of TEXT;
ALTER TABLE photos ADD COLUMN reuse_distance INTEGER;
-- `taken_before_assignment`: the capture time precedes the project's arrival on the device.
ALTER TABLE photos ADD COLUMN taken_before_assignment INTEGER NOT NULL DEFAULT 0;
-- The rendition carries content credentials signed by the device (0: made without a device signer).
ALTER TABLE photos ADD COLUMN signed INTEGER NOT NULL DEFAULT 0;
-- Why signing the rendition waits (the device key is locked, ...): the photo stays `processing`, held, and
-- is tried again at the next processing pass. NULL when nothing waits.
ALTER TABLE photos ADD COLUMN evidence_wait TEXT;

-- When the project reached this device (its first import, or its creation on the device): a photo taken
-- before it is flagged. Projects from before this version take their last update.
ALTER TABLE projects ADD COLUMN first_seen_at INTEGER;
UPDATE projects SET first_seen_at = updated_at;
