-- The last tag result emitted per activity. IF NOT EXISTS: stores made before the tagger
-- had migrations already hold this table.
CREATE TABLE IF NOT EXISTS emitted (
    activity_id TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    fingerprint TEXT NOT NULL,
    withdrawn INTEGER NOT NULL DEFAULT 0,
    event_id TEXT,
    updated_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
