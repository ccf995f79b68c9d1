-- +goose Up
-- Every table carries the shop (tenant) it belongs to.

CREATE TABLE webhook_event (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    shop          TEXT NOT NULL,
    topic         TEXT NOT NULL,
    webhook_id    TEXT NOT NULL,
    event_id      TEXT NOT NULL,
    api_version   TEXT NOT NULL DEFAULT '',
    triggered_at  TEXT NOT NULL DEFAULT '',
    received_at   TIMESTAMP NOT NULL,
    body          BLOB NOT NULL,
    status        TEXT NOT NULL,            -- pending | processed | quarantined | ignored
    error         TEXT NOT NULL DEFAULT '',
    processed_at  TIMESTAMP
);
CREATE UNIQUE INDEX webhook_event_delivery ON webhook_event (shop, webhook_id);
CREATE UNIQUE INDEX webhook_event_event ON webhook_event (shop, topic, event_id);
CREATE INDEX webhook_event_pending ON webhook_event (shop, status, id);

CREATE TABLE shop_order (
    shop            TEXT NOT NULL,
    order_id        TEXT NOT NULL,          -- Shopify order GID
    legacy_id       BIGINT NOT NULL DEFAULT 0,
    name            TEXT NOT NULL DEFAULT '',
    state           TEXT NOT NULL,          -- received | routed | held | rejected | in_progress | fulfilled | cancelled
    state_reason    TEXT NOT NULL DEFAULT '',
    shopify_updated_at TIMESTAMP,
    cancelled_at    TIMESTAMP,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (shop, order_id)
);
CREATE INDEX shop_order_state ON shop_order (shop, state, updated_at);

CREATE TABLE warehouse_order (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    shop                  TEXT NOT NULL,
    external_ref          TEXT NOT NULL,
    order_id              TEXT NOT NULL,
    fulfillment_order_id  TEXT NOT NULL,
    warehouse             TEXT NOT NULL,
    progress              TEXT NOT NULL,
    payload               TEXT NOT NULL,    -- canonical order.WarehouseOrder JSON
    wms_order_id          TEXT NOT NULL DEFAULT '',
    created_at            TIMESTAMP NOT NULL,
    sent_at               TIMESTAMP,
    acknowledged_at       TIMESTAMP,
    shipped_at            TIMESTAMP,
    fulfilled_at          TIMESTAMP,
    updated_at            TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX warehouse_order_ref ON warehouse_order (shop, external_ref);
CREATE UNIQUE INDEX warehouse_order_fo ON warehouse_order (shop, fulfillment_order_id);
CREATE INDEX warehouse_order_order ON warehouse_order (shop, order_id);
CREATE INDEX warehouse_order_open ON warehouse_order (shop, warehouse, progress);

CREATE TABLE shipment (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    shop               TEXT NOT NULL,
    warehouse          TEXT NOT NULL,
    wms_shipment_id    TEXT NOT NULL,
    external_ref       TEXT NOT NULL,
    payload            TEXT NOT NULL,       -- canonical order.Shipment JSON
    shipped_at         TIMESTAMP NOT NULL,
    received_at        TIMESTAMP NOT NULL,
    fulfillment_id     TEXT NOT NULL DEFAULT '',
    fulfilled_at       TIMESTAMP
);
CREATE UNIQUE INDEX shipment_wms ON shipment (shop, warehouse, wms_shipment_id);
CREATE INDEX shipment_ref ON shipment (shop, external_ref);

CREATE TABLE wms_event (
    shop          TEXT NOT NULL,
    warehouse     TEXT NOT NULL,
    event_id      TEXT NOT NULL,
    type          TEXT NOT NULL,
    external_ref  TEXT NOT NULL,
    body          TEXT NOT NULL,
    received_at   TIMESTAMP NOT NULL,
    outcome       TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (shop, warehouse, event_id)
);

CREATE TABLE timeline (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    shop      TEXT NOT NULL,
    subject   TEXT NOT NULL,               -- an order GID, or webhook:<id>
    at        TIMESTAMP NOT NULL,
    source    TEXT NOT NULL,               -- shopify | hub | wms:<warehouse> | operator
    kind      TEXT NOT NULL,
    message   TEXT NOT NULL
);
CREATE INDEX timeline_subject ON timeline (shop, subject, id);

CREATE TABLE cursor (
    shop        TEXT NOT NULL,
    name        TEXT NOT NULL,
    value       TEXT NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (shop, name)
);

CREATE TABLE warehouse_location (
    shop          TEXT NOT NULL,
    warehouse     TEXT NOT NULL,
    location_id   TEXT NOT NULL,
    service_id    TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (shop, warehouse)
);

CREATE TABLE sku_mapping (
    shop               TEXT NOT NULL,
    sku                TEXT NOT NULL,
    variant_id         TEXT NOT NULL,
    inventory_item_id  TEXT NOT NULL,
    updated_at         TIMESTAMP NOT NULL,
    PRIMARY KEY (shop, sku)
);
CREATE INDEX sku_mapping_item ON sku_mapping (shop, inventory_item_id);

CREATE TABLE stock_level (
    shop                TEXT NOT NULL,
    warehouse           TEXT NOT NULL,
    sku                 TEXT NOT NULL,
    on_hand             BIGINT NOT NULL,
    available           BIGINT NOT NULL,
    as_of               TIMESTAMP NOT NULL,
    shopify_available   BIGINT,            -- last value read from or written to Shopify
    pushed_at           TIMESTAMP,
    PRIMARY KEY (shop, warehouse, sku)
);

-- +goose Down
DROP TABLE stock_level;
DROP TABLE sku_mapping;
DROP TABLE warehouse_location;
DROP TABLE cursor;
DROP TABLE timeline;
DROP TABLE wms_event;
DROP TABLE shipment;
DROP TABLE warehouse_order;
DROP TABLE shop_order;
DROP TABLE webhook_event;
