-- +goose Up
-- Returns: a Shopify return the hub announced (or could not announce) to
-- the warehouse that shipped it, and each receipt a warehouse reported
-- (return_received event), with the lines and their condition. A receipt is
-- applied (dispositions in Shopify, timeline, incident) once: applied_at.
CREATE TABLE shop_return (
    shop        TEXT NOT NULL,
    return_id   TEXT NOT NULL,              -- Shopify Return GID: the idempotency key
    order_id    TEXT NOT NULL,
    state       TEXT NOT NULL,              -- expected, notified, unsupported, not_open, closed
    detail      TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (shop, return_id)
);
CREATE INDEX shop_return_order ON shop_return (shop, order_id);

CREATE TABLE return_receipt (
    shop        TEXT NOT NULL,
    warehouse   TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    return_id   TEXT NOT NULL,
    order_id    TEXT NOT NULL,
    lines       TEXT NOT NULL,              -- JSON [{sku, quantity, condition}] in SKUs and Shopify units
    received_at TIMESTAMP NOT NULL,
    applied_at  TIMESTAMP,
    PRIMARY KEY (shop, warehouse, event_id)
);
CREATE INDEX return_receipt_return ON return_receipt (shop, return_id);

-- +goose Down
DROP TABLE return_receipt;
DROP TABLE shop_return;
