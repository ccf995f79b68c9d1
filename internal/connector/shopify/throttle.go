package shopify

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/crossdock/crossdock/internal/connector"
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
// and the estimate is reset from the throttleStatus Shopify reports, minus
// what other requests in flight have reserved.
//
// Until Shopify has reported a status, one request at a time is sent to
// learn the bucket's size. Until it has reported an operation's requested
// cost, one request of that operation at a time is sent, reserving the
// static estimate: if the estimate was low, only that request can be
// throttled. A server that reports no cost at all is not paced.
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
	// probes holds, per operation, a channel closed when the one request
	// sent to learn its cost is answered; the key "" is the first request,
	// sent before the bucket's size is known. Other callers wait for it
	// rather than spend points nobody has measured.
	probes map[string]chan struct{}
	// requested is the last requestedQueryCost Shopify reported per
	// operation (the static estimate when an answer reported none).
	requested map[string]float64
	// unmetered is set when the server answered without any cost
	// extension (e.g. a simulator that does not model costs): until a
	// status arrives, requests are not paced.
	unmetered bool
}

// reservation is what one request holds while in flight.
type reservation struct {
	points  float64
	probe   string // key in probes this request answers for
	probing bool
	settled uint64
	// estimate is the static cost estimate of the operation.
	estimate float64
}

// epsilon absorbs floating-point error when comparing points.
const epsilon = 1e-6

func newBucket(now func() time.Time) *bucket {
	return &bucket{now: now, requested: map[string]float64{}, probes: map[string]chan struct{}{}}
}

// expected returns the points op is expected to request: the last
// requestedQueryCost Shopify reported for it, else the static estimate.
// Shopify refuses a query while its requested cost exceeds the available
// points, so that is what must be available before sending. Caller holds
// mu.
func (b *bucket) expected(op string, estimate float64) float64 {
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

// tryReserve reserves the points op is expected to request if they are
// available now. Otherwise it returns how long to wait for them to be
// restored, or a channel to wait on while the first request learns the
// bucket's size (and the operation's cost).
func (b *bucket) tryReserve(op string, estimate float64) (res reservation, wait time.Duration, block <-chan struct{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.known {
		if b.unmetered {
			return reservation{settled: b.settled, estimate: estimate}, 0, nil
		}
		if ch := b.probes[""]; ch != nil {
			return reservation{}, 0, ch
		}
		b.probes[""] = make(chan struct{})
		return reservation{probe: "", probing: true, settled: b.settled, estimate: estimate}, 0, nil
	}
	_, measured := b.requested[op]
	if !measured {
		if ch := b.probes[op]; ch != nil {
			return reservation{}, 0, ch
		}
	}
	b.refill(b.now())
	n := math.Min(b.expected(op, estimate), b.max) // a query above the bucket size waits for a full bucket
	if b.avail+epsilon >= n {
		b.avail -= n
		b.outstanding += n
		res := reservation{points: n, settled: b.settled, estimate: estimate}
		if !measured {
			b.probes[op] = make(chan struct{})
			res.probe, res.probing = op, true
		}
		return res, 0, nil
	}
	if b.rate <= 0 {
		return reservation{}, time.Second, nil
	}
	// Bounded so that the conversion cannot overflow; acquire does not
	// sleep through a wait that long anyway.
	secs := math.Min((n-b.avail)/b.rate, maxBucketWait.Seconds())
	return reservation{}, time.Duration(math.Ceil(secs * float64(time.Second))), nil
}

// maxBucketWait bounds the wait tryReserve reports.
const maxBucketWait = 24 * time.Hour

// acquire waits until the points op is expected to request can be
// reserved, then reserves them. estimate is used until Shopify has reported
// a requested cost for op. A wait longer than maxInlineWait (Shopify's
// buckets refill in well under a minute; only a status with a tiny restore
// rate asks for more) is not slept through: it returns a
// connector.RetryAfter so the job is rescheduled (found by
// FuzzDecodeGraphQLResponse: the client slept for days).
func (b *bucket) acquire(ctx context.Context, op string, estimate float64, sleep func(context.Context, time.Duration) error, onWait func(time.Duration)) (reservation, error) {
	for {
		res, wait, block := b.tryReserve(op, estimate)
		switch {
		case block != nil:
			select {
			case <-ctx.Done():
				return reservation{}, ctx.Err()
			case <-block:
			}
		case wait > maxInlineWait:
			if err := ctx.Err(); err != nil {
				return reservation{}, err
			}
			return reservation{}, connector.RetryAfter(wait, fmt.Errorf("shopify %s: the cost bucket needs %v to refill", op, wait))
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
// updates the estimate from it. answered is true when the server sent a
// GraphQL answer (as opposed to a failure without one).
func (b *bucket) settle(res reservation, op string, cost *costExtension, answered bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	b.refill(now)
	b.outstanding = math.Max(0, b.outstanding-res.points)
	b.settled++
	concurrent := b.settled != res.settled+1
	if ch := b.probes[res.probe]; res.probing && ch != nil {
		close(ch)
		delete(b.probes, res.probe)
	}
	if answered {
		if cost != nil && cost.RequestedQueryCost != nil && *cost.RequestedQueryCost > 0 {
			b.requested[op] = *cost.RequestedQueryCost
		} else if _, ok := b.requested[op]; !ok {
			b.requested[op] = res.estimate
		}
		if cost == nil && !b.known {
			b.unmetered = true
		}
	}
	if cost == nil {
		// No status: the reserved points stay spent.
		return
	}
	ts := cost.ThrottleStatus
	if ts == nil || !(ts.MaximumAvailable > 0) || !(ts.RestoreRate > 0) {
		// Not a usable status (Shopify always reports a bucket that
		// refills): with a restore rate of 0 every later call would wait
		// forever for points (found by FuzzDecodeGraphQLResponse).
		return
	}
	// Shopify's figure is within [0, maximumAvailable]; an answer outside
	// it must not make the client overdraw or wait for ever.
	fresh := math.Max(0, math.Min(ts.CurrentlyAvailable, ts.MaximumAvailable)) - b.outstanding
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
