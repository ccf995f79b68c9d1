package shopify

import (
	"context"
	"fmt"
	"strings"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/order"
)

// TopicEnum converts a webhook topic from its REST form ("orders/create")
// to the GraphQL WebhookSubscriptionTopic value ("ORDERS_CREATE"). A value
// already in enum form is returned unchanged.
func TopicEnum(topic string) string {
	return strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(topic), "/", "_"))
}

// webhooksPageSize is the page size when listing subscriptions.
const webhooksPageSize = 100

// WebhookSubscription is one of the app's webhook subscriptions.
type WebhookSubscription struct {
	// ID is the subscription's GID.
	ID string
	// Topic is the WebhookSubscriptionTopic, e.g. "ORDERS_CREATE".
	Topic string
	// URI is where Shopify delivers.
	URI string
}

// WebhookSubscriptions lists all the app's webhook subscriptions.
func (c *Client) WebhookSubscriptions(ctx context.Context) ([]WebhookSubscription, error) {
	var out []WebhookSubscription
	after := ""
	for {
		var resp struct {
			WebhookSubscriptions struct {
				Nodes []struct {
					ID    string `json:"id"`
					Topic string `json:"topic"`
					URI   string `json:"uri"`
				} `json:"nodes"`
				PageInfo pageInfo `json:"pageInfo"`
			} `json:"webhookSubscriptions"`
		}
		if err := c.Do(ctx, "WebhookSubscriptions", map[string]any{"first": webhooksPageSize, "after": nullable(after)}, &resp); err != nil {
			return nil, err
		}
		for _, n := range resp.WebhookSubscriptions.Nodes {
			out = append(out, WebhookSubscription{ID: n.ID, Topic: n.Topic, URI: n.URI})
		}
		next, err := resp.WebhookSubscriptions.PageInfo.next(after)
		if err != nil {
			return nil, fmt.Errorf("shopify WebhookSubscriptions: %w", err)
		}
		if next == "" {
			return out, nil
		}
		after = next
	}
}

// EnsureWebhooks subscribes uri to each of topics (REST "orders/create" or
// enum "ORDERS_CREATE" form) that has no subscription to uri yet, in JSON
// format, and returns the enum topics it created. Running it again creates
// nothing.
func (c *Client) EnsureWebhooks(ctx context.Context, uri string, topics []string) ([]string, error) {
	subs, err := c.WebhookSubscriptions(ctx)
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	for _, s := range subs {
		if s.URI == uri {
			have[s.Topic] = true
		}
	}
	var created []string
	for _, t := range topics {
		t = TopicEnum(t)
		if have[t] {
			continue
		}
		var resp struct {
			P struct {
				Sub *wireID `json:"webhookSubscription"`
			} `json:"webhookSubscriptionCreate"`
		}
		vars := map[string]any{"topic": t, "webhookSubscription": map[string]any{"uri": uri, "format": "JSON"}}
		if err := c.Do(ctx, "WebhookSubscriptionCreate", vars, &resp); err != nil {
			return created, err
		}
		have[t] = true
		created = append(created, t)
	}
	return created, nil
}

// CreateFulfillmentService registers a fulfillment service named name
// (callbackURL may be "") without inventory management or tracking
// support (the hub pushes both), and returns its GID and the GID of the
// location Shopify created for it.
func (c *Client) CreateFulfillmentService(ctx context.Context, name, callbackURL string) (serviceID, locationID string, err error) {
	var resp struct {
		P struct {
			Service *struct {
				ID       string  `json:"id"`
				Location *wireID `json:"location"`
			} `json:"fulfillmentService"`
		} `json:"fulfillmentServiceCreate"`
	}
	vars := map[string]any{
		"name":                name,
		"callbackUrl":         nullable(callbackURL),
		"inventoryManagement": false,
		"trackingSupport":     false,
	}
	if err := c.Do(ctx, "FulfillmentServiceCreate", vars, &resp); err != nil {
		return "", "", err
	}
	s := resp.P.Service
	if s == nil {
		return "", "", connector.Permanent(fmt.Errorf("shopify FulfillmentServiceCreate %q: no fulfillment service in the answer", name))
	}
	if s.Location != nil {
		locationID = s.Location.ID
	}
	return s.ID, locationID, nil
}

// OrderLineInput is one line of an order to create.
type OrderLineInput struct {
	// VariantID is the variant's GID.
	VariantID string
	Quantity  int
}

// OrderInput is an order to create (demos and tests).
type OrderInput struct {
	Email string
	Lines []OrderLineInput
	// ShippingAddress's Name is split at its last space into first and
	// last name; its Email is not sent.
	ShippingAddress order.Address
	// InventoryBehaviour is an OrderCreateInputsInventoryBehavior: "BYPASS"
	// (Shopify's default when ""), "DECREMENT_IGNORING_POLICY" or
	// "DECREMENT_OBEYING_POLICY".
	InventoryBehaviour string
}

// CreateOrder creates an order and returns its GID and name.
func (c *Client) CreateOrder(ctx context.Context, in OrderInput) (id, name string, err error) {
	lines := make([]map[string]any, len(in.Lines))
	for i, l := range in.Lines {
		lines[i] = map[string]any{"variantId": l.VariantID, "quantity": l.Quantity}
	}
	o := map[string]any{"lineItems": lines}
	if in.Email != "" {
		o["email"] = in.Email
	}
	if in.ShippingAddress != (order.Address{}) {
		o["shippingAddress"] = mailingAddressInput(in.ShippingAddress)
	}
	vars := map[string]any{"order": o}
	if in.InventoryBehaviour != "" {
		vars["options"] = map[string]any{"inventoryBehaviour": in.InventoryBehaviour}
	}
	var resp struct {
		P struct {
			Order *struct {
				ID   string `json:"id"`
				Name string `json:"name"`
			} `json:"order"`
		} `json:"orderCreate"`
	}
	if err := c.Do(ctx, "OrderCreate", vars, &resp); err != nil {
		return "", "", err
	}
	if resp.P.Order == nil {
		return "", "", connector.Permanent(fmt.Errorf("shopify OrderCreate: no order in the answer"))
	}
	return resp.P.Order.ID, resp.P.Order.Name, nil
}

// mailingAddressInput maps an address to MailingAddressInput, omitting
// empty fields.
func mailingAddressInput(a order.Address) map[string]any {
	m := map[string]any{}
	set := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	first, last := "", strings.TrimSpace(a.Name)
	if i := strings.LastIndex(last, " "); i > 0 {
		first, last = strings.TrimSpace(last[:i]), last[i+1:]
	}
	set("firstName", first)
	set("lastName", last)
	set("company", a.Company)
	set("address1", a.Address1)
	set("address2", a.Address2)
	set("city", a.City)
	set("provinceCode", a.ProvinceCode)
	set("zip", a.PostalCode)
	set("countryCode", strings.ToUpper(a.CountryCode))
	set("phone", a.Phone)
	return m
}

// Location is a shop location.
type Location struct {
	// ID is the location's GID.
	ID   string
	Name string
	// IsActive is false for deactivated locations (not listed by
	// Locations).
	IsActive bool
	// IsFulfillmentService is true for a fulfillment service's location.
	IsFulfillmentService bool
}

// locationsPageSize is the page size of Locations.
const locationsPageSize = 100

// Locations returns the shop's active locations, reading every page.
func (c *Client) Locations(ctx context.Context) ([]Location, error) {
	var out []Location
	after := ""
	for {
		var resp struct {
			Locations struct {
				Nodes []struct {
					ID                   string `json:"id"`
					Name                 string `json:"name"`
					IsActive             bool   `json:"isActive"`
					IsFulfillmentService bool   `json:"isFulfillmentService"`
				} `json:"nodes"`
				PageInfo pageInfo `json:"pageInfo"`
			} `json:"locations"`
		}
		if err := c.Do(ctx, "Locations", map[string]any{"first": locationsPageSize, "after": nullable(after)}, &resp); err != nil {
			return nil, err
		}
		for _, n := range resp.Locations.Nodes {
			out = append(out, Location{ID: n.ID, Name: n.Name, IsActive: n.IsActive, IsFulfillmentService: n.IsFulfillmentService})
		}
		next, err := resp.Locations.PageInfo.next(after)
		if err != nil {
			return nil, fmt.Errorf("shopify Locations: %w", err)
		}
		if next == "" {
			return out, nil
		}
		after = next
	}
}
