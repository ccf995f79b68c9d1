package shopify

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/crossdock/crossdock/internal/connector"
)

// DefaultBulkPoll is the first polling interval of BulkInventoryLevels.
const DefaultBulkPoll = time.Second

// bulkPollGrowth is the factor the polling interval grows by after each
// poll, up to bulkPollCap times the first interval.
const (
	bulkPollGrowth = 1.5
	bulkPollCap    = 10
)

// BulkOperationError reports a bulk operation that ended without a
// result. It is permanent except for FAILED with INTERNAL_SERVER_ERROR
// (Shopify: intermittent, try again) and EXPIRED.
type BulkOperationError struct {
	// ID is the BulkOperation GID.
	ID string
	// Status is FAILED, CANCELED, CANCELING or EXPIRED.
	Status string
	// ErrorCode is ACCESS_DENIED, INTERNAL_SERVER_ERROR or TIMEOUT for a
	// FAILED operation; empty otherwise.
	ErrorCode string
	// ObjectCount is how many objects the operation had processed.
	ObjectCount int64
	// PartialDataURL points at the incomplete JSONL of a failed operation,
	// if Shopify kept any.
	PartialDataURL string
}

// Error describes the operation's end.
func (e *BulkOperationError) Error() string {
	msg := fmt.Sprintf("shopify bulk operation %s ended %s", e.ID, e.Status)
	if e.ErrorCode != "" {
		msg += " (" + e.ErrorCode + ")"
	}
	return msg + fmt.Sprintf(" after %d objects", e.ObjectCount)
}

// bulkOperation is the BulkOperation fields the client reads.
type bulkOperation struct {
	ID             string        `json:"id"`
	Status         string        `json:"status"`
	ErrorCode      *string       `json:"errorCode"`
	ObjectCount    unsignedInt64 `json:"objectCount"`
	URL            *string       `json:"url"`
	PartialDataURL *string       `json:"partialDataUrl"`
}

// BulkQuery runs query (a GraphQL query without variables, with at least
// one connection) as a Shopify bulk operation and returns its JSONL result
// as a stream the caller must close: one line per connection node, nested
// connection nodes after their parent with "__parentId". A result without
// any object is an empty stream.
//
// While Shopify refuses a new bulk query because others are in progress
// (OPERATION_IN_PROGRESS, LIMIT_REACHED) it waits and tries again. It polls
// the operation first after poll (DefaultBulkPoll when ≤ 0), then at
// intervals growing 1.5× up to 10 × poll, until ctx ends. An operation that
// ends FAILED, CANCELED or EXPIRED yields a *BulkOperationError; a query
// Shopify refuses, a permanent *UserErrorsError. Cancelling ctx does not
// cancel the operation in Shopify.
func (c *Client) BulkQuery(ctx context.Context, query string, poll time.Duration) (io.ReadCloser, error) {
	url, err := c.runBulk(ctx, query, poll)
	if err != nil {
		return nil, err
	}
	return c.downloadBulk(ctx, url)
}

// runBulk runs the bulk query to its end and returns the result URL, ""
// when the result has no object.
func (c *Client) runBulk(ctx context.Context, query string, poll time.Duration) (string, error) {
	if poll <= 0 {
		poll = DefaultBulkPoll
	}
	id, err := c.startBulk(ctx, query, poll)
	if err != nil {
		return "", err
	}
	op, err := c.waitBulk(ctx, id, poll)
	if err != nil {
		return "", err
	}
	if op.URL == nil {
		return "", nil
	}
	return *op.URL, nil
}

// startBulk starts the bulk query, waiting while others are in progress.
func (c *Client) startBulk(ctx context.Context, query string, poll time.Duration) (string, error) {
	wait := poll
	for {
		var resp struct {
			P struct {
				Op *bulkOperation `json:"bulkOperation"`
			} `json:"bulkOperationRunQuery"`
		}
		err := c.Do(ctx, "BulkOperationRunQuery", map[string]any{"query": query}, &resp)
		var uerr *UserErrorsError
		if errors.As(err, &uerr) && busyOnly(uerr) {
			c.log.InfoContext(ctx, "shopify: bulk query waits for operations in progress", "wait", wait, "error", uerr)
			if err := c.sleep(ctx, wait); err != nil {
				return "", fmt.Errorf("shopify bulk query: waiting for operations in progress: %w (after: %v)", err, uerr)
			}
			wait = nextPoll(wait, poll)
			continue
		}
		if err != nil {
			return "", fmt.Errorf("shopify bulk query: %w", err)
		}
		if resp.P.Op == nil || resp.P.Op.ID == "" {
			return "", connector.Permanent(errors.New("shopify bulk query: bulkOperationRunQuery answered no operation and no userErrors"))
		}
		return resp.P.Op.ID, nil
	}
}

// busyOnly reports whether every user error says other bulk operations
// are in progress.
func busyOnly(uerr *UserErrorsError) bool {
	for _, u := range uerr.Errors {
		if u.Code != "OPERATION_IN_PROGRESS" && u.Code != "LIMIT_REACHED" {
			return false
		}
	}
	return len(uerr.Errors) > 0
}

// nextPoll grows the polling interval.
func nextPoll(d, first time.Duration) time.Duration {
	return min(time.Duration(float64(d)*bulkPollGrowth), bulkPollCap*first)
}

// waitBulk polls the operation until it ends.
func (c *Client) waitBulk(ctx context.Context, id string, poll time.Duration) (*bulkOperation, error) {
	wait := poll
	for {
		if err := c.sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("shopify bulk operation %s: %w", id, err)
		}
		wait = nextPoll(wait, poll)
		var resp struct {
			Op *bulkOperation `json:"bulkOperation"`
		}
		if err := c.Do(ctx, "BulkOperation", map[string]any{"id": id}, &resp); err != nil {
			return nil, fmt.Errorf("shopify bulk operation %s: %w", id, err)
		}
		op := resp.Op
		if op == nil {
			return nil, connector.Permanent(fmt.Errorf("%w: bulk operation %s", ErrNotFound, id))
		}
		switch op.Status {
		case "CREATED", "RUNNING":
			continue
		case "COMPLETED":
			return op, nil
		}
		e := &BulkOperationError{ID: id, Status: op.Status, ObjectCount: int64(op.ObjectCount)}
		if op.ErrorCode != nil {
			e.ErrorCode = *op.ErrorCode
		}
		if op.PartialDataURL != nil {
			e.PartialDataURL = *op.PartialDataURL
		}
		if (e.Status == "FAILED" && e.ErrorCode == "INTERNAL_SERVER_ERROR") || e.Status == "EXPIRED" {
			return nil, e
		}
		return nil, connector.Permanent(e)
	}
}

// downloadBulk GETs the result URL (a signed storage URL: no access
// token) and returns the body unread. Network errors and 5xx are retried
// like GraphQL requests; the body itself is bounded only by ctx.
func (c *Client) downloadBulk(ctx context.Context, url string) (io.ReadCloser, error) {
	if url == "" {
		return io.NopCloser(strings.NewReader("")), nil
	}
	hc := &http.Client{Transport: c.http.Transport, CheckRedirect: c.http.CheckRedirect}
	var last error
	for attempt := 0; attempt <= c.maxRetries; attempt++ {
		if attempt > 0 {
			if err := c.sleep(ctx, backoff(attempt-1)); err != nil {
				return nil, fmt.Errorf("shopify bulk download: %w (after: %v)", err, last)
			}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return nil, connector.Permanent(fmt.Errorf("shopify bulk download: %w", err))
		}
		resp, err := hc.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("shopify bulk download: %w", ctx.Err())
			}
			last = fmt.Errorf("shopify bulk download: %w", err)
			continue
		}
		if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
			return resp.Body, nil
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, errorBodyBytes))
		resp.Body.Close()
		herr := &HTTPError{Operation: "bulk download", StatusCode: resp.StatusCode, Body: strings.TrimSpace(string(b))}
		if resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests {
			return nil, connector.Permanent(herr)
		}
		last = herr
	}
	return nil, fmt.Errorf("shopify bulk download: giving up after %d attempts: %w", c.maxRetries+1, last)
}

// eachLine calls fn with every non-empty line of r (without its newline)
// and its 1-based number. The slice is only valid during the call.
func eachLine(r io.Reader, fn func(n int, line []byte) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var long []byte // a line longer than the buffer, being assembled
	inLong := false
	n := 0
	for {
		chunk, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long, inLong = append(long, chunk...), true
			continue
		}
		if err != nil && err != io.EOF {
			return err // a truncated line is not a line
		}
		line := chunk
		if inLong {
			long = append(long, chunk...)
			line = long
		}
		if len(line) > 0 {
			n++
			if t := bytes.TrimSpace(line); len(t) > 0 {
				if ferr := fn(n, t); ferr != nil {
					return ferr
				}
			}
		}
		long, inLong = long[:0], false
		if err == io.EOF {
			return nil
		}
	}
}

// bulkInventoryLevelsQuery reads every level of one location (%s: the
// location GID as a GraphQL string).
const bulkInventoryLevelsQuery = `{
  location(id: %s) {
    inventoryLevels {
      edges {
        node {
          item {
            id
            sku
          }
          quantities(names: ["available"]) {
            name
            quantity
          }
        }
      }
    }
  }
}`

// bulkLevel is one JSONL line of bulkInventoryLevelsQuery.
type bulkLevel struct {
	Item *struct {
		ID  string  `json:"id"`
		SKU *string `json:"sku"`
	} `json:"item"`
	Quantities []struct {
		Name     string `json:"name"`
		Quantity *int   `json:"quantity"`
	} `json:"quantities"`
	ParentID string `json:"__parentId"`
}

// BulkInventoryLevels returns the available quantity of every item stocked
// at the location with GID locationID, like AllInventoryLevels, read with
// one bulk operation instead of pages: the cost is that of one mutation
// and a few polls, whatever the number of levels. A missing location is a
// permanent error wrapping ErrNotFound; a malformed result line a
// permanent error naming the line.
func (c *Client) BulkInventoryLevels(ctx context.Context, locationID string) ([]InventoryLevel, error) {
	if res, id, err := ParseGID(locationID); err != nil || res != "Location" || GID("Location", id) != locationID {
		return nil, connector.Permanent(fmt.Errorf("shopify bulk inventory levels: %q is not a Location GID", locationID))
	}
	lit, _ := json.Marshal(locationID) // a JSON string of a GID is a valid GraphQL string
	url, err := c.runBulk(ctx, fmt.Sprintf(bulkInventoryLevelsQuery, lit), DefaultBulkPoll)
	if err != nil {
		return nil, fmt.Errorf("shopify bulk inventory levels at %s: %w", locationID, err)
	}
	var levels []InventoryLevel
	for attempt := 0; ; attempt++ {
		// A download broken midway is fetched again from the start: the
		// result stays available for days.
		levels, err = c.readBulkLevels(ctx, url, locationID)
		if err == nil || connector.IsPermanent(err) || attempt >= c.maxRetries || ctx.Err() != nil {
			break
		}
		c.log.WarnContext(ctx, "shopify: bulk result download failed, retrying", "location", locationID, "attempt", attempt+1, "error", err)
		if serr := c.sleep(ctx, backoff(attempt)); serr != nil {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("shopify bulk inventory levels at %s: %w", locationID, err)
	}
	if len(levels) == 0 {
		// An empty result cannot tell an empty location from a missing one.
		var resp struct {
			Location *struct {
				ID string `json:"id"`
			} `json:"location"`
		}
		if err := c.Do(ctx, "LocationInventoryLevels", map[string]any{"id": locationID, "first": 1, "after": nil}, &resp); err != nil {
			return nil, err
		}
		if resp.Location == nil {
			return nil, connector.Permanent(fmt.Errorf("%w: location %s", ErrNotFound, locationID))
		}
	}
	return levels, nil
}

// readBulkLevels downloads and decodes one bulk result.
func (c *Client) readBulkLevels(ctx context.Context, url, locationID string) ([]InventoryLevel, error) {
	body, err := c.downloadBulk(ctx, url)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	return parseBulkLevels(body, locationID)
}

// parseBulkLevels decodes the JSONL of bulkInventoryLevelsQuery.
func parseBulkLevels(r io.Reader, locationID string) ([]InventoryLevel, error) {
	var levels []InventoryLevel
	err := eachLine(r, func(n int, line []byte) error {
		var l bulkLevel
		if err := json.Unmarshal(line, &l); err != nil {
			return connector.Permanent(fmt.Errorf("result line %d: %w", n, err))
		}
		if l.Item == nil || l.Item.ID == "" {
			return connector.Permanent(fmt.Errorf("result line %d: no inventory item id", n))
		}
		if l.ParentID != "" && l.ParentID != locationID {
			return connector.Permanent(fmt.Errorf("result line %d: __parentId %s is not the location", n, l.ParentID))
		}
		lv := InventoryLevel{InventoryItemID: l.Item.ID}
		if l.Item.SKU != nil {
			lv.SKU = *l.Item.SKU
		}
		found := false
		for _, q := range l.Quantities {
			if q.Name == "available" && q.Quantity != nil {
				lv.Available, found = *q.Quantity, true
			}
		}
		if !found {
			return connector.Permanent(fmt.Errorf("result line %d: item %s has no available quantity", n, l.Item.ID))
		}
		levels = append(levels, lv)
		return nil
	})
	if err != nil {
		if connector.IsPermanent(err) {
			return nil, err
		}
		return nil, fmt.Errorf("read result: %w", err)
	}
	return levels, nil
}
