// Package restwms is the connector for warehouses that implement crossdock's
// generic REST/JSON WMS protocol (api/wms-openapi.yaml). It registers the
// connector kind "rest".
//
// Configuration keys (strict; any other key is an error):
//
//	base_url  required, e.g. https://wms.example.com (a path prefix is kept)
//	token     bearer token sent as "Authorization: Bearer <token>"
//	timeout   per-call timeout as a Go duration string, default "10s"
//
// Error classes: 400, 401, 403, 404, 409, 422 and other 4xx answers are
// connector.Permanent; 429 and 503 with a Retry-After header are
// connector.RetryAfter; other 5xx answers, 408, 425, 429 or 503 without
// Retry-After, timeouts and connection errors are plain (transient) errors.
// Every error from a WMS answer wraps an *HTTPError.
package restwms

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/order"
)

// Kind is the connector kind registered by this package.
const Kind = "rest"

// DefaultTimeout is the per-call timeout when none is configured.
const DefaultTimeout = 10 * time.Second

const maxResponse = 16 << 20

func init() {
	connector.Register(connector.Info{
		Kind:    Kind,
		Summary: "crossdock's generic REST/JSON WMS protocol (api/wms-openapi.yaml)",
		New: func(cfg map[string]any) (connector.WMS, error) {
			c, err := NewFromMap(cfg)
			if err != nil {
				return nil, err
			}
			return c, nil
		},
	})
}

// Config configures a Client.
type Config struct {
	// BaseURL is the warehouse's API root; paths such as /v1/orders are
	// appended to it.
	BaseURL string
	// Token is the bearer token; empty sends no Authorization header.
	Token string
	// Timeout bounds each call; zero means DefaultTimeout.
	Timeout time.Duration
	// HTTPClient sends the requests; nil means a new client with default
	// transport.
	HTTPClient *http.Client
}

// Client implements connector.WMS over the REST protocol.
type Client struct {
	base    string
	token   string
	timeout time.Duration
	hc      *http.Client
}

var _ connector.WMS = (*Client)(nil)

// New returns a client for cfg.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(cfg.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("restwms: base_url: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("restwms: base_url %q must be an http or https URL without query", cfg.BaseURL)
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("restwms: negative timeout %s", cfg.Timeout)
	}
	c := &Client{base: strings.TrimRight(u.String(), "/"), token: cfg.Token, timeout: cfg.Timeout, hc: cfg.HTTPClient}
	if c.timeout == 0 {
		c.timeout = DefaultTimeout
	}
	if c.hc == nil {
		c.hc = &http.Client{}
	}
	return c, nil
}

// NewFromMap returns a client from a decoded configuration block with the
// keys base_url, token and timeout.
func NewFromMap(m map[string]any) (*Client, error) {
	var cfg Config
	var unknown []string
	for k, v := range m {
		switch k {
		case "base_url", "token":
			s, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("restwms: %s must be a string, not %T", k, v)
			}
			if k == "base_url" {
				cfg.BaseURL = s
			} else {
				cfg.Token = s
			}
		case "timeout":
			d, err := connector.SettingDuration("restwms", k, v)
			if err != nil {
				return nil, err
			}
			cfg.Timeout = d
		default:
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return nil, fmt.Errorf("restwms: unknown configuration keys: %s", strings.Join(unknown, ", "))
	}
	if cfg.BaseURL == "" {
		return nil, errors.New("restwms: base_url is required")
	}
	return New(cfg)
}

// HTTPError is an error answer from the warehouse.
type HTTPError struct {
	StatusCode int
	// Code, Message and Field come from the {"error": {...}} body when the
	// warehouse sent one; otherwise Message holds the start of the body.
	Code    string
	Message string
	Field   string
}

// Error implements error: "HTTP <status> <code>: <message> (field <field>)".
func (e *HTTPError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "HTTP %d", e.StatusCode)
	if e.Code != "" {
		fmt.Fprintf(&b, " %s", e.Code)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, " (field %s)", e.Field)
	}
	return b.String()
}

// classify turns an error answer into the connector's error classes.
func classify(resp *http.Response, body []byte) error {
	he := &HTTPError{StatusCode: resp.StatusCode}
	var eb struct {
		Error *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
			Field   string `json:"field"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &eb) == nil && eb.Error != nil {
		he.Code, he.Message, he.Field = eb.Error.Code, eb.Error.Message, eb.Error.Field
	} else {
		msg := strings.TrimSpace(string(body))
		if len(msg) > 200 {
			msg = msg[:200] + "…"
		}
		he.Message = msg
	}
	switch s := resp.StatusCode; {
	case s == http.StatusTooManyRequests || s == http.StatusServiceUnavailable:
		if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			return connector.RetryAfter(d, he)
		}
		return he
	case s == http.StatusRequestTimeout || s == http.StatusTooEarly || s >= 500:
		return he
	case s >= 400:
		return connector.Permanent(he)
	default:
		return fmt.Errorf("unexpected %w", he)
	}
}

// parseRetryAfter reads a Retry-After value: delay seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		if n > math.MaxInt64/int64(time.Second) { // would overflow (found by FuzzWMSProtocol)
			return math.MaxInt64, true
		}
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// do sends one request and decodes a 2xx JSON answer into out. It returns
// the status code.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, hdr http.Header, in, out any) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, connector.Permanent(fmt.Errorf("encode request: %w", err))
		}
		body = bytes.NewReader(b)
	}
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return 0, connector.Permanent(fmt.Errorf("build request: %w", err))
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "crossdock-restwms/1")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return resp.StatusCode, fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("%s %s: %w", method, path, classify(resp, b))
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

func orderPath(ref string) string { return "/v1/orders/" + url.PathEscape(ref) }

// SubmitOrder creates the order with POST /v1/orders and Idempotency-Key =
// ExternalRef. A replay answers Created false with the same WMSOrderID.
func (c *Client) SubmitOrder(ctx context.Context, o *order.WarehouseOrder) (connector.SubmitResult, error) {
	if o == nil || strings.TrimSpace(o.ExternalRef) == "" {
		return connector.SubmitResult{}, connector.Permanent(errors.New("restwms: submit order: external_ref is empty"))
	}
	var out struct {
		WMSOrderID string `json:"wms_order_id"`
		Created    bool   `json:"created"`
	}
	hdr := http.Header{"Idempotency-Key": {o.ExternalRef}}
	status, err := c.do(ctx, http.MethodPost, "/v1/orders", nil, hdr, o, &out)
	if err != nil {
		return connector.SubmitResult{}, fmt.Errorf("restwms: submit order %s: %w", o.ExternalRef, err)
	}
	if out.WMSOrderID == "" {
		return connector.SubmitResult{}, fmt.Errorf("restwms: submit order %s: answer %d has no wms_order_id", o.ExternalRef, status)
	}
	return connector.SubmitResult{WMSOrderID: out.WMSOrderID, Created: out.Created}, nil
}

// CancelOrder asks for a cancel with POST /v1/orders/{ref}/cancel.
func (c *Client) CancelOrder(ctx context.Context, externalRef string) (connector.CancelResult, error) {
	var out struct {
		Cancelled bool   `json:"cancelled"`
		Reason    string `json:"reason"`
	}
	if _, err := c.do(ctx, http.MethodPost, orderPath(externalRef)+"/cancel", nil, nil, nil, &out); err != nil {
		return connector.CancelResult{}, fmt.Errorf("restwms: cancel order %s: %w", externalRef, err)
	}
	return connector.CancelResult{Cancelled: out.Cancelled, Reason: out.Reason}, nil
}

var _ connector.Amender = (*Client)(nil)

// Amend replaces the order's lines and ship-to with PUT
// /v1/orders/{external_ref} (the whole order, same external reference).
// The warehouse answers 200 when it will ship the order as amended, and 409
// with code too_late once picking started: that refusal is returned as
// AmendResult{Amended: false, Reason: the warehouse's message}, not as an
// error. Other answers follow the package's error classes.
func (c *Client) Amend(ctx context.Context, o *order.WarehouseOrder) (connector.AmendResult, error) {
	if o == nil || strings.TrimSpace(o.ExternalRef) == "" {
		return connector.AmendResult{}, connector.Permanent(errors.New("restwms: amend order: external_ref is empty"))
	}
	var out struct {
		Amended bool `json:"amended"`
	}
	_, err := c.do(ctx, http.MethodPut, orderPath(o.ExternalRef), nil, nil, o, &out)
	var he *HTTPError
	if errors.As(err, &he) && he.StatusCode == http.StatusConflict && he.Code == "too_late" {
		return connector.AmendResult{Reason: he.Message}, nil
	}
	if err != nil {
		return connector.AmendResult{}, fmt.Errorf("restwms: amend order %s: %w", o.ExternalRef, err)
	}
	return connector.AmendResult{Amended: out.Amended}, nil
}

// Events reads the feed with GET /v1/events. limit ≤ 0 lets the warehouse
// choose the page size. If the warehouse sends no next_cursor, cursor is
// returned unchanged so that a consumer never rewinds. An event without id
// gets one from its content (contentID); one that does not decode fails
// the page (transient: the warehouse may fix its feed).
func (c *Client) Events(ctx context.Context, cursor string, limit int) ([]connector.Event, string, error) {
	q := url.Values{}
	if cursor != "" {
		q.Set("after", cursor)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var out struct {
		Events     []json.RawMessage `json:"events"`
		NextCursor string            `json:"next_cursor"`
	}
	if _, err := c.do(ctx, http.MethodGet, "/v1/events", q, nil, nil, &out); err != nil {
		return nil, cursor, fmt.Errorf("restwms: events after %q: %w", cursor, err)
	}
	if limit > 0 && len(out.Events) > limit {
		return nil, cursor, fmt.Errorf("restwms: events after %q: %d events for limit %d", cursor, len(out.Events), limit)
	}
	evs := make([]connector.Event, 0, len(out.Events))
	for i, raw := range out.Events {
		var ev connector.Event
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, cursor, fmt.Errorf("restwms: events after %q: event %d: %w", cursor, i, err)
		}
		if ev.ID == "" {
			ev.ID = contentID(raw)
		}
		evs = append(evs, ev)
	}
	next := out.NextCursor
	if next == "" {
		next = cursor
	}
	return evs, next, nil
}

// contentID is the id of an event the warehouse sent without one: a digest
// of its content, so that the same event read twice is recognised as a
// repeat while two different events never share an id (an empty id would
// make the second one look like a repeat of the first and be lost; found by
// FuzzWMSProtocol). Events lacking a type, reference or time are passed on
// all the same: the hub stores and quarantines them with the reason
// (wmsfeed), rather than refusing the page and stopping the feed.
func contentID(raw []byte) string {
	sum := sha256.Sum256(raw)
	return "sha256:" + hex.EncodeToString(sum[:16])
}

// Stock reads GET /v1/stock. A snapshot without as_of is a permanent
// error: it cannot be dated, so the hub could not order it against other
// figures. A line the hub cannot trust (no sku, a negative quantity, or a
// sku listed on several lines: every line of that sku, since which one is
// right cannot be told) goes to the snapshot's Rejected with its index and
// reason, and the snapshot carries the other lines: one bad line no longer
// holds back every figure of the warehouse (the hub quarantines it and
// keeps that SKU's last figure). Every line the warehouse sent is thus in
// Items or in Rejected (checked by FuzzWMSProtocol).
func (c *Client) Stock(ctx context.Context) (connector.StockSnapshot, error) {
	// Not decoded into connector.StockSnapshot: Rejected is the client's
	// judgement, never the warehouse's.
	var in struct {
		AsOf  time.Time             `json:"as_of"`
		Full  bool                  `json:"full"`
		Items []connector.StockItem `json:"items"`
	}
	if _, err := c.do(ctx, http.MethodGet, "/v1/stock", nil, nil, nil, &in); err != nil {
		return connector.StockSnapshot{}, fmt.Errorf("restwms: stock: %w", err)
	}
	if in.AsOf.IsZero() {
		return connector.StockSnapshot{}, connector.Permanent(errors.New("restwms: stock: the snapshot has no as_of"))
	}
	lines := make(map[string]int, len(in.Items))
	for _, it := range in.Items {
		lines[it.SKU]++
	}
	out := connector.StockSnapshot{AsOf: in.AsOf, Full: in.Full}
	kept := make([]connector.StockItem, 0, len(in.Items))
	for i, it := range in.Items {
		var why string
		switch {
		case it.SKU == "":
			why = "the line has no sku"
		case lines[it.SKU] > 1:
			why = fmt.Sprintf("sku %s is listed on %d lines; all of them are rejected since which one is right cannot be told", it.SKU, lines[it.SKU])
		case it.OnHand < 0 || it.Available < 0:
			why = fmt.Sprintf("negative quantity (on_hand %d, available %d)", it.OnHand, it.Available)
		}
		if why != "" {
			out.Rejected = append(out.Rejected, connector.RejectedStockLine{Index: i, SKU: it.SKU, Reason: why})
			continue
		}
		kept = append(kept, it)
	}
	out.Items = in.Items
	if len(out.Rejected) > 0 {
		out.Items = kept
	}
	return out, nil
}

// itemsPageLimit is the page size Items asks for (the protocol's maximum).
const itemsPageLimit = 5000

var _ connector.ItemMaster = (*Client)(nil)

// Items reads the whole item master with GET /v1/items, page by page. A
// warehouse that serves no item master answers 404, a permanent error
// wrapping an *HTTPError. An item without a code, or a page that does not
// move the cursor forward, is an error rather than a silent skip.
func (c *Client) Items(ctx context.Context) ([]connector.Item, error) {
	var all []connector.Item
	after := ""
	for {
		q := url.Values{"limit": {strconv.Itoa(itemsPageLimit)}}
		if after != "" {
			q.Set("after", after)
		}
		var out struct {
			Items      []connector.Item `json:"items"`
			NextCursor string           `json:"next_cursor"`
		}
		if _, err := c.do(ctx, http.MethodGet, "/v1/items", q, nil, nil, &out); err != nil {
			return nil, fmt.Errorf("restwms: items after %q: %w", after, err)
		}
		for i, it := range out.Items {
			if it.Code == "" {
				return nil, fmt.Errorf("restwms: items after %q: item %d has no code", after, i)
			}
		}
		all = append(all, out.Items...)
		if out.NextCursor == "" {
			return all, nil
		}
		if out.NextCursor == after || len(out.Items) == 0 {
			return nil, fmt.Errorf("restwms: items after %q: next_cursor %q does not move forward", after, out.NextCursor)
		}
		after = out.NextCursor
	}
}

// OrderStatus is the warehouse's view of one order (GET /v1/orders/{ref}).
type OrderStatus struct {
	ExternalRef string `json:"external_ref"`
	WMSOrderID  string `json:"wms_order_id"`
	// Status is one of received, acknowledged, picking, packed, shipped,
	// cancelled.
	Status string `json:"status"`
	// Backordered is true while the order waits for stock.
	Backordered bool             `json:"backordered"`
	Shipments   []order.Shipment `json:"shipments"`
}

// Order reads one order's state, for reconciliation.
func (c *Client) Order(ctx context.Context, externalRef string) (OrderStatus, error) {
	var out OrderStatus
	if _, err := c.do(ctx, http.MethodGet, orderPath(externalRef), nil, nil, nil, &out); err != nil {
		return OrderStatus{}, fmt.Errorf("restwms: order %s: %w", externalRef, err)
	}
	return out, nil
}

// Health calls GET /v1/health; nil means the warehouse answers.
func (c *Client) Health(ctx context.Context) error {
	if _, err := c.do(ctx, http.MethodGet, "/v1/health", nil, nil, nil, nil); err != nil {
		return fmt.Errorf("restwms: health: %w", err)
	}
	return nil
}
