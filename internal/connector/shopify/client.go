package shopify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
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
	// delay is how long to sleep before the retry (besides waiting for the
	// cost bucket).
	delay time.Duration
	// hint is the wait Shopify asked for (Retry-After, or the restore time
	// of a throttled query's cost); zero when it said nothing.
	hint time.Duration
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
		res, err := c.bucket.acquire(ctx, op.name, estimate, c.sleep, func(d time.Duration) {
			c.log.DebugContext(ctx, "shopify: waiting for cost bucket", "operation", op.name, "wait", d)
		})
		if err != nil {
			if d, ok := connector.RetryDelay(err); ok && last.err != nil {
				// The bucket refills too slowly to wait inline before a
				// retry: reschedule, keeping the last attempt's error
				// (THROTTLED, 5xx...) in the chain (found by
				// FuzzDecodeGraphQLResponse).
				return nil, connector.RetryAfter(d, last.err)
			}
			return nil, fmt.Errorf("shopify %s: waiting for cost bucket: %w", op.name, err)
		}
		last = c.attempt(ctx, op, res, body, attempt)
		if !last.retry {
			return last.data, last.err
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("shopify %s: %w (after: %v)", op.name, ctx.Err(), last.err)
		}
		if last.hint > maxInlineWait {
			return nil, connector.RetryAfter(last.hint, last.err)
		}
		c.log.WarnContext(ctx, "shopify: retrying", "operation", op.name, "attempt", attempt+1, "wait", last.delay, "error", last.err)
	}
	if last.hint > 0 {
		return nil, connector.RetryAfter(last.hint, last.err)
	}
	return nil, fmt.Errorf("shopify %s: giving up after %d attempts: %w", op.name, c.maxRetries+1, last.err)
}

// attempt sends one request and classifies the answer. It always settles
// the reservation.
func (c *Client) attempt(ctx context.Context, op *operation, res reservation, body []byte, n int) outcome {
	var (
		cost     *costExtension
		answered bool
	)
	defer func() { c.bucket.settle(res, op.name, cost, answered) }()

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
		return outcome{err: herr, retry: true, delay: d, hint: d}
	case resp.StatusCode >= 500:
		herr := httpError(op, resp.StatusCode, raw)
		if d, ok := retryAfter(resp.Header.Get("Retry-After"), c.now()); ok {
			return outcome{err: herr, retry: true, delay: d, hint: d}
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
	cost, answered = gr.Extensions.Cost, true
	if len(gr.Errors) == 0 {
		return outcome{data: gr.Data}
	}
	rerr := &ResponseError{Operation: op.name, Errors: gr.Errors}
	switch {
	case hasCode(gr.Errors, "THROTTLED"):
		o := outcome{err: fmt.Errorf("%w: %w", ErrThrottled, rerr), retry: true}
		if d, ok := throttleWait(cost); ok {
			// The bucket is reset from this answer, so reserving the
			// requested points before the retry waits exactly d.
			o.hint = d
		} else {
			o.delay, o.hint = defaultRetryWait, defaultRetryWait
		}
		c.log.InfoContext(ctx, "shopify: throttled", "operation", op.name, "wait", o.hint)
		return o
	case hasCode(gr.Errors, "INTERNAL_SERVER_ERROR"):
		return outcome{err: rerr, retry: true, delay: backoff(n)}
	default:
		return outcome{err: connector.Permanent(rerr)}
	}
}

// throttleWait is how long a throttled query waits for its requested cost
// to be restored: (requested − available) / restoreRate.
func throttleWait(cost *costExtension) (time.Duration, bool) {
	if cost == nil || cost.RequestedQueryCost == nil || cost.ThrottleStatus == nil || cost.ThrottleStatus.RestoreRate <= 0 {
		return 0, false
	}
	ts := cost.ThrottleStatus
	need := min(*cost.RequestedQueryCost, ts.MaximumAvailable) - ts.CurrentlyAvailable
	if need <= 0 {
		return 0, true
	}
	return time.Duration(math.Ceil(need / ts.RestoreRate * float64(time.Second))), true
}

// hasCode reports whether any error has extensions.code code.
func hasCode(errs []GraphQLError, code string) bool {
	for _, e := range errs {
		if e.Extensions.Code == code {
			return true
		}
	}
	return false
}

// httpError builds an HTTPError with the start of the body.
func httpError(op *operation, status int, body []byte) *HTTPError {
	b := strings.TrimSpace(string(body))
	if len(b) > errorBodyBytes {
		b = b[:errorBodyBytes] + "…"
	}
	return &HTTPError{Operation: op.name, StatusCode: status, Body: b}
}

// retryAfter parses a Retry-After header: delay-seconds (fractions
// accepted) or an HTTP date.
func retryAfter(h string, now time.Time) (time.Duration, bool) {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0, false
	}
	if secs, err := strconv.ParseFloat(h, 64); err == nil {
		if secs < 0 || math.IsNaN(secs) || math.IsInf(secs, 0) {
			return 0, false
		}
		if secs >= math.MaxInt64/float64(time.Second) { // would overflow to a negative delay
			return math.MaxInt64, true
		}
		return time.Duration(secs * float64(time.Second)), true
	}
	if t, err := http.ParseTime(h); err == nil {
		return max(0, t.Sub(now)), true
	}
	return 0, false
}

// backoff is the jittered exponential delay before retry n+1 after a
// server or network failure: uniformly in [d/2, d] with d = 500 ms · 2^n,
// capped at 30 s.
func backoff(n int) time.Duration {
	d := backoffMax
	if n < 16 {
		d = min(backoffMax, backoffBase<<n)
	}
	return d/2 + rand.N(d/2+1)
}

// checkUserErrors returns the userErrors of a mutation's answer as a
// *UserErrorsError, wrapped as connector.Permanent, or as a
// connector.RetryAfter when Shopify only said an idempotent request with
// the same key is still in progress.
func checkUserErrors(op *operation, data json.RawMessage) error {
	if len(data) == 0 || bytes.Equal(data, []byte("null")) {
		return nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return connector.Permanent(fmt.Errorf("shopify %s: decode data: %w", op.name, err))
	}
	for _, key := range rootFieldKeys(op) {
		raw, ok := fields[key]
		if !ok || bytes.Equal(raw, []byte("null")) {
			continue
		}
		var p struct {
			UserErrors []UserError `json:"userErrors"`
		}
		if err := json.Unmarshal(raw, &p); err != nil {
			return connector.Permanent(fmt.Errorf("shopify %s: decode %s: %w", op.name, key, err))
		}
		if len(p.UserErrors) == 0 {
			continue
		}
		uerr := &UserErrorsError{Operation: op.name, Mutation: key, Errors: p.UserErrors}
		if allCode(p.UserErrors, "IDEMPOTENCY_CONCURRENT_REQUEST") {
			return connector.RetryAfter(defaultRetryWait, uerr)
		}
		return connector.Permanent(uerr)
	}
	return nil
}

// allCode reports whether every user error has code.
func allCode(errs []UserError, code string) bool {
	for _, u := range errs {
		if u.Code != code {
			return false
		}
	}
	return len(errs) > 0
}
