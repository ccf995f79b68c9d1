-- +goose Up
-- The stock engine: when a warehouse order stopped counting as in flight
-- (cancelled), the warehouse's stock movements between snapshots, what
-- Shopify holds per SKU × location (several warehouses may share one
-- location), and the ledger that explains each figure.
ALTER TABLE warehouse_order ADD COLUMN cancelled_at TIMESTAMPTZ;

CREATE TABLE stock_movement (
    shop         TEXT NOT NULL,
    warehouse    TEXT NOT NULL,
    movement_id  TEXT NOT NULL,
    sku          TEXT NOT NULL,
    delta        BIGINT NOT NULL,
    reason       TEXT NOT NULL DEFAULT '',
    at           TIMESTAMPTZ NOT NULL,
    received_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (shop, warehouse, movement_id)
);
CREATE INDEX stock_movement_sku ON stock_movement (shop, warehouse, sku, at);

CREATE TABLE location_level (
    shop               TEXT NOT NULL,
    location_id        TEXT NOT NULL,
    sku                TEXT NOT NULL,
    inventory_item_id  TEXT NOT NULL DEFAULT '',
    target             BIGINT,             -- the formula's figure at the last sync
    shopify_available  BIGINT,             -- last value read from, written to or reported by Shopify
    shopify_seen_at    TIMESTAMPTZ,
    shopify_source     TEXT NOT NULL DEFAULT '',   -- push | read | webhook
    pushed_value       BIGINT,             -- last value the hub wrote, or saw Shopify agree with
    agreed_orders      BIGINT,             -- units ordered at the location (not cancelled) when pushed_value was agreed
    pushed_at          TIMESTAMPTZ,
    pushed_key         TEXT NOT NULL DEFAULT '',
    flagged_target     BIGINT,             -- a manual edit is flagged (not corrected) while the target stays this
    PRIMARY KEY (shop, location_id, sku)
);

CREATE TABLE stock_ledger (
    id           BIGSERIAL PRIMARY KEY,
    shop         TEXT NOT NULL,
    location_id  TEXT NOT NULL,
    sku          TEXT NOT NULL,
    at           TIMESTAMPTZ NOT NULL,
    kind         TEXT NOT NULL,
    message      TEXT NOT NULL
);
CREATE INDEX stock_ledger_level ON stock_ledger (shop, location_id, sku, id);

-- +goose Down
DROP TABLE stock_ledger;
DROP TABLE location_level;
DROP TABLE stock_movement;
ALTER TABLE warehouse_order DROP COLUMN cancelled_at;
