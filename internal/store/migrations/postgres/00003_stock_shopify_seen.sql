-- +goose Up
-- When the hub last learned what Shopify holds for a level (a read, a push,
-- or an inventory_levels/update webhook), so an older report never
-- overwrites a newer one.
ALTER TABLE stock_level ADD COLUMN shopify_seen_at TIMESTAMPTZ;

-- +goose Down
ALTER TABLE stock_level DROP COLUMN shopify_seen_at;
