// Package tenant holds the hub's tenants at run time: each Shopify shop with
// its API client and webhook secrets, and the warehouses that serve it with
// their connectors and Shopify locations. Every stored record carries its
// shop; the registry is how a job finds the shop's clients.
package tenant

import (
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"time"

	"github.com/crossdock/crossdock/internal/config"
	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/connector/shopify"
)

// Warehouse is one warehouse of a shop.
type Warehouse struct {
	ID   string
	Name string
	Rank int
	// LocationID is the Shopify location GID of the warehouse's fulfillment
	// service; set from configuration or registered at start.
	LocationID   string
	WMS          connector.WMS
	Kind         string
	PollInterval time.Duration
}

// Shop is one tenant.
type Shop struct {
	Domain     string
	Shopify    *shopify.Client
	Secrets    []string
	Warehouses []*Warehouse // in rank order
	Config     config.Shop
}

// Warehouse returns the shop's warehouse with id.
func (s *Shop) Warehouse(id string) (*Warehouse, bool) {
	for _, w := range s.Warehouses {
		if w.ID == id {
			return w, true
		}
	}
	return nil, false
}

// WarehouseAt returns the warehouse whose Shopify location is locationID.
func (s *Shop) WarehouseAt(locationID string) (*Warehouse, bool) {
	for _, w := range s.Warehouses {
		if w.LocationID != "" && w.LocationID == locationID {
			return w, true
		}
	}
	return nil, false
}

// Registry is the set of tenants.
type Registry struct {
	shops map[string]*Shop
	order []string
}

// Options tune how clients are built.
type Options struct {
	HTTPClient *http.Client
	Logger     *slog.Logger
}

// New builds the registry from configuration, constructing each warehouse's
// connector from the connector registry.
func New(cfg *config.Config, opt Options) (*Registry, error) {
	r := &Registry{shops: map[string]*Shop{}}
	for _, sc := range cfg.Shops {
		s := &Shop{
			Domain:  sc.Domain,
			Secrets: []string{sc.WebhookSecret, sc.PreviousWebhookSecret},
			Config:  sc,
			Shopify: shopify.NewClient(shopify.ClientConfig{BaseURL: sc.APIURL, AccessToken: sc.AccessToken, HTTPClient: opt.HTTPClient, Logger: opt.Logger}),
		}
		for _, wc := range sc.Warehouses {
			info, ok := connector.Lookup(wc.Connector.Kind)
			if !ok {
				return nil, fmt.Errorf("shop %s warehouse %s: unknown connector kind %q (known: %v)", sc.Domain, wc.ID, wc.Connector.Kind, connector.Kinds())
			}
			wms, err := info.New(wc.Connector.Settings)
			if err != nil {
				return nil, fmt.Errorf("shop %s warehouse %s: %w", sc.Domain, wc.ID, err)
			}
			s.Warehouses = append(s.Warehouses, &Warehouse{
				ID: wc.ID, Name: wc.Name, Rank: wc.Rank, LocationID: wc.LocationID, WMS: wms, Kind: wc.Connector.Kind,
				PollInterval: wc.PollInterval.Std(time.Second),
			})
		}
		sort.SliceStable(s.Warehouses, func(i, j int) bool { return s.Warehouses[i].Rank < s.Warehouses[j].Rank })
		r.shops[s.Domain] = s
		r.order = append(r.order, s.Domain)
	}
	return r, nil
}

// Shop returns the tenant for a shop domain.
func (r *Registry) Shop(domain string) (*Shop, bool) {
	s, ok := r.shops[domain]
	return s, ok
}

// Shops returns every tenant in configuration order.
func (r *Registry) Shops() []*Shop {
	out := make([]*Shop, 0, len(r.order))
	for _, d := range r.order {
		out = append(out, r.shops[d])
	}
	return out
}
