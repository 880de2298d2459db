-- Imports and their reports, staging, partner records, links, pull state, the feed view.
-- IF NOT EXISTS: stores made before partner-feed had migrations already hold these.
CREATE TABLE IF NOT EXISTS imports (
    id TEXT PRIMARY KEY,
    partner TEXT NOT NULL,
    format TEXT NOT NULL,
    channel TEXT NOT NULL,
    status TEXT NOT NULL,
    received_at TEXT NOT NULL,
    finished_at TEXT,
    bytes INTEGER NOT NULL,
    summary TEXT,
    progress TEXT
);
CREATE INDEX IF NOT EXISTS imports_by_partner ON imports (partner, received_at);
CREATE TABLE IF NOT EXISTS import_entries (
    import_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    accepted INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (import_id, seq)
);
CREATE TABLE IF NOT EXISTS import_staging (
    import_id TEXT NOT NULL,
    record_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    content_hash TEXT,
    record TEXT,
    changed_fields TEXT,
    findings TEXT,
    PRIMARY KEY (import_id, record_id)
);
CREATE INDEX IF NOT EXISTS import_staging_by_seq ON import_staging (import_id, seq);
CREATE TABLE IF NOT EXISTS partner_records (
    partner TEXT NOT NULL,
    record_id TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    record TEXT NOT NULL,
    last_import TEXT NOT NULL,
    PRIMARY KEY (partner, record_id)
);
CREATE TABLE IF NOT EXISTS links (
    partner TEXT NOT NULL,
    record_id TEXT NOT NULL,
    activity_id TEXT NOT NULL,
    confidence REAL NOT NULL,
    method TEXT NOT NULL,
    discrepancies TEXT NOT NULL,
    PRIMARY KEY (partner, record_id)
);
CREATE TABLE IF NOT EXISTS pull_state (
    partner TEXT PRIMARY KEY,
    etag TEXT,
    last_modified TEXT,
    checked_at TEXT NOT NULL,
    outcome TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS feed_activities (
    activity_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL UNIQUE,
    version INTEGER NOT NULL,
    withdrawn INTEGER NOT NULL,
    state TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS computed_tags (
    activity_id TEXT PRIMARY KEY,
    activity_version INTEGER NOT NULL,
    goals TEXT NOT NULL,
    targets TEXT NOT NULL
);
