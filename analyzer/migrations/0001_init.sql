-- Vagt analyzer store, version 1. Runs unchanged on SQLite and PostgreSQL:
-- plain types, no auto-increment (ids are made by the analyzer, the same
-- on every instance), upserts with ON CONFLICT.

-- Every event kept, once: a sensor's (municipality, sensor, seq) is unique,
-- so a second copy from a re-sending sensor or a re-read partition is
-- dropped by the primary key.
CREATE TABLE events (
    municipality TEXT NOT NULL,
    sensor TEXT NOT NULL,
    seq BIGINT NOT NULL,
    topic TEXT NOT NULL,
    event_type TEXT NOT NULL,
    segment TEXT NOT NULL,
    event_time DOUBLE PRECISION NOT NULL,
    received DOUBLE PRECISION NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (municipality, sensor, seq)
);
CREATE INDEX events_kind_received ON events (topic, received);

-- Alerts, with the fields analysts search by.
CREATE TABLE alerts (
    municipality TEXT NOT NULL,
    sensor TEXT NOT NULL,
    seq BIGINT NOT NULL,
    segment TEXT NOT NULL,
    alert_id TEXT NOT NULL,
    ts DOUBLE PRECISION NOT NULL,
    detector TEXT NOT NULL,
    kind TEXT NOT NULL,
    severity TEXT NOT NULL,
    severity_rank INTEGER NOT NULL,
    score INTEGER NOT NULL,
    technique TEXT NOT NULL,
    src TEXT NOT NULL,
    dst TEXT NOT NULL,
    subject TEXT NOT NULL,
    message TEXT NOT NULL,
    count BIGINT NOT NULL,
    received DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (municipality, sensor, seq)
);
CREATE INDEX alerts_ts ON alerts (ts);
CREATE INDEX alerts_municipality_ts ON alerts (municipality, ts);
CREATE INDEX alerts_detector_ts ON alerts (detector, ts);
CREATE INDEX alerts_src ON alerts (src);

-- The external indicators of each alert (address, /24, domain, ...), for
-- campaigns and indicator search.
CREATE TABLE indicators (
    municipality TEXT NOT NULL,
    sensor TEXT NOT NULL,
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    ts DOUBLE PRECISION NOT NULL,
    detector TEXT NOT NULL,
    PRIMARY KEY (municipality, sensor, seq, kind, value)
);
CREATE INDEX indicators_value_ts ON indicators (kind, value, ts);
CREATE INDEX indicators_ts ON indicators (ts);

-- The inventory: the latest record of each device.
CREATE TABLE assets (
    municipality TEXT NOT NULL,
    sensor TEXT NOT NULL,
    segment TEXT NOT NULL,
    asset_key TEXT NOT NULL,
    role TEXT NOT NULL,
    first_seen DOUBLE PRECISION NOT NULL,
    last_seen DOUBLE PRECISION NOT NULL,
    seq BIGINT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (municipality, sensor, segment, asset_key)
);

-- Each sensor's latest health report.
CREATE TABLE sensors (
    municipality TEXT NOT NULL,
    sensor TEXT NOT NULL,
    last_received DOUBLE PRECISION NOT NULL,
    last_event_time DOUBLE PRECISION NOT NULL,
    seq BIGINT NOT NULL,
    stats TEXT NOT NULL,
    previous TEXT NOT NULL,
    PRIMARY KEY (municipality, sensor)
);

-- What correlation found: campaigns, waves, kill chains and sensor health.
-- The id is made from the rule and its key, so every instance that finds
-- the same thing writes the same row.
CREATE TABLE correlations (
    id TEXT PRIMARY KEY,
    rule TEXT NOT NULL,
    key_kind TEXT NOT NULL,
    key_value TEXT NOT NULL,
    municipality TEXT NOT NULL,
    municipalities TEXT NOT NULL,
    detectors TEXT NOT NULL,
    severity TEXT NOT NULL,
    first_seen DOUBLE PRECISION NOT NULL,
    last_seen DOUBLE PRECISION NOT NULL,
    alerts BIGINT NOT NULL,
    summary TEXT NOT NULL,
    created DOUBLE PRECISION NOT NULL,
    updated DOUBLE PRECISION NOT NULL,
    cleared DOUBLE PRECISION
);
CREATE INDEX correlations_rule ON correlations (rule, last_seen);
-- Which municipalities a correlation touches, so a municipality's analyst
-- finds (only) what touches theirs.
CREATE TABLE correlation_municipalities (
    correlation_id TEXT NOT NULL,
    municipality TEXT NOT NULL,
    PRIMARY KEY (correlation_id, municipality)
);

CREATE TABLE incidents (
    id TEXT PRIMARY KEY,
    municipality TEXT NOT NULL,
    title TEXT NOT NULL,
    severity TEXT NOT NULL,
    state TEXT NOT NULL,
    assignee TEXT NOT NULL,
    significant INTEGER NOT NULL,
    source_kind TEXT NOT NULL,
    source_id TEXT NOT NULL,
    detected DOUBLE PRECISION NOT NULL,
    created DOUBLE PRECISION NOT NULL,
    updated DOUBLE PRECISION NOT NULL
);
CREATE INDEX incidents_municipality ON incidents (municipality, detected);

-- Everything that happened to an incident: raised, state changes,
-- assignments, notes.
CREATE TABLE incident_timeline (
    incident_id TEXT NOT NULL,
    ts DOUBLE PRECISION NOT NULL,
    n BIGINT NOT NULL,
    actor TEXT NOT NULL,
    what TEXT NOT NULL,
    detail TEXT NOT NULL,
    PRIMARY KEY (incident_id, n)
);

-- API tokens: only the SHA-256 of the secret is kept.
CREATE TABLE tokens (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    municipality TEXT NOT NULL,
    created DOUBLE PRECISION NOT NULL,
    revoked DOUBLE PRECISION
);

-- Every API request: who, what, when, whose data.
CREATE TABLE audit (
    ts DOUBLE PRECISION NOT NULL,
    token_id TEXT NOT NULL,
    role TEXT NOT NULL,
    scope TEXT NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    query TEXT NOT NULL,
    status INTEGER NOT NULL,
    instance TEXT NOT NULL
);
CREATE INDEX audit_ts ON audit (ts);

-- Retention runs: what was deleted, when, by which rule.
CREATE TABLE deletions (
    ts DOUBLE PRECISION NOT NULL,
    data_kind TEXT NOT NULL,
    older_than DOUBLE PRECISION NOT NULL,
    row_count BIGINT NOT NULL,
    instance TEXT NOT NULL
);
