package shopify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/crossdock/crossdock/internal/connector"
)

// DefaultMaxRetries is the number of retries when ClientConfig.MaxRetries
// is zero.
const DefaultMaxRetries = 3

// Retry timing. Backoff for 5xx and network errors is exponential from
// backoffBase, capped at backoffMax, with jitter in [d/2, d]. A server-given
// delay longer than maxInlineWait is not slept through: the call returns a
// connector.RetryAfter error at once so the job system reschedules it.
const (
	backoffBase      = 500 * time.Millisecond
	backoffMax       = 30 * time.Second
	maxInlineWait    = time.Minute
	defaultRetryWait = time.Second
	maxResponseBytes = 32 << 20
	errorBodyBytes   = 512
	defaultTimeout   = 30 * time.Second
)

// ClientConfig configures a Client.
type ClientConfig struct {
	// BaseURL is the shop's origin, e.g. "https://x.myshopify.com", or a
	// simulator's URL. The endpoint is BaseURL +
	// "/admin/api/2026-07/graphql.json".
	BaseURL string
	// AccessToken is sent as X-Shopify-Access-Token.
	AccessToken string
	// HTTPClient sends the requests; nil means a client with a 30 s timeout.
	HTTPClient *http.Client
	// Logger receives retries and throttle waits; nil discards them.
	Logger *slog.Logger
	// MaxRetries is how many times one call is retried after THROTTLED,
	// 429, 5xx, an internal GraphQL error or a network error. Zero means
	// DefaultMaxRetries; negative means never retry.
	MaxRetries int
	// Now returns the current time; nil means time.Now. For tests.
	Now func() time.Time
	// Sleep waits d or until ctx is done; nil means a real timer. For tests.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Client calls the Shopify Admin GraphQL API with the embedded operations.
// It paces requests by a shared estimate of Shopify's cost bucket and
// retries throttled and failed requests. It is safe for concurrent use.
type Client struct {
	endpoint   string
	token      string
	http       *http.Client
	log        *slog.Logger
	maxRetries int
	now        func() time.Time
	sleep      func(context.Context, time.Duration) error
	bucket     *bucket
}

// NewClient returns a client for cfg.
func NewClient(cfg ClientConfig) *Client {
	c := &Client{
		endpoint:   strings.TrimRight(cfg.BaseURL, "/") + "/admin/api/" + APIVersion + "/graphql.json",
		token:      cfg.AccessToken,
		http:       cfg.HTTPClient,
		log:        cfg.Logger,
		maxRetries: cfg.MaxRetries,
		now:        cfg.Now,
		sleep:      cfg.Sleep,
	}
	if c.http == nil {
		c.http = &http.Client{Timeout: defaultTimeout}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	switch {
	case c.maxRetries == 0:
		c.maxRetries = DefaultMaxRetries
	case c.maxRetries < 0:
		c.maxRetries = 0
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.sleep == nil {
		c.sleep = sleepCtx
	}
	c.bucket = newBucket(c.now)
	return c
}

// Endpoint returns the GraphQL endpoint URL the client posts to.
func (c *Client) Endpoint() string { return c.endpoint }

// ThrottleStatus returns the client's current estimate of Shopify's cost
// bucket, for metrics. It is the zero value until an answer reported one.
func (c *Client) ThrottleStatus() ThrottleStatus { return c.bucket.status() }

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// gqlRequest is the body of a GraphQL POST.
type gqlRequest struct {
	Query         string         `json:"query"`
	OperationName string         `json:"operationName"`
	Variables     map[string]any `json:"variables,omitempty"`
}

// gqlResponse is a GraphQL answer.
type gqlResponse struct {
	Data       json.RawMessage `json:"data"`
	Errors     []GraphQLError  `json:"errors"`
	Extensions struct {
		Cost *costExtension `json:"cost"`
	} `json:"extensions"`
}

// Do runs the embedded operation opName with vars and decodes the answer's
// data into out (which may be nil). Numbers are decoded with UseNumber, so
// an out of map[string]any keeps every digit of large IDs.
//
// Errors: an unknown operation, a non-retryable HTTP status, top-level
// GraphQL errors and mutation userErrors (*UserErrorsError) are wrapped as
// connector.Permanent. THROTTLED, 429, 5xx and network errors are retried
// up to MaxRetries; after that the error is transient, or a
// connector.RetryAfter when Shopify said how long to wait.
func (c *Client) Do(ctx context.Context, opName string, vars map[string]any, out any) error {
	all, err := loadOperations()
	if err != nil {
		return connector.Permanent(err)
	}
	op, ok := all[opName]
	if !ok {
		return connector.Permanent(fmt.Errorf("shopify: unknown operation %q", opName))
	}
	body, err := json.Marshal(gqlRequest{Query: op.query, OperationName: op.name, Variables: vars})
	if err != nil {
		return connector.Permanent(fmt.Errorf("shopify %s: encode variables: %w", op.name, err))
	}
	data, err := c.run(ctx, op, vars, body)
	if err != nil {
		return err
	}
	if out != nil && len(data) > 0 {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if err := dec.Decode(out); err != nil {
			return connector.Permanent(fmt.Errorf("shopify %s: decode data: %w", op.name, err))
		}
	}
	if op.mutation {
		return checkUserErrors(op, data)
	}
	return nil
}

// outcome is the result of one attempt.
type outcome struct {
	data  json.RawMessage
	err   error
	retry bool
	// delay is how long to wait before the retry; server is true when it
	// came from Shopify (Retry-After or a throttle status).
	delay  time.Duration
	server bool
}

// run sends body until it succeeds, fails permanently or runs out of
// retries.
func (c *Client) run(ctx context.Context, op *operation, vars map[string]any, body []byte) (json.RawMessage, error) {
	estimate := op.estimateCost(vars)
	var last outcome
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if attempt > c.maxRetries {
				break
			}
			if last.delay > 0 {
				if err := c.sleep(ctx, last.delay); err != nil {
					return nil, fmt.Errorf("shopify %s: %w (after: %v)", op.name, err, last.err)
				}
			}
		}
		need := c.bucket.expected(op.name, estimate)
		res, err := c.bucket.acquire(ctx, need, c.sleep, func(d time.Duration) {
			c.log.DebugContext(ctx, "shopify: waiting for cost bucket", "operation", op.name, "points", need, "wait", d)
		})
		if err != nil {
			return nil, fmt.Errorf("shopify %s: waiting for cost bucket: %w", op.name, err)
		}
		last = c.attempt(ctx, op, res, body, attempt)
		if !last.retry {
			return last.data, last.err
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("shopify %s: %w (after: %v)", op.name, ctx.Err(), last.err)
		}
		if last.server && last.delay > maxInlineWait {
			return nil, connector.RetryAfter(last.delay, last.err)
		}
		c.log.WarnContext(ctx, "shopify: retrying", "operation", op.name, "attempt", attempt+1, "wait", last.delay, "error", last.err)
	}
	if last.server {
		return nil, connector.RetryAfter(last.delay, last.err)
	}
	return nil, fmt.Errorf("shopify %s: giving up after %d attempts: %w", op.name, c.maxRetries+1, last.err)
}

// attempt sends one request and classifies the answer. It always settles
// the reservation.
func (c *Client) attempt(ctx context.Context, op *operation, res reservation, body []byte, n int) outcome {
	var cost *costExtension
	defer func() { c.bucket.settle(res, op.name, cost) }()

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return outcome{err: connector.Permanent(fmt.Errorf("shopify %s: %w", op.name, err))}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-Shopify-Access-Token", c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return outcome{err: fmt.Errorf("shopify %s: %w", op.name, ctx.Err())}
		}
		return outcome{err: fmt.Errorf("shopify %s: %w", op.name, err), retry: true, delay: backoff(n)}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return outcome{err: fmt.Errorf("shopify %s: read answer: %w", op.name, err), retry: true, delay: backoff(n)}
	}

	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		herr := httpError(op, resp.StatusCode, raw)
		d, ok := retryAfter(resp.Header.Get("Retry-After"), c.now())
		if !ok {
			d = defaultRetryWait
		}
		return outcome{err: herr, retry: true, delay: d, server: true}
	case resp.StatusCode >= 500:
		herr := httpError(op, resp.StatusCode, raw)
		if d, ok := retryAfter(resp.Header.Get("Retry-After"), c.now()); ok {
			return outcome{err: herr, retry: true, delay: d, server: true}
		}
		return outcome{err: herr, retry: true, delay: backoff(n)}
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return outcome{err: connector.Permanent(httpError(op, resp.StatusCode, raw))}
	}

	var gr gqlResponse
	if err := json.Unmarshal(raw, &gr); err != nil {
		// A 2xx that is not JSON is most likely a truncated answer or a
		// proxy's page: transient.
		return outcome{err: fmt.Errorf("shopify %s: invalid answer: %w", op.name, err), retry: true, delay: backoff(n)}
	}
	cost = gr.Extensions.Cost
	if len(gr.Errors) == 0 {
		return outcome{data: gr.Data}
	}
	rerr := &ResponseError{Operation: op.name, Errors: gr.Errors}
	switch {
	case hasCode(gr.Errors, "THROTTLED"):
		o := outcome{err: fmt.Errorf("%w: %w", ErrThrottled, rerr), retry: true, server: true}
		if d, ok := throttleWait(cost); ok {
			// The bucket was reset from this answer: acquiring the
			// requested points before the retry waits exactly d.
			o.delay = 0
			c.log.InfoContext(ctx, "shopify: throttled", "operation", op.name, "wait", d)
			o.retryAfter(d)
		} else {
			o.delay = defaultRetryWait
		}
		return o
	case hasCode(gr.Errors, "INTERNAL_SERVER_ERROR"):
		return outcome{err: rerr, retry: true, delay: backoff(n)}
	default:
		return outcome{err: connector.Permanent(rerr)}
	}
}
