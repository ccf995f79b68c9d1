package shopify

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/crossdock/crossdock/internal/connector"
)

// ErrNotFound is in the chain of the (permanent) error returned when the
// object asked for does not exist or is not visible to the app.
var ErrNotFound = errors.New("shopify: not found")

// MaxInputItems is the most entries Shopify accepts in any input array.
const MaxInputItems = 250

const gidPrefix = "gid://shopify/"

// GID returns the global ID "gid://shopify/<resource>/<id>", e.g.
// GID("Order", 820982911946154508).
func GID(resource string, id int64) string {
	return gidPrefix + resource + "/" + strconv.FormatInt(id, 10)
}

// ParseGID splits a global ID into its resource and numeric id. A query
// string (as in "gid://shopify/InventoryLevel/1?inventory_item_id=2") is
// ignored.
func ParseGID(gid string) (resource string, id int64, err error) {
	rest, ok := strings.CutPrefix(gid, gidPrefix)
	if !ok {
		return "", 0, fmt.Errorf("shopify: %q is not a Shopify GID", gid)
	}
	rest, _, _ = strings.Cut(rest, "?")
	resource, num, ok := strings.Cut(rest, "/")
	if !ok || resource == "" {
		return "", 0, fmt.Errorf("shopify: %q is not a Shopify GID", gid)
	}
	id, err = strconv.ParseInt(num, 10, 64)
	if err != nil || id <= 0 {
		return "", 0, fmt.Errorf("shopify: %q has no positive numeric id", gid)
	}
	return resource, id, nil
}

// unsignedInt64 decodes GraphQL's UnsignedInt64, which Shopify serialises
// as a decimal string; a bare JSON number is accepted too. It never goes
// through float64.
type unsignedInt64 int64

// UnmarshalJSON implements json.Unmarshaler.
func (v *unsignedInt64) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("shopify: UnsignedInt64 %s: %w", b, err)
	}
	if n < 0 { // found by FuzzDecodeGraphQLResponse
		return fmt.Errorf("shopify: UnsignedInt64 %s is negative", b)
	}
	*v = unsignedInt64(n)
	return nil
}

// pageInfo is a connection's pageInfo.
type pageInfo struct {
	HasNextPage bool    `json:"hasNextPage"`
	EndCursor   *string `json:"endCursor"`
}

// next returns the cursor of the next page, or "" when there is none. It
// fails when Shopify claims more pages without a new cursor, which would
// otherwise loop forever. That failure is permanent: asking again gets the
// same answer (found by FuzzDecodeGraphQLResponse; FulfillmentEvents
// already said so, the other paged reads retried it as transient).
func (p pageInfo) next(prev string) (string, error) {
	if !p.HasNextPage {
		return "", nil
	}
	if p.EndCursor == nil || *p.EndCursor == "" || *p.EndCursor == prev {
		return "", connector.Permanent(fmt.Errorf("shopify: hasNextPage without a new endCursor (after %q)", prev))
	}
	return *p.EndCursor, nil
}

// nullable returns nil for "" so that optional arguments are sent as null.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}
