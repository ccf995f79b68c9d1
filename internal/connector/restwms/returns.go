package restwms

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/crossdock/crossdock/internal/connector"
)

var _ connector.Returner = (*Client)(nil)

// ExpectReturn announces an expected return with POST /v1/returns
// (Idempotency-Key = ReturnID). A replay of the same content is accepted
// (200, created false); the same ReturnID with different content is a 409,
// permanent like the other 4xx answers. The warehouse reports the receipt
// as a return_received event in the feed (connector.Event.Return).
func (c *Client) ExpectReturn(ctx context.Context, n connector.ReturnNotice) error {
	if strings.TrimSpace(n.ReturnID) == "" || strings.TrimSpace(n.ExternalRef) == "" {
		return connector.Permanent(errors.New("restwms: expect return: return_id and external_ref are required"))
	}
	var out struct {
		ReturnID string `json:"return_id"`
		Created  bool   `json:"created"`
	}
	hdr := http.Header{"Idempotency-Key": {n.ReturnID}}
	if _, err := c.do(ctx, http.MethodPost, "/v1/returns", nil, hdr, n, &out); err != nil {
		return fmt.Errorf("restwms: expect return %s for %s: %w", n.ReturnID, n.ExternalRef, err)
	}
	return nil
}
