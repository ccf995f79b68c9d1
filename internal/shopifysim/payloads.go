package shopifysim

import (
	"strings"
	"time"
)

// REST-style webhook payloads, shaped like Shopify's documented examples
// (webhooks/2026-07/examples). Integer ids are int64 JSON integers.

func restTime(t time.Time) string { return t.Format("2006-01-02T15:04:05-07:00") }

func restTimePtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := restTime(*t)
	return &s
}

func sp(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

type restMoney struct {
	Amount       string `json:"amount"`
	CurrencyCode string `json:"currency_code"`
}

type restMoneySet struct {
	ShopMoney        restMoney `json:"shop_money"`
	PresentmentMoney restMoney `json:"presentment_money"`
}

func moneySet(c int64, cur string) restMoneySet {
	m := restMoney{Amount: formatCents(c), CurrencyCode: cur}
	return restMoneySet{ShopMoney: m, PresentmentMoney: m}
}

type restAddress struct {
	FirstName    *string  `json:"first_name"`
	Address1     *string  `json:"address1"`
	Phone        *string  `json:"phone"`
	City         *string  `json:"city"`
	Zip          *string  `json:"zip"`
	Province     *string  `json:"province"`
	Country      *string  `json:"country"`
	LastName     *string  `json:"last_name"`
	Address2     *string  `json:"address2"`
	Company      *string  `json:"company"`
	Latitude     *float64 `json:"latitude"`
	Longitude    *float64 `json:"longitude"`
	Name         *string  `json:"name"`
	CountryCode  *string  `json:"country_code"`
	ProvinceCode *string  `json:"province_code"`
}

func restAddr(a *address) *restAddress {
	if a == nil {
		return nil
	}
	return &restAddress{
		FirstName: sp(a.firstName), Address1: sp(a.address1), Phone: sp(a.phone), City: sp(a.city), Zip: sp(a.zip),
		Province: sp(a.province), Country: sp(a.country), LastName: sp(a.lastName), Address2: sp(a.address2),
		Company: sp(a.company), Name: sp(a.name()), CountryCode: sp(a.countryCode), ProvinceCode: sp(a.provinceCode),
	}
}

type restLineItem struct {
	ID                         int64        `json:"id"`
	AdminGraphQLAPIID          string       `json:"admin_graphql_api_id"`
	CurrentQuantity            int          `json:"current_quantity"`
	FulfillableQuantity        int          `json:"fulfillable_quantity"`
	FulfillmentService         string       `json:"fulfillment_service"`
	FulfillmentStatus          *string      `json:"fulfillment_status"`
	GiftCard                   bool         `json:"gift_card"`
	Grams                      int          `json:"grams"`
	Name                       string       `json:"name"`
	Price                      string       `json:"price"`
	PriceSet                   restMoneySet `json:"price_set"`
	ProductExists              bool         `json:"product_exists"`
	ProductID                  *int64       `json:"product_id"`
	Properties                 []any        `json:"properties"`
	Quantity                   int          `json:"quantity"`
	RequiresShipping           bool         `json:"requires_shipping"`
	SKU                        *string      `json:"sku"`
	Taxable                    bool         `json:"taxable"`
	Title                      string       `json:"title"`
	TotalDiscount              string       `json:"total_discount"`
	VariantID                  *int64       `json:"variant_id"`
	VariantInventoryManagement *string      `json:"variant_inventory_management"`
	VariantTitle               *string      `json:"variant_title"`
	Vendor                     *string      `json:"vendor"`
	TaxLines                   []any        `json:"tax_lines"`
	Duties                     []any        `json:"duties"`
	DiscountAllocations        []any        `json:"discount_allocations"`
}

// restLine renders li; qty overrides the quantity (fulfillment payloads).
func (x *execCtx) restLine(li *lineItem, qty int) restLineItem {
	r := restLineItem{
		ID: li.id, AdminGraphQLAPIID: gid("LineItem", li.id), CurrentQuantity: li.quantity,
		FulfillableQuantity: li.quantity - li.fulfilled, FulfillmentService: "manual", Name: li.name(),
		Price: formatCents(cents(li.price)), PriceSet: moneySet(cents(li.price), li.order.currency),
		Properties: []any{}, Quantity: qty, RequiresShipping: li.requiresShipping, SKU: sp(li.sku), Taxable: true,
		Title: li.title, TotalDiscount: "0.00", VariantTitle: sp(li.variantTitle), Vendor: sp(li.vendor),
		TaxLines: []any{}, Duties: []any{}, DiscountAllocations: []any{},
	}
	switch {
	case li.fulfilled >= li.quantity:
		r.FulfillmentStatus = sp("fulfilled")
	case li.fulfilled > 0:
		r.FulfillmentStatus = sp("partial")
	}
	if v := li.variant; v != nil {
		vid, pid := v.id, v.product.id
		r.VariantID, r.ProductID, r.ProductExists = &vid, &pid, true
		if v.item.tracked {
			r.VariantInventoryManagement = sp("shopify")
		}
	}
	for _, fo := range li.order.fos {
		if fo.loc.service != nil {
			for _, l := range fo.lines {
				if l.li == li {
					r.FulfillmentService = fo.loc.service.handle
				}
			}
		}
	}
	return r
}

type restShippingLine struct {
	ID                  int64        `json:"id"`
	CarrierIdentifier   *string      `json:"carrier_identifier"`
	Code                *string      `json:"code"`
	DiscountedPrice     string       `json:"discounted_price"`
	DiscountedPriceSet  restMoneySet `json:"discounted_price_set"`
	IsRemoved           bool         `json:"is_removed"`
	Phone               *string      `json:"phone"`
	Price               string       `json:"price"`
	PriceSet            restMoneySet `json:"price_set"`
	Source              *string      `json:"source"`
	Title               string       `json:"title"`
	TaxLines            []any        `json:"tax_lines"`
	DiscountAllocations []any        `json:"discount_allocations"`
}

type restFulfillment struct {
	ID                int64          `json:"id"`
	AdminGraphQLAPIID string         `json:"admin_graphql_api_id"`
	OrderID           int64          `json:"order_id"`
	Status            string         `json:"status"`
	CreatedAt         string         `json:"created_at"`
	Service           *string        `json:"service"`
	UpdatedAt         string         `json:"updated_at"`
	TrackingCompany   *string        `json:"tracking_company"`
	ShipmentStatus    *string        `json:"shipment_status"`
	LocationID        *int64         `json:"location_id"`
	OriginAddress     any            `json:"origin_address"`
	Email             *string        `json:"email"`
	Destination       *restAddress   `json:"destination"`
	LineItems         []restLineItem `json:"line_items"`
	TrackingNumber    *string        `json:"tracking_number"`
	TrackingNumbers   []string       `json:"tracking_numbers"`
	TrackingURL       *string        `json:"tracking_url"`
	TrackingURLs      []string       `json:"tracking_urls"`
	Receipt           map[string]any `json:"receipt"`
	Name              string         `json:"name"`
}

func (x *execCtx) fulfillmentPayload(f *fulfillment) restFulfillment {
	o := f.order
	r := restFulfillment{
		ID: f.id, AdminGraphQLAPIID: gid("Fulfillment", f.id), OrderID: o.id, Status: strings.ToLower(f.status),
		CreatedAt: restTime(f.createdAt), UpdatedAt: restTime(f.updatedAt), Email: sp(o.email),
		Destination: restAddr(o.shipping), TrackingNumbers: []string{}, TrackingURLs: []string{},
		Receipt: map[string]any{}, Name: f.name, Service: sp("manual"),
	}
	if f.loc != nil {
		id := f.loc.id
		r.LocationID = &id
		if f.loc.service != nil {
			r.Service = sp(f.loc.service.handle)
		}
	}
	for _, t := range f.tracking {
		if r.TrackingCompany == nil {
			r.TrackingCompany = sp(t.company)
		}
		if t.number != "" {
			r.TrackingNumbers = append(r.TrackingNumbers, t.number)
		}
		if t.url != "" {
			r.TrackingURLs = append(r.TrackingURLs, t.url)
		}
	}
	if len(r.TrackingNumbers) > 0 {
		r.TrackingNumber = &r.TrackingNumbers[0]
	}
	if len(r.TrackingURLs) > 0 {
		r.TrackingURL = &r.TrackingURLs[0]
	}
	r.LineItems = make([]restLineItem, 0, len(f.lines))
	for _, l := range f.lines {
		r.LineItems = append(r.LineItems, x.restLine(l.li, l.quantity))
	}
	return r
}

type restOrder struct {
	ID                    int64              `json:"id"`
	AdminGraphQLAPIID     string             `json:"admin_graphql_api_id"`
	AppID                 *int64             `json:"app_id"`
	BuyerAcceptsMarketing bool               `json:"buyer_accepts_marketing"`
	CancelReason          *string            `json:"cancel_reason"`
	CancelledAt           *string            `json:"cancelled_at"`
	ClosedAt              *string            `json:"closed_at"`
	Confirmed             bool               `json:"confirmed"`
	ContactEmail          *string            `json:"contact_email"`
	CreatedAt             string             `json:"created_at"`
	Currency              string             `json:"currency"`
	CurrentSubtotalPrice  string             `json:"current_subtotal_price"`
	CurrentTotalPrice     string             `json:"current_total_price"`
	Email                 *string            `json:"email"`
	FinancialStatus       string             `json:"financial_status"`
	FulfillmentStatus     *string            `json:"fulfillment_status"`
	Name                  string             `json:"name"`
	Note                  *string            `json:"note"`
	Number                int                `json:"number"`
	OrderNumber           int                `json:"order_number"`
	Phone                 *string            `json:"phone"`
	PresentmentCurrency   string             `json:"presentment_currency"`
	ProcessedAt           string             `json:"processed_at"`
	SourceName            string             `json:"source_name"`
	SubtotalPrice         string             `json:"subtotal_price"`
	Tags                  string             `json:"tags"`
	Test                  bool               `json:"test"`
	TotalPrice            string             `json:"total_price"`
	TotalPriceSet         restMoneySet       `json:"total_price_set"`
	TotalWeight           int                `json:"total_weight"`
	UpdatedAt             string             `json:"updated_at"`
	BillingAddress        *restAddress       `json:"billing_address"`
	Customer              any                `json:"customer"`
	Fulfillments          []restFulfillment  `json:"fulfillments"`
	LineItems             []restLineItem     `json:"line_items"`
	Refunds               []any              `json:"refunds"`
	ShippingAddress       *restAddress       `json:"shipping_address"`
	ShippingLines         []restShippingLine `json:"shipping_lines"`
}

func (x *execCtx) orderPayload(o *order) restOrder {
	sub, total := o.totals()
	r := restOrder{
		ID: o.id, AdminGraphQLAPIID: gid("Order", o.id), CancelledAt: restTimePtr(o.cancelledAt),
		ClosedAt: restTimePtr(o.closedAt), Confirmed: true, ContactEmail: sp(o.email), CreatedAt: restTime(o.createdAt),
		Currency: o.currency, CurrentSubtotalPrice: formatCents(sub), CurrentTotalPrice: formatCents(total),
		Email: sp(o.email), FinancialStatus: o.financialStatus, Name: o.name, Note: sp(o.note),
		Number: o.number - 1000, OrderNumber: o.number, Phone: sp(o.phone), PresentmentCurrency: o.currency,
		ProcessedAt: restTime(o.processedAt), SourceName: o.sourceName, SubtotalPrice: formatCents(sub),
		Tags: strings.Join(o.tags, ", "), Test: o.test, TotalPrice: formatCents(total), TotalPriceSet: moneySet(total, o.currency),
		UpdatedAt: restTime(o.updatedAt), BillingAddress: restAddr(o.billing), Refunds: []any{},
		ShippingAddress: restAddr(o.shipping), Fulfillments: []restFulfillment{}, ShippingLines: []restShippingLine{},
	}
	if o.cancelledAt != nil {
		r.CancelReason = sp("other")
	}
	switch o.fulfillmentStatus() {
	case "FULFILLED":
		r.FulfillmentStatus = sp("fulfilled")
	case "PARTIALLY_FULFILLED":
		r.FulfillmentStatus = sp("partial")
	}
	r.LineItems = make([]restLineItem, 0, len(o.lines))
	for _, li := range o.lines {
		r.LineItems = append(r.LineItems, x.restLine(li, li.quantity))
	}
	for _, f := range o.fulfillments {
		r.Fulfillments = append(r.Fulfillments, x.fulfillmentPayload(f))
	}
	if sl := o.shippingLine; sl != nil {
		c := cents(sl.amount)
		r.ShippingLines = append(r.ShippingLines, restShippingLine{
			ID: sl.id, Code: sp(sl.code), DiscountedPrice: formatCents(c), DiscountedPriceSet: moneySet(c, o.currency),
			Price: formatCents(c), PriceSet: moneySet(c, o.currency), Source: sp(sl.source), Title: sl.title,
			TaxLines: []any{}, DiscountAllocations: []any{},
		})
	}
	return r
}
