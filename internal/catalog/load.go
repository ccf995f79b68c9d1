package catalog

import (
	"context"
	"fmt"
	"time"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/connector/shopify"
	"github.com/crossdock/crossdock/internal/store"
)

// ShopifyCatalog reads a shop's catalogue; *shopify.Client implements it
// (paginated CatalogVariants, paced by the client's throttle handling).
type ShopifyCatalog interface {
	Catalog(ctx context.Context, progress func(read int)) ([]shopify.CatalogVariant, error)
}

// BulkCatalog is a ShopifyCatalog that reads the catalogue with one bulk
// operation (shopify.Client.CatalogBulk) instead of pages: for large
// catalogues, since its cost does not grow with the number of variants.
type BulkCatalog struct {
	Client *shopify.Client
	// Poll is the first polling interval (shopify.DefaultBulkPoll when 0).
	Poll time.Duration
}

// Catalog implements ShopifyCatalog.
func (b BulkCatalog) Catalog(ctx context.Context, progress func(read int)) ([]shopify.CatalogVariant, error) {
	return b.Client.CatalogBulk(ctx, b.Poll, progress)
}

// MappingSource is the hub's mapping inventory item → SKU. StoreMapping
// reads the sku_mapping table; a versioned mapping table can replace it.
type MappingSource interface {
	// ItemSKUs returns, for shop, every mapped inventory item GID with the
	// SKUs it is mapped under.
	ItemSKUs(ctx context.Context, shop string) (map[string][]string, error)
}

// StoreMapping reads the mapping from the store's sku_mapping table.
type StoreMapping struct {
	// Q is the store's read pool or a transaction.
	Q store.Querier
}

// ItemSKUs implements MappingSource.
func (m StoreMapping) ItemSKUs(ctx context.Context, shop string) (map[string][]string, error) {
	rows, err := store.SKUMappings(ctx, m.Q, shop)
	if err != nil {
		return nil, fmt.Errorf("catalog: read sku_mapping of %s: %w", shop, err)
	}
	out := make(map[string][]string, len(rows))
	for sku, r := range rows {
		out[r.InventoryItemID] = append(out[r.InventoryItemID], sku)
	}
	return out, nil
}

// WarehouseSource is one warehouse to load: its connector and what it is
// expected to hold.
type WarehouseSource struct {
	// ID is the hub's warehouse id.
	ID string
	// WMS is the warehouse's connector; its item master is read when it
	// implements connector.ItemMaster.
	WMS connector.WMS
	// ExpectsAll, Expected and OwnsStock are copied to Warehouse.
	ExpectsAll bool
	Expected   []string
	OwnsStock  bool
}

// Progress reports a Loader's advance.
type Progress struct {
	// Step is "shopify", "warehouse" or "mapping".
	Step string
	// Warehouse is set for the "warehouse" step.
	Warehouse string
	// Done counts what the step has read so far (variants, items, mapped
	// items); Finished is true on the step's last report.
	Done     int
	Finished bool
}

// Loader gathers an audit's Input.
type Loader struct {
	// Shop is the shop domain.
	Shop string
	// Shopify reads the catalogue.
	Shopify ShopifyCatalog
	// Warehouses are the shop's warehouses.
	Warehouses []WarehouseSource
	// Mapping is the hub's mapping; nil leaves Input.Mapping nil (the
	// rename check is skipped and noted).
	Mapping MappingSource
	// Progress, if set, is called as each step advances.
	Progress func(Progress)
}

func (l *Loader) report(p Progress) {
	if l.Progress != nil {
		l.Progress(p)
	}
}

// Load reads the Shopify catalogue, every item master and the mapping. A
// failing Shopify or mapping read is an error naming its source. A
// connector without the ItemMaster capability, or whose item master cannot
// be read (Warehouse.ItemMasterError), leaves HasItemMaster false: the
// audit still runs and its report is marked incomplete.
func (l *Loader) Load(ctx context.Context) (Input, error) {
	in := Input{Shop: l.Shop}
	cat, err := l.Shopify.Catalog(ctx, func(n int) { l.report(Progress{Step: "shopify", Done: n}) })
	if err != nil {
		return Input{}, fmt.Errorf("catalog: read the Shopify catalogue of %s: %w", l.Shop, err)
	}
	l.report(Progress{Step: "shopify", Done: len(cat), Finished: true})
	in.Variants = make([]Variant, len(cat))
	for i, v := range cat {
		in.Variants[i] = Variant{ID: v.ID, SKU: v.SKU, Barcode: v.Barcode, Title: v.Title, ProductTitle: v.ProductTitle,
			ProductStatus: v.ProductStatus, InventoryItemID: v.InventoryItemID, Tracked: v.Tracked}
	}
	for _, ws := range l.Warehouses {
		w := Warehouse{ID: ws.ID, ExpectsAll: ws.ExpectsAll, Expected: ws.Expected, OwnsStock: ws.OwnsStock}
		if im, ok := ws.WMS.(connector.ItemMaster); ok {
			items, err := im.Items(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return Input{}, fmt.Errorf("catalog: read the item master of warehouse %s: %w", ws.ID, err)
				}
				w.ItemMasterError = err.Error()
			} else {
				w.HasItemMaster, w.Items = true, items
			}
			l.report(Progress{Step: "warehouse", Warehouse: ws.ID, Done: len(items), Finished: true})
		}
		in.Warehouses = append(in.Warehouses, w)
	}
	if l.Mapping != nil {
		m, err := l.Mapping.ItemSKUs(ctx, l.Shop)
		if err != nil {
			return Input{}, err
		}
		in.Mapping = m
		l.report(Progress{Step: "mapping", Done: len(m), Finished: true})
	}
	return in, nil
}
