package shopify

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/order"
)

// Order is a Shopify order as the hub needs it, with all its fulfillment
// orders and all their lines.
type Order struct {
	// ID is the order's GID, e.g. "gid://shopify/Order/820982911946154508".
	ID string
	// LegacyID is the numeric id used by REST and webhook payloads.
	LegacyID int64
	// Name is the shop-facing order name, e.g. "#1001".
	Name  string
	Email string
	// CreatedAt and UpdatedAt are Shopify's timestamps; compare UpdatedAt
	// to discard stale webhook deliveries.
	CreatedAt time.Time
	UpdatedAt time.Time
	// CancelledAt is set once the order is cancelled.
	CancelledAt *time.Time
	// DisplayFulfillmentStatus is Shopify's OrderDisplayFulfillmentStatus,
	// e.g. "UNFULFILLED", "IN_PROGRESS", "FULFILLED".
	DisplayFulfillmentStatus string
	// ShippingAddress is the order's shipping address; its Email is the
	// order's email.
	ShippingAddress order.Address
	// ShippingMethod is the shipping line's title, ShippingCode its code
	// (often empty for manual rates).
	ShippingMethod string
	ShippingCode   string
	// FulfillmentOrders are all the order's fulfillment orders.
	FulfillmentOrders []FulfillmentOrder
}

// FulfillmentOrder is a group of order lines assigned to one location.
type FulfillmentOrder struct {
	// ID is the fulfillment order's GID.
	ID string
	// OrderID is the GID of the order it belongs to.
	OrderID string
	// Status is a FulfillmentOrderStatus: OPEN, IN_PROGRESS, SCHEDULED,
	// ON_HOLD, INCOMPLETE, CANCELLED, CLOSED.
	Status string
	// RequestStatus is a FulfillmentOrderRequestStatus: UNSUBMITTED,
	// SUBMITTED, ACCEPTED, REJECTED, CANCELLATION_*, CLOSED.
	RequestStatus string
	// UpdatedAt is when the fulfillment order last changed.
	UpdatedAt time.Time
	// LocationID is the GID of the assigned location.
	LocationID string
	// Destination is where the lines ship to. Shopify gives only a
	// "province" here; GetOrder replaces it by the shipping address's
	// province code when they name the same province.
	Destination order.Address
	// Lines are all the fulfillment order's lines.
	Lines []FulfillmentOrderLine
}

// FulfillmentOrderLine is one line of a fulfillment order.
type FulfillmentOrderLine struct {
	// ID is the fulfillment order line item's GID, which fulfillments
	// reference.
	ID  string
	SKU string
	// TotalQuantity is the line's quantity; RemainingQuantity what is left
	// to fulfil.
	TotalQuantity     int
	RemainingQuantity int
	// InventoryItemID and VariantID are GIDs; VariantID is empty when the
	// variant was deleted.
	InventoryItemID string
	VariantID       string
}

// Wire shapes of the GetOrder / GetFulfillmentOrder answers.
type (
	wireMailingAddress struct {
		Name          string `json:"name"`
		FirstName     string `json:"firstName"`
		LastName      string `json:"lastName"`
		Company       string `json:"company"`
		Address1      string `json:"address1"`
		Address2      string `json:"address2"`
		City          string `json:"city"`
		Province      string `json:"province"`
		ProvinceCode  string `json:"provinceCode"`
		Zip           string `json:"zip"`
		CountryCodeV2 string `json:"countryCodeV2"`
		Phone         string `json:"phone"`
	}
	wireDestination struct {
		FirstName   string `json:"firstName"`
		LastName    string `json:"lastName"`
		Company     string `json:"company"`
		Address1    string `json:"address1"`
		Address2    string `json:"address2"`
		City        string `json:"city"`
		Province    string `json:"province"`
		Zip         string `json:"zip"`
		CountryCode string `json:"countryCode"`
		Phone       string `json:"phone"`
		Email       string `json:"email"`
	}
	wireFOLine struct {
		ID                string  `json:"id"`
		SKU               string  `json:"sku"`
		TotalQuantity     int     `json:"totalQuantity"`
		RemainingQuantity int     `json:"remainingQuantity"`
		InventoryItemID   string  `json:"inventoryItemId"`
		Variant           *wireID `json:"variant"`
	}
	wireFulfillmentOrder struct {
		ID               string    `json:"id"`
		OrderID          string    `json:"orderId"`
		Status           string    `json:"status"`
		RequestStatus    string    `json:"requestStatus"`
		UpdatedAt        time.Time `json:"updatedAt"`
		AssignedLocation *struct {
			Location *wireID `json:"location"`
		} `json:"assignedLocation"`
		Destination *wireDestination `json:"destination"`
		LineItems   struct {
			Nodes    []wireFOLine `json:"nodes"`
			PageInfo pageInfo     `json:"pageInfo"`
		} `json:"lineItems"`
	}
	wireID struct {
		ID string `json:"id"`
	}
)

func (a wireMailingAddress) address(email string) order.Address {
	name := a.Name
	if name == "" {
		name = strings.TrimSpace(a.FirstName + " " + a.LastName)
	}
	prov := a.ProvinceCode
	if prov == "" {
		prov = a.Province
	}
	return order.Address{
		Name:         name,
		Company:      a.Company,
		Address1:     a.Address1,
		Address2:     a.Address2,
		City:         a.City,
		ProvinceCode: prov,
		PostalCode:   a.Zip,
		CountryCode:  a.CountryCodeV2,
		Phone:        a.Phone,
		Email:        email,
	}
}

func (d *wireDestination) address() order.Address {
	if d == nil {
		return order.Address{}
	}
	return order.Address{
		Name:         strings.TrimSpace(d.FirstName + " " + d.LastName),
		Company:      d.Company,
		Address1:     d.Address1,
		Address2:     d.Address2,
		City:         d.City,
		ProvinceCode: d.Province,
		PostalCode:   d.Zip,
		CountryCode:  d.CountryCode,
		Phone:        d.Phone,
		Email:        d.Email,
	}
}

func (w *wireFulfillmentOrder) fulfillmentOrder() FulfillmentOrder {
	fo := FulfillmentOrder{
		ID:            w.ID,
		OrderID:       w.OrderID,
		Status:        w.Status,
		RequestStatus: w.RequestStatus,
		UpdatedAt:     w.UpdatedAt,
		Destination:   w.Destination.address(),
	}
	if w.AssignedLocation != nil && w.AssignedLocation.Location != nil {
		fo.LocationID = w.AssignedLocation.Location.ID
	}
	fo.Lines = appendLines(make([]FulfillmentOrderLine, 0, len(w.LineItems.Nodes)), w.LineItems.Nodes)
	return fo
}

func appendLines(dst []FulfillmentOrderLine, src []wireFOLine) []FulfillmentOrderLine {
	for _, l := range src {
		line := FulfillmentOrderLine{
			ID:                l.ID,
			SKU:               l.SKU,
			TotalQuantity:     l.TotalQuantity,
			RemainingQuantity: l.RemainingQuantity,
			InventoryItemID:   l.InventoryItemID,
		}
		if l.Variant != nil {
			line.VariantID = l.Variant.ID
		}
		dst = append(dst, line)
	}
	return dst
}

// GetOrder reads the order with GID id, all its fulfillment orders and all
// their lines (further pages are read with more calls). A missing order is
// a permanent error wrapping ErrNotFound.
func (c *Client) GetOrder(ctx context.Context, id string) (*Order, error) {
	var o *Order
	var ship wireMailingAddress
	foAfter := ""
	type pending struct {
		idx    int
		cursor string
	}
	var more []pending
	for {
		var resp struct {
			Order *struct {
				ID                       string             `json:"id"`
				LegacyResourceID         unsignedInt64      `json:"legacyResourceId"`
				Name                     string             `json:"name"`
				Email                    string             `json:"email"`
				CreatedAt                time.Time          `json:"createdAt"`
				UpdatedAt                time.Time          `json:"updatedAt"`
				CancelledAt              *time.Time         `json:"cancelledAt"`
				DisplayFulfillmentStatus string             `json:"displayFulfillmentStatus"`
				ShippingAddress          wireMailingAddress `json:"shippingAddress"`
				ShippingLine             *struct {
					Title string `json:"title"`
					Code  string `json:"code"`
				} `json:"shippingLine"`
				FulfillmentOrders struct {
					Nodes    []wireFulfillmentOrder `json:"nodes"`
					PageInfo pageInfo               `json:"pageInfo"`
				} `json:"fulfillmentOrders"`
			} `json:"order"`
		}
		if err := c.Do(ctx, "GetOrder", map[string]any{"id": id, "fulfillmentOrdersAfter": nullable(foAfter)}, &resp); err != nil {
			return nil, err
		}
		w := resp.Order
		if w == nil {
			return nil, connector.Permanent(fmt.Errorf("%w: order %s", ErrNotFound, id))
		}
		if o == nil {
			ship = w.ShippingAddress
			o = &Order{
				ID:                       w.ID,
				LegacyID:                 int64(w.LegacyResourceID),
				Name:                     w.Name,
				Email:                    w.Email,
				CreatedAt:                w.CreatedAt,
				UpdatedAt:                w.UpdatedAt,
				CancelledAt:              w.CancelledAt,
				DisplayFulfillmentStatus: w.DisplayFulfillmentStatus,
				ShippingAddress:          w.ShippingAddress.address(w.Email),
			}
			if w.ShippingLine != nil {
				o.ShippingMethod = w.ShippingLine.Title
				o.ShippingCode = w.ShippingLine.Code
			}
		}
		for i := range w.FulfillmentOrders.Nodes {
			wfo := &w.FulfillmentOrders.Nodes[i]
			cur, err := wfo.LineItems.PageInfo.next("")
			if err != nil {
				return nil, fmt.Errorf("shopify GetOrder %s: lines of %s: %w", id, wfo.ID, err)
			}
			if cur != "" {
				more = append(more, pending{idx: len(o.FulfillmentOrders), cursor: cur})
			}
			o.FulfillmentOrders = append(o.FulfillmentOrders, wfo.fulfillmentOrder())
		}
		next, err := w.FulfillmentOrders.PageInfo.next(foAfter)
		if err != nil {
			return nil, fmt.Errorf("shopify GetOrder %s: %w", id, err)
		}
		if next == "" {
			break
		}
		foAfter = next
	}
	for _, p := range more {
		fo := &o.FulfillmentOrders[p.idx]
		lines, err := c.fulfillmentOrderLines(ctx, fo.ID, p.cursor)
		if err != nil {
			return nil, err
		}
		fo.Lines = append(fo.Lines, lines...)
	}
	for i := range o.FulfillmentOrders {
		resolveProvince(&o.FulfillmentOrders[i].Destination, ship)
	}
	return o, nil
}

// resolveProvince replaces a destination's province by the shipping
// address's province code when both name the same province.
func resolveProvince(dst *order.Address, ship wireMailingAddress) {
	if ship.ProvinceCode == "" || dst.ProvinceCode == "" {
		return
	}
	if strings.EqualFold(dst.ProvinceCode, ship.Province) || strings.EqualFold(dst.ProvinceCode, ship.ProvinceCode) {
		dst.ProvinceCode = ship.ProvinceCode
	}
}

// getFulfillmentOrder runs GetFulfillmentOrder for one page of lines.
func (c *Client) getFulfillmentOrder(ctx context.Context, id, linesAfter string) (*wireFulfillmentOrder, error) {
	var resp struct {
		FulfillmentOrder *wireFulfillmentOrder `json:"fulfillmentOrder"`
	}
	if err := c.Do(ctx, "GetFulfillmentOrder", map[string]any{"id": id, "lineItemsAfter": nullable(linesAfter)}, &resp); err != nil {
		return nil, err
	}
	if resp.FulfillmentOrder == nil {
		return nil, connector.Permanent(fmt.Errorf("%w: fulfillment order %s", ErrNotFound, id))
	}
	return resp.FulfillmentOrder, nil
}

// fulfillmentOrderLines reads the lines of fulfillment order id after
// cursor, to the end.
func (c *Client) fulfillmentOrderLines(ctx context.Context, id, after string) ([]FulfillmentOrderLine, error) {
	var lines []FulfillmentOrderLine
	for after != "" {
		w, err := c.getFulfillmentOrder(ctx, id, after)
		if err != nil {
			return nil, err
		}
		lines = appendLines(lines, w.LineItems.Nodes)
		if after, err = w.LineItems.PageInfo.next(after); err != nil {
			return nil, fmt.Errorf("shopify GetFulfillmentOrder %s: %w", id, err)
		}
	}
	return lines, nil
}

// GetFulfillmentOrder reads the fulfillment order with GID id and all its
// lines. Its Destination.ProvinceCode is Shopify's "province" as given. A
// missing fulfillment order is a permanent error wrapping ErrNotFound.
func (c *Client) GetFulfillmentOrder(ctx context.Context, id string) (*FulfillmentOrder, error) {
	w, err := c.getFulfillmentOrder(ctx, id, "")
	if err != nil {
		return nil, err
	}
	fo := w.fulfillmentOrder()
	cur, err := w.LineItems.PageInfo.next("")
	if err != nil {
		return nil, fmt.Errorf("shopify GetFulfillmentOrder %s: %w", id, err)
	}
	more, err := c.fulfillmentOrderLines(ctx, id, cur)
	if err != nil {
		return nil, err
	}
	fo.Lines = append(fo.Lines, more...)
	return &fo, nil
}

// OrderSummary is one order in an OrdersPage.
type OrderSummary struct {
	// ID is the order's GID.
	ID          string
	Name        string
	UpdatedAt   time.Time
	CancelledAt *time.Time
}

// OrdersPage is one page of OrdersUpdatedSince.
type OrdersPage struct {
	// Orders are sorted by UpdatedAt, oldest first.
	Orders []OrderSummary
	// EndCursor is passed as after to read the next page; it is "" when
	// this is the last page.
	EndCursor string
}

// ordersPageSize is the page size of OrdersUpdatedSince.
const ordersPageSize = 100

// OrdersUpdatedSince returns one page of the orders updated strictly after
// since (second precision, UTC), oldest first, starting after the cursor
// after ("" for the first page). Reconciliation jobs use it to catch
// webhooks that never arrived; pass a since with some overlap.
func (c *Client) OrdersUpdatedSince(ctx context.Context, since time.Time, after string) (OrdersPage, error) {
	var resp struct {
		Orders struct {
			Nodes []struct {
				ID          string     `json:"id"`
				Name        string     `json:"name"`
				UpdatedAt   time.Time  `json:"updatedAt"`
				CancelledAt *time.Time `json:"cancelledAt"`
			} `json:"nodes"`
			PageInfo pageInfo `json:"pageInfo"`
		} `json:"orders"`
	}
	vars := map[string]any{
		"first": ordersPageSize,
		"after": nullable(after),
		"query": UpdatedSinceQuery(since),
	}
	if err := c.Do(ctx, "OrdersUpdatedSince", vars, &resp); err != nil {
		return OrdersPage{}, err
	}
	var page OrdersPage
	for i, n := range resp.Orders.Nodes {
		if n.ID == "" { // found by FuzzDecodeGraphQLResponse
			return OrdersPage{}, connector.Permanent(fmt.Errorf("shopify OrdersUpdatedSince: order %d of the page has no id", i))
		}
		page.Orders = append(page.Orders, OrderSummary{ID: n.ID, Name: n.Name, UpdatedAt: n.UpdatedAt, CancelledAt: n.CancelledAt})
	}
	next, err := resp.Orders.PageInfo.next(after)
	if err != nil {
		return OrdersPage{}, fmt.Errorf("shopify OrdersUpdatedSince: %w", err)
	}
	page.EndCursor = next
	return page, nil
}

// UpdatedSinceQuery is the search query OrdersUpdatedSince sends:
// updated_at:>'2026-11-02T10:04:05Z'.
func UpdatedSinceQuery(since time.Time) string {
	return "updated_at:>'" + since.UTC().Truncate(time.Second).Format(time.RFC3339) + "'"
}
