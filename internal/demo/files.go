package demo

import (
	"crypto/rand"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/crossdock/crossdock/internal/config"
	"github.com/crossdock/crossdock/internal/dispatch"
	"github.com/crossdock/crossdock/internal/filedrop"
	"github.com/crossdock/crossdock/internal/order"
	"github.com/crossdock/crossdock/internal/shopifysim"
	"github.com/crossdock/crossdock/internal/wmssim/filesim"
)

// Warehouse protocols of the demo (SimOptions.Warehouses): the generic REST
// protocol, and CSV or X12 files over SFTP.
const (
	ProtocolREST = "rest"
	ProtocolCSV  = filesim.ProtocolCSV
	ProtocolEDI  = filesim.ProtocolEDI
)

// Demo SFTP login and X12 identifiers of the file warehouses (simulator
// only). Each SFTP server gets a random password at start: the in-process
// server does not confine a session to its directory.
const (
	SFTPUser     = "crossdock"
	HubX12ID     = "CROSSDOCK"
	PartnerX12ID = "DEMO3PL"
)

// File warehouses poll and publish fast so that the demo settles quickly.
const (
	filePollInterval  = 100 * time.Millisecond
	fileStockInterval = time.Second
)

var warehouseCities = []string{"Paris", "Lyon", "Newark", "Memphis", "Rotterdam", "Madrid"}

// ParseWarehouses reads the --warehouses list ("rest,csv,edi"): one
// warehouse per entry, in routing rank order.
func ParseWarehouses(s string) ([]string, error) {
	var out []string
	for _, p := range strings.Split(s, ",") {
		p = strings.ToLower(strings.TrimSpace(p))
		switch p {
		case ProtocolREST, ProtocolCSV, ProtocolEDI:
			out = append(out, p)
		case "":
		default:
			return nil, fmt.Errorf("demo: unknown warehouse protocol %q (want rest, csv or edi)", p)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("demo: --warehouses lists no warehouse")
	}
	if len(out) > len(warehouseCities) {
		return nil, fmt.Errorf("demo: at most %d warehouses", len(warehouseCities))
	}
	return out, nil
}

// warehousePlan returns the demo's warehouses without their simulators.
// Without SimOptions.Warehouses: Paris (the first three quarters of the
// catalogue) and Newark (all of it), both REST. With it, one warehouse per
// protocol, ranked in the order listed: two split as above; three or more
// share the catalogue in slices between all but the last, which stocks all
// of it, so that every warehouse receives orders (routing takes the first
// ranked warehouse that can ship every line).
func warehousePlan(opt SimOptions) ([]*Warehouse, error) {
	split := opt.SKUs * 3 / 4
	if len(opt.Warehouses) == 0 {
		return []*Warehouse{{ID: "paris", Name: "Paris", From: 0, To: split, Protocol: ProtocolREST},
			{ID: "newark", Name: "Newark", From: 0, To: opt.SKUs, Protocol: ProtocolREST}}, nil
	}
	n := len(opt.Warehouses)
	if n > len(warehouseCities) {
		return nil, fmt.Errorf("demo: at most %d warehouses", len(warehouseCities))
	}
	var ws []*Warehouse
	for i, p := range opt.Warehouses {
		switch p {
		case ProtocolREST, ProtocolCSV, ProtocolEDI:
		default:
			return nil, fmt.Errorf("demo: unknown warehouse protocol %q (want rest, csv or edi)", p)
		}
		city := warehouseCities[i]
		w := &Warehouse{ID: strings.ToLower(city) + "-" + p, Name: city + " " + strings.ToUpper(p), Protocol: p, From: 0, To: opt.SKUs}
		switch {
		case n == 2 && i == 0:
			w.To = split
		case n >= 3 && i < n-1:
			w.From, w.To = i*opt.SKUs/(n-1), (i+1)*opt.SKUs/(n-1)
		}
		ws = append(ws, w)
	}
	return ws, nil
}

// startFilePartner gives a CSV or EDI warehouse its SFTP server (in process,
// on 127.0.0.1, host key generated at start, rooted at a temporary
// directory) and its filesim.Partner, which works on that directory as the
// 3PL does on its own server. REST warehouses need nothing.
func (s *Sims) startFilePartner(w *Warehouse) error {
	if w.Protocol != ProtocolCSV && w.Protocol != ProtocolEDI {
		return nil
	}
	dir, err := os.MkdirTemp("", "crossdock-demo-"+w.ID+"-")
	if err != nil {
		return err
	}
	w.dir = dir
	srv, err := filesim.ServeSFTP("127.0.0.1:0", dir, SFTPUser, rand.Text())
	if err != nil {
		return err
	}
	w.SFTP = srv
	w.SFTPAddr = srv.Addr()
	local, err := filedrop.NewLocal(dir)
	if err != nil {
		return err
	}
	p, err := filesim.New(filesim.Config{
		Sim: w.Sim, Token: WMSToken, Drop: local, Protocol: w.Protocol,
		EDI:          filesim.EDIProfile{ID: PartnerX12ID, HubID: HubX12ID},
		PollInterval: filePollInterval, StockInterval: fileStockInterval,
		Annotate: s.annotate,
	})
	if err != nil {
		return err
	}
	w.Partner = p
	p.Start()
	return nil
}

// closeFilePartner stops what startFilePartner started.
func (w *Warehouse) closeFilePartner() {
	if w.Partner != nil {
		w.Partner.Close()
	}
	if w.SFTP != nil {
		_ = w.SFTP.Close()
	}
	if w.dir != "" {
		_ = os.RemoveAll(w.dir)
	}
}

// connectorConfig is the warehouse's connector block, exactly as a user
// would write it in YAML for that partner.
func (w *Warehouse) connectorConfig() config.Connector {
	switch w.Protocol {
	case ProtocolCSV, ProtocolEDI:
		m := map[string]any{
			"transport": "sftp", "address": w.SFTPAddr, "user": SFTPUser, "password": w.SFTP.Password(),
			"host_key": w.SFTP.HostKey(),
			"out":      filesim.DefaultInbox, "in": filesim.DefaultOutbox, "archive": "archive", "error": "error",
			"stable_after": "0s", // the partner writes tmp-then-rename
		}
		if w.Protocol == ProtocolEDI {
			m["profile"] = map[string]any{"sender_id": HubX12ID, "receiver_id": PartnerX12ID}
		}
		return config.Connector{Kind: w.Protocol, Settings: m}
	}
	return config.Connector{Kind: "rest", Settings: map[string]any{"base_url": w.URL, "token": WMSToken}}
}

// Endpoint is where the hub reaches the warehouse, for display.
func (w *Warehouse) Endpoint() string {
	if w.SFTPAddr != "" {
		return fmt.Sprintf("%s sftp://%s@%s", w.Protocol, SFTPUser, w.SFTPAddr)
	}
	return "rest " + w.URL
}

// annotate adds the Shopify ids to an order a file warehouse read; see
// AddShopifyIDs.
func (s *Sims) annotate(o *order.WarehouseOrder) { AddShopifyIDs(s.Shopify, o) }

// AddShopifyIDs adds the Shopify order and fulfillment order ids to an
// order a simulated file warehouse read (a 940 or a CSV order carries
// neither), from the Shopify simulator's state, so that reports and
// expectations join it like a REST order. The hub's external reference is
// "CD-" and the fulfillment order's number, "-R<n>" added for a resend
// after an edit.
func AddShopifyIDs(shop *shopifysim.Server, o *order.WarehouseOrder) {
	if o.OrderID != "" && o.FulfillmentOrderID != "" {
		return
	}
	base := o.ExternalRef
	if i := strings.LastIndex(base, "-R"); i > 0 {
		base = base[:i]
	}
	for _, so := range shop.Orders() {
		for _, fo := range so.FulfillmentOrders {
			if dispatch.ExternalRef(fo.ID) == base {
				if o.OrderID == "" {
					o.OrderID = so.ID
				}
				if o.FulfillmentOrderID == "" {
					o.FulfillmentOrderID = fo.ID
				}
				return
			}
		}
	}
}
