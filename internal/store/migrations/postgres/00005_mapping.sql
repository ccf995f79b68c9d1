-- +goose Up
-- Versioned mapping tables (package mapping): crossdock SKU ↔ Shopify
-- variant / inventory item ↔ WMS item code per warehouse, with unit of
-- measure and pack size. Rows are never updated: every change is a new
-- version (who, when, why) whose entries are effective from a time, so the
-- table can be listed as of any time, diffed, and reverted. sku_mapping
-- stays the hub's cache of what Shopify reports.

-- One change set: a set, a delete, an import or a revert.
CREATE TABLE mapping_version (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,  -- the version number
    shop         TEXT NOT NULL,
    at           TIMESTAMPTZ NOT NULL,
    actor        TEXT NOT NULL,
    reason       TEXT NOT NULL,
    op           TEXT NOT NULL,                      -- set | delete | import | revert
    reverted_to  BIGINT NOT NULL DEFAULT 0           -- op revert: the version restored
);
CREATE INDEX mapping_version_shop ON mapping_version (shop, id);

-- The entries a version wrote. For one (shop, warehouse, sku,
-- effective_from) the entry of the highest version is the one known.
CREATE TABLE mapping_entry (
    shop               TEXT NOT NULL,
    warehouse          TEXT NOT NULL,                -- '' = every warehouse without an entry of its own
    sku                TEXT NOT NULL,                -- crossdock SKU (= Shopify variant SKU)
    effective_from     TIMESTAMPTZ NOT NULL,
    version            BIGINT NOT NULL,
    kind               TEXT NOT NULL,                -- set | delete (no mapping from then on) | void (entry withdrawn by a revert)
    item_code          TEXT NOT NULL DEFAULT '',     -- WMS item code; '' = the SKU itself
    uom                TEXT NOT NULL DEFAULT '',
    pack_size          INTEGER NOT NULL DEFAULT 1,   -- WMS units per Shopify unit
    variant_id         TEXT NOT NULL DEFAULT '',
    inventory_item_id  TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (shop, warehouse, sku, effective_from, version)
);
CREATE INDEX mapping_entry_item ON mapping_entry (shop, warehouse, item_code);
CREATE INDEX mapping_entry_version ON mapping_entry (shop, version);

-- +goose Down
DROP TABLE mapping_entry;
DROP TABLE mapping_version;
