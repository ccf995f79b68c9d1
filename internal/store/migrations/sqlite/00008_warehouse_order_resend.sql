-- +goose Up
-- A fulfillment order may have several warehouse orders over time: when an
-- edit cannot be carried by an amendment, the warehouse order is cancelled
-- and the edited order resent under a new external reference. Only one may
-- be live (not cancelled) at a time.
DROP INDEX warehouse_order_fo;
CREATE UNIQUE INDEX warehouse_order_fo ON warehouse_order (shop, fulfillment_order_id) WHERE cancelled_at IS NULL;

-- +goose Down
DROP INDEX warehouse_order_fo;
CREATE UNIQUE INDEX warehouse_order_fo ON warehouse_order (shop, fulfillment_order_id);
