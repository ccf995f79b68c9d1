package connectortest

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync"
)

// ErrTooManyRequests is returned by a CannedTransport past its Max
// requests: the client under test loops on an answer.
var ErrTooManyRequests = errors.New("connectortest: too many requests")

// CannedTransport is an http.RoundTripper that answers every request with
// the same status, Retry-After header and JSON body, and counts the
// requests: fuzz targets hand a client a fuzzed answer through it, with no
// server.
type CannedTransport struct {
	Status     int
	RetryAfter string // "" sends no header
	Body       []byte
	// Max bounds the requests answered; later ones fail with
	// ErrTooManyRequests (0: no bound).
	Max int

	mu sync.Mutex
	n  int
}

// Requests is the number of requests made so far.
func (c *CannedTransport) Requests() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// RoundTrip implements http.RoundTripper.
func (c *CannedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	c.mu.Lock()
	c.n++
	n := c.n
	c.mu.Unlock()
	if c.Max > 0 && n > c.Max {
		return nil, ErrTooManyRequests
	}
	h := http.Header{"Content-Type": {"application/json"}}
	if c.RetryAfter != "" {
		h.Set("Retry-After", c.RetryAfter)
	}
	return &http.Response{
		StatusCode: c.Status, Status: strconv.Itoa(c.Status), Header: h,
		Body: io.NopCloser(bytes.NewReader(c.Body)), ContentLength: int64(len(c.Body)), Request: r,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
	}, nil
}
