-- +goose Up
-- The lines of warehouse orders, for in-flight stock sums without decoding
-- every order's payload.
CREATE TABLE warehouse_order_line (
    shop          TEXT NOT NULL,
    external_ref  TEXT NOT NULL,
    warehouse     TEXT NOT NULL,
    line_no       INTEGER NOT NULL,
    sku           TEXT NOT NULL,
    quantity      INTEGER NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (shop, external_ref, line_no)
);
CREATE INDEX warehouse_order_line_sku ON warehouse_order_line (shop, warehouse, sku, created_at);

-- +goose Down
DROP TABLE warehouse_order_line;
