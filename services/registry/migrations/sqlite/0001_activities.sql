-- The activity record, its history, its facets for filtering, and the outbox.
CREATE TABLE counters (
    name TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('activity', 0);
CREATE TABLE activities (
    id TEXT PRIMARY KEY,
    number BIGINT NOT NULL UNIQUE,
    version INTEGER NOT NULL,
    lifecycle TEXT NOT NULL,
    category TEXT NOT NULL,
    stage TEXT NOT NULL,
    status TEXT NOT NULL,
    search_text TEXT NOT NULL,
    starts_on TEXT,
    ends_on TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    state TEXT NOT NULL
);
CREATE INDEX activities_updated_at ON activities (updated_at);
CREATE INDEX activities_category ON activities (category, number);
CREATE INDEX activities_status ON activities (status, number);
CREATE INDEX activities_stage ON activities (stage, number);
CREATE TABLE activity_facets (
    facet TEXT NOT NULL,
    value TEXT NOT NULL,
    activity_id TEXT NOT NULL REFERENCES activities (id),
    PRIMARY KEY (facet, value, activity_id)
);
CREATE INDEX activity_facets_activity ON activity_facets (activity_id);
CREATE TABLE activity_versions (
    activity_id TEXT NOT NULL REFERENCES activities (id),
    version INTEGER NOT NULL,
    actor TEXT NOT NULL,
    changed_at TEXT NOT NULL,
    change TEXT NOT NULL,
    changed_fields TEXT NOT NULL,
    state TEXT NOT NULL,
    PRIMARY KEY (activity_id, version)
);
CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    activity_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    event_id TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL,
    traceparent TEXT,
    created_at TEXT NOT NULL,
    published_at TEXT
);
CREATE INDEX outbox_pending ON outbox (seq) WHERE published_at IS NULL;
CREATE TABLE idempotency_keys (
    principal TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    headers TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (principal, idempotency_key)
);
CREATE TABLE api_keys (
    name TEXT PRIMARY KEY,
    key_hash TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE TABLE computed_tags (
    activity_id TEXT PRIMARY KEY,
    activity_version INTEGER NOT NULL,
    model_id TEXT NOT NULL,
    tags TEXT NOT NULL,
    updated_at TEXT NOT NULL
)
