-- +goose Up
-- Reconciliation (detect, explain, act): what the hub found wrong, and the
-- alerts it sent about it. A discrepancy's key is its stable identity
-- (kind + entity); at most one discrepancy per key is open at a time.
CREATE TABLE discrepancy (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    shop           TEXT NOT NULL,
    kind           TEXT NOT NULL,
    severity       TEXT NOT NULL,              -- info | warning | critical
    key            TEXT NOT NULL,
    entities       TEXT NOT NULL DEFAULT '{}', -- JSON object: order, warehouse, sku, location, ...
    message        TEXT NOT NULL,
    suggested_fix  TEXT NOT NULL DEFAULT '',
    auto_heal      TEXT NOT NULL DEFAULT '',   -- what the hub did about it, if anything
    first_seen     TIMESTAMP NOT NULL,
    last_seen      TIMESTAMP NOT NULL,
    closed_at      TIMESTAMP,
    count          BIGINT NOT NULL DEFAULT 1   -- reconciliation runs that saw it
);
CREATE UNIQUE INDEX discrepancy_open_key ON discrepancy (shop, key) WHERE closed_at IS NULL;
CREATE INDEX discrepancy_open ON discrepancy (shop, closed_at, kind);
CREATE INDEX discrepancy_kind ON discrepancy (shop, kind, id);

-- Every alert notice sent (or attempted) on a channel.
CREATE TABLE alert (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    shop         TEXT NOT NULL,
    channel      TEXT NOT NULL,                -- the channel's name in the configuration
    group_key    TEXT NOT NULL,                -- shop + kind: one alert per group
    kind         TEXT NOT NULL,
    notice       TEXT NOT NULL,                -- firing | resolved
    open_count   BIGINT NOT NULL DEFAULT 0,    -- open discrepancies of the group when sent
    new_count    BIGINT NOT NULL DEFAULT 0,    -- opened since the group's previous notice
    message      TEXT NOT NULL,
    at           TIMESTAMP NOT NULL,
    error        TEXT NOT NULL DEFAULT ''      -- delivery error; '' = delivered
);
CREATE INDEX alert_group ON alert (shop, group_key, channel, id);

-- A lease per (shop, name): which instance runs a periodic check now.
CREATE TABLE job_lease (
    shop        TEXT NOT NULL,
    name        TEXT NOT NULL,
    holder      TEXT NOT NULL,
    expires_at  BIGINT NOT NULL,               -- unix milliseconds
    PRIMARY KEY (shop, name)
);

-- +goose Down
DROP TABLE job_lease;
DROP TABLE alert;
DROP TABLE discrepancy;
