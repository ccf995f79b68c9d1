package shopify

import (
	"context"
	"math"
	"sync"
	"time"
)

// ThrottleStatus is the client's estimate of Shopify's cost bucket for this
// app and store, from the throttleStatus of the latest answers.
type ThrottleStatus struct {
	// MaximumAvailable is the bucket size Shopify last reported.
	MaximumAvailable float64
	// CurrentlyAvailable is the estimate now: the last reported value plus
	// what has been restored since, minus points reserved by requests still
	// in flight.
	CurrentlyAvailable float64
	// RestoreRate is the points restored per second Shopify last reported.
	RestoreRate float64
	// ReadAt is when Shopify last reported a status; zero if it never has.
	ReadAt time.Time
}

// bucket is a local model of Shopify's leaky bucket shared by all callers of
// one Client. Before sending, a caller reserves the points its operation is
// expected to request; the reservation is released when the answer arrives
// and the estimate is reset from the throttleStatus Shopify reports.
type bucket struct {
	now func() time.Time

	mu     sync.Mutex
	known  bool    // a throttleStatus has been read
	max    float64 // bucket size
	rate   float64 // points restored per second
	avail  float64 // available as of at, net of outstanding reservations
	at     time.Time
	readAt time.Time
	// outstanding is the sum of points reserved by requests in flight.
	outstanding float64
	// settled counts answers settled; a reservation records it to tell
	// whether other answers arrived while it was in flight.
	settled uint64
	// probe is non-nil while the first request, sent before any status is
	// known, is in flight; other callers wait for it to close.
	probe chan struct{}
	// requested is the last requestedQueryCost Shopify reported per
	// operation.
	requested map[string]float64
}

// reservation is what one request holds while in flight.
type reservation struct {
	points  float64
	probe   bool
	settled uint64
}

// epsilon absorbs floating-point error when comparing points.
const epsilon = 1e-6

func newBucket(now func() time.Time) *bucket {
	return &bucket{now: now, requested: map[string]float64{}}
}

// expected returns the points op is expected to request: the last
// requestedQueryCost Shopify reported for it, else the static estimate.
// Shopify refuses a query while its requested cost exceeds the available
// points, so that is what must be available before sending.
func (b *bucket) expected(op string, estimate float64) float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	if c, ok := b.requested[op]; ok {
		return c
	}
	return estimate
}

// refill brings avail up to now. Caller holds mu.
func (b *bucket) refill(now time.Time) {
	if !b.known || !now.After(b.at) {
		return
	}
	b.avail = math.Min(b.max-b.outstanding, b.avail+b.rate*now.Sub(b.at).Seconds())
	b.at = now
}

// tryReserve reserves need points if they are available now. Otherwise it
// returns how long to wait for them to be restored, or a channel to wait on
// while the first request learns the bucket's size.
func (b *bucket) tryReserve(need float64) (res reservation, wait time.Duration, block <-chan struct{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.known {
		if b.probe != nil {
			return reservation{}, 0, b.probe
		}
		b.probe = make(chan struct{})
		return reservation{probe: true, settled: b.settled}, 0, nil
	}
	b.refill(b.now())
	n := math.Min(need, b.max) // a query above the bucket size waits for a full bucket
	if b.avail+epsilon >= n {
		b.avail -= n
		b.outstanding += n
		return reservation{points: n, settled: b.settled}, 0, nil
	}
	if b.rate <= 0 {
		return reservation{}, time.Second, nil
	}
	secs := (n - b.avail) / b.rate
	return reservation{}, time.Duration(math.Ceil(secs * float64(time.Second))), nil
}

// acquire waits until need points can be reserved, then reserves them.
func (b *bucket) acquire(ctx context.Context, need float64, sleep func(context.Context, time.Duration) error, onWait func(time.Duration)) (reservation, error) {
	for {
		res, wait, block := b.tryReserve(need)
		switch {
		case block != nil:
			select {
			case <-ctx.Done():
				return reservation{}, ctx.Err()
			case <-block:
			}
		case wait > 0:
			if onWait != nil {
				onWait(wait)
			}
			if err := sleep(ctx, wait); err != nil {
				return reservation{}, err
			}
		default:
			return res, nil
		}
	}
}

// settle releases res and, when the answer carried a cost extension,
// updates the estimate from it.
func (b *bucket) settle(res reservation, op string, cost *costExtension) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	b.refill(now)
	b.outstanding = math.Max(0, b.outstanding-res.points)
	b.settled++
	concurrent := b.settled != res.settled+1
	if res.probe && b.probe != nil {
		close(b.probe)
		b.probe = nil
	}
	if cost == nil {
		// Unknown outcome: the reserved points stay spent.
		return
	}
	if cost.RequestedQueryCost != nil && *cost.RequestedQueryCost > 0 {
		b.requested[op] = *cost.RequestedQueryCost
	}
	ts := cost.ThrottleStatus
	if ts == nil || ts.MaximumAvailable <= 0 {
		return
	}
	fresh := ts.CurrentlyAvailable - b.outstanding
	if b.known && concurrent {
		// Another answer arrived while this one was in flight and may
		// reflect a later state of the bucket: keep the lower figure.
		fresh = math.Min(fresh, b.avail)
	}
	b.known = true
	b.max = ts.MaximumAvailable
	b.rate = ts.RestoreRate
	b.avail = fresh
	b.at = now
	b.readAt = now
}

// status returns the current estimate.
func (b *bucket) status() ThrottleStatus {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refill(b.now())
	if !b.known {
		return ThrottleStatus{}
	}
	return ThrottleStatus{
		MaximumAvailable:   b.max,
		CurrentlyAvailable: b.avail,
		RestoreRate:        b.rate,
		ReadAt:             b.readAt,
	}
}

// costExtension is extensions.cost of an answer.
type costExtension struct {
	RequestedQueryCost *float64 `json:"requestedQueryCost"`
	ActualQueryCost    *float64 `json:"actualQueryCost"`
	ThrottleStatus     *struct {
		MaximumAvailable   float64 `json:"maximumAvailable"`
		CurrentlyAvailable float64 `json:"currentlyAvailable"`
		RestoreRate        float64 `json:"restoreRate"`
	} `json:"throttleStatus"`
}
