package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Discrepancy severities.
const (
	SeverityInfo     = "info"
	SeverityWarning  = "warning"
	SeverityCritical = "critical"
)

// Discrepancy is something reconciliation found wrong (or an SLA timer that
// ran out): what, how bad, which entities, what to do about it and what the
// hub already did. Key is its stable identity (kind + entity, e.g.
// "order.missing:gid://shopify/Order/1"); at most one discrepancy per shop
// and key is open at a time. A discrepancy seen again by a later run is
// touched (LastSeen, Count); one no longer seen is closed (ClosedAt).
type Discrepancy struct {
	ID       int64  `json:"id"`
	Shop     string `json:"shop"`
	Kind     string `json:"kind"`
	Severity string `json:"severity"`
	Key      string `json:"key"`
	// Entities name what is involved: "order", "order_name",
	// "external_ref", "warehouse", "shipment", "sku", "location", "topic"…
	Entities     map[string]string `json:"entities"`
	Message      string            `json:"message"`
	SuggestedFix string            `json:"suggested_fix,omitempty"`
	// AutoHeal says what the hub did about it ("" = nothing: an operator
	// must act).
	AutoHeal  string     `json:"auto_heal,omitempty"`
	FirstSeen time.Time  `json:"first_seen"`
	LastSeen  time.Time  `json:"last_seen"`
	ClosedAt  *time.Time `json:"closed_at,omitempty"`
	// Count is how many reconciliation runs saw it.
	Count int64 `json:"count"`
}

// Open reports whether the discrepancy is still open.
func (d *Discrepancy) Open() bool { return d.ClosedAt == nil }

// OpenOrTouchDiscrepancy records that d was seen at: the open discrepancy
// with d's shop and key is touched (last_seen, count + 1, and the latest
// severity, message, entities, fix; AutoHeal only when d has one), or a new
// one is opened with first_seen = last_seen = at. It returns the row's id
// and whether it was opened now.
func OpenOrTouchDiscrepancy(ctx context.Context, q Querier, d Discrepancy, at time.Time) (id int64, opened bool, err error) {
	if d.Shop == "" || d.Kind == "" || d.Key == "" {
		return 0, false, fmt.Errorf("store: discrepancy needs a shop, a kind and a key (got %q, %q, %q)", d.Shop, d.Kind, d.Key)
	}
	if d.Severity == "" {
		d.Severity = SeverityWarning
	}
	ents, err := json.Marshal(d.Entities)
	if err != nil {
		return 0, false, fmt.Errorf("store: discrepancy entities: %w", err)
	}
	if d.Entities == nil {
		ents = []byte("{}")
	}
	err = q.QueryRowContext(ctx, `UPDATE discrepancy SET last_seen = $1, count = count + 1, severity = $2, message = $3,
		entities = $4, suggested_fix = $5, auto_heal = CASE WHEN $6 = '' THEN auto_heal ELSE $6 END
		WHERE shop = $7 AND key = $8 AND closed_at IS NULL RETURNING id`,
		at.UTC(), d.Severity, d.Message, string(ents), d.SuggestedFix, d.AutoHeal, d.Shop, d.Key).Scan(&id)
	if err == nil {
		return id, false, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, false, fmt.Errorf("store: touch discrepancy %s: %w", d.Key, err)
	}
	err = q.QueryRowContext(ctx, `INSERT INTO discrepancy (shop, kind, severity, key, entities, message, suggested_fix, auto_heal, first_seen, last_seen, count)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$9,1) RETURNING id`,
		d.Shop, d.Kind, d.Severity, d.Key, string(ents), d.Message, d.SuggestedFix, d.AutoHeal, at.UTC()).Scan(&id)
	if err != nil {
		return 0, false, fmt.Errorf("store: open discrepancy %s: %w", d.Key, err)
	}
	return id, true, nil
}

// CloseUnseenDiscrepancies closes, at at, the shop's open discrepancies of
// the given kinds that were last seen before seenSince: a run that checked
// those kinds and started at seenSince did not see them again. It returns
// how many it closed. Kinds must not be empty (a run closes only what it
// checked).
func CloseUnseenDiscrepancies(ctx context.Context, q Querier, shop string, kinds []string, seenSince, at time.Time) (int64, error) {
	if len(kinds) == 0 {
		return 0, nil
	}
	args := []any{at.UTC(), shop, seenSince.UTC()}
	ph := make([]string, len(kinds))
	for i, k := range kinds {
		args = append(args, k)
		ph[i] = fmt.Sprintf("$%d", i+4)
	}
	res, err := q.ExecContext(ctx, `UPDATE discrepancy SET closed_at = $1 WHERE shop = $2 AND closed_at IS NULL AND last_seen < $3
		AND kind IN (`+strings.Join(ph, ",")+`)`, args...)
	if err != nil {
		return 0, fmt.Errorf("store: close discrepancies: %w", err)
	}
	return res.RowsAffected()
}

// CloseDiscrepancy closes the open discrepancy with key, if any, and
// reports whether one was open.
func CloseDiscrepancy(ctx context.Context, q Querier, shop, key string, at time.Time) (bool, error) {
	res, err := q.ExecContext(ctx, `UPDATE discrepancy SET closed_at = $1 WHERE shop = $2 AND key = $3 AND closed_at IS NULL`, at.UTC(), shop, key)
	if err != nil {
		return false, fmt.Errorf("store: close discrepancy %s: %w", key, err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// DiscrepancyFilter selects discrepancies for ListDiscrepancies. Zero
// fields select everything.
type DiscrepancyFilter struct {
	// Shop limits to one shop.
	Shop string
	// Kind limits to one kind.
	Kind string
	// State is "open", "closed" or "" (both).
	State string
	// Key limits to one identity (its whole history).
	Key string
	// BeforeID pages backwards: only ids below it (0 = from the newest).
	BeforeID int64
	// Limit caps the rows (default 100).
	Limit int
}

const discrepancyCols = `id, shop, kind, severity, key, entities, message, suggested_fix, auto_heal, first_seen, last_seen, closed_at, count`

func scanDiscrepancy(sc interface{ Scan(...any) error }) (*Discrepancy, error) {
	var d Discrepancy
	var ents string
	var closed sql.NullTime
	if err := sc.Scan(&d.ID, &d.Shop, &d.Kind, &d.Severity, &d.Key, &ents, &d.Message, &d.SuggestedFix, &d.AutoHeal, &d.FirstSeen, &d.LastSeen, &closed, &d.Count); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(ents), &d.Entities); err != nil {
		return nil, fmt.Errorf("store: discrepancy %d entities: %w", d.ID, err)
	}
	d.FirstSeen, d.LastSeen = d.FirstSeen.UTC(), d.LastSeen.UTC()
	if closed.Valid {
		t := closed.Time.UTC()
		d.ClosedAt = &t
	}
	return &d, nil
}

// ListDiscrepancies lists discrepancies, newest first (by id). The
// dashboard and the API page with BeforeID.
func ListDiscrepancies(ctx context.Context, q Querier, f DiscrepancyFilter) ([]Discrepancy, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	var state string
	switch f.State {
	case "open":
		state = ` AND closed_at IS NULL`
	case "closed":
		state = ` AND closed_at IS NOT NULL`
	case "":
	default:
		return nil, fmt.Errorf("store: discrepancy state %q is not open, closed or empty", f.State)
	}
	rows, err := q.QueryContext(ctx, `SELECT `+discrepancyCols+` FROM discrepancy
		WHERE ($1 = '' OR shop = $1) AND ($2 = '' OR kind = $2) AND ($3 = '' OR key = $3) AND ($4 = 0 OR id < $4)`+state+`
		ORDER BY id DESC LIMIT $5`, f.Shop, f.Kind, f.Key, f.BeforeID, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("store: list discrepancies: %w", err)
	}
	defer rows.Close()
	var out []Discrepancy
	for rows.Next() {
		d, err := scanDiscrepancy(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *d)
	}
	return out, rows.Err()
}

// GetDiscrepancy reads one discrepancy, or ErrNotFound.
func GetDiscrepancy(ctx context.Context, q Querier, id int64) (*Discrepancy, error) {
	d, err := scanDiscrepancy(q.QueryRowContext(ctx, `SELECT `+discrepancyCols+` FROM discrepancy WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: discrepancy %d: %w", id, err)
	}
	return d, nil
}

// CountOpenDiscrepanciesByKind counts open discrepancies per kind ("" =
// all shops).
func CountOpenDiscrepanciesByKind(ctx context.Context, q Querier, shop string) (map[string]int, error) {
	return countBy(ctx, q, `SELECT kind, COUNT(*) FROM discrepancy WHERE ($1 = '' OR shop = $1) AND closed_at IS NULL GROUP BY kind`, shop)
}

// DiscrepancyTotals counts discrepancies ever opened and still open ("" =
// all shops).
func DiscrepancyTotals(ctx context.Context, q Querier, shop string) (opened, open int, err error) {
	err = q.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN closed_at IS NULL THEN 1 ELSE 0 END), 0) FROM discrepancy
		WHERE ($1 = '' OR shop = $1)`, shop).Scan(&opened, &open)
	if err != nil {
		return 0, 0, fmt.Errorf("store: discrepancy totals: %w", err)
	}
	return opened, open, nil
}

// DiscrepancyGroup is the state of a shop's discrepancies of one kind, as
// the alerts see it.
type DiscrepancyGroup struct {
	Shop string `json:"shop"`
	Kind string `json:"kind"`
	// Open is how many are open; Severity the worst of them.
	Open     int    `json:"open"`
	Severity string `json:"severity"`
	// Sample is one open discrepancy's message, for the notice's text.
	Sample string `json:"sample"`
	// OldestOpen is the first_seen of the oldest open one.
	OldestOpen time.Time `json:"oldest_open"`
}

// OpenDiscrepancyGroups returns, per shop and kind with open
// discrepancies, their count, worst severity and one message.
func OpenDiscrepancyGroups(ctx context.Context, q Querier) ([]DiscrepancyGroup, error) {
	rows, err := q.QueryContext(ctx, `SELECT shop, kind, COUNT(*),
		MAX(CASE severity WHEN 'critical' THEN 3 WHEN 'warning' THEN 2 ELSE 1 END), MIN(message), MIN(first_seen)
		FROM discrepancy WHERE closed_at IS NULL GROUP BY shop, kind ORDER BY shop, kind`)
	if err != nil {
		return nil, fmt.Errorf("store: discrepancy groups: %w", err)
	}
	defer rows.Close()
	var out []DiscrepancyGroup
	for rows.Next() {
		var g DiscrepancyGroup
		var sev int
		var oldest sql.NullString
		if err := rows.Scan(&g.Shop, &g.Kind, &g.Open, &sev, &g.Sample, &oldest); err != nil {
			return nil, err
		}
		g.OldestOpen, _ = aggTime(oldest)
		g.Severity = map[int]string{3: SeverityCritical, 2: SeverityWarning}[sev]
		if g.Severity == "" {
			g.Severity = SeverityInfo
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// DiscrepanciesOpenedSince counts a shop's discrepancies of kind opened at
// or after since (closed or not).
func DiscrepanciesOpenedSince(ctx context.Context, q Querier, shop, kind string, since time.Time) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM discrepancy WHERE shop = $1 AND kind = $2 AND first_seen >= $3`, shop, kind, since.UTC()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: discrepancies opened since: %w", err)
	}
	return n, nil
}

// Alert notices.
const (
	NoticeFiring   = "firing"
	NoticeResolved = "resolved"
)

// Alert is one notice sent on one channel about a group of discrepancies
// (a shop and a kind).
type Alert struct {
	ID       int64  `json:"id"`
	Shop     string `json:"shop"`
	Channel  string `json:"channel"`
	GroupKey string `json:"group_key"`
	Kind     string `json:"kind"`
	// Notice is NoticeFiring or NoticeResolved.
	Notice string `json:"notice"`
	// OpenCount is how many of the group were open when it was sent;
	// NewCount how many opened since the group's previous notice.
	OpenCount int       `json:"open_count"`
	NewCount  int       `json:"new_count"`
	Message   string    `json:"message"`
	At        time.Time `json:"at"`
	// Error is the delivery error ("" = delivered).
	Error string `json:"error,omitempty"`
}

// RecordAlert stores an alert notice.
func RecordAlert(ctx context.Context, q Querier, a Alert) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, `INSERT INTO alert (shop, channel, group_key, kind, notice, open_count, new_count, message, at, error)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) RETURNING id`,
		a.Shop, a.Channel, a.GroupKey, a.Kind, a.Notice, a.OpenCount, a.NewCount, a.Message, a.At.UTC(), a.Error).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store: record alert: %w", err)
	}
	return id, nil
}

const alertCols = `id, shop, channel, group_key, kind, notice, open_count, new_count, message, at, error`

func scanAlert(sc interface{ Scan(...any) error }) (*Alert, error) {
	var a Alert
	if err := sc.Scan(&a.ID, &a.Shop, &a.Channel, &a.GroupKey, &a.Kind, &a.Notice, &a.OpenCount, &a.NewCount, &a.Message, &a.At, &a.Error); err != nil {
		return nil, err
	}
	a.At = a.At.UTC()
	return &a, nil
}

// ListAlerts lists alert notices newest first ("" = all shops).
func ListAlerts(ctx context.Context, q Querier, shop string, limit int) ([]Alert, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := q.QueryContext(ctx, `SELECT `+alertCols+` FROM alert WHERE ($1 = '' OR shop = $1) ORDER BY id DESC LIMIT $2`, shop, limit)
	if err != nil {
		return nil, fmt.Errorf("store: list alerts: %w", err)
	}
	defer rows.Close()
	var out []Alert
	for rows.Next() {
		a, err := scanAlert(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *a)
	}
	return out, rows.Err()
}

// LastAlert returns the latest notice of a group on a channel, or
// ErrNotFound.
func LastAlert(ctx context.Context, q Querier, shop, groupKey, channel string) (*Alert, error) {
	a, err := scanAlert(q.QueryRowContext(ctx, `SELECT `+alertCols+` FROM alert WHERE shop = $1 AND group_key = $2 AND channel = $3
		ORDER BY id DESC LIMIT 1`, shop, groupKey, channel))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: last alert: %w", err)
	}
	return a, nil
}

// FiringAlertGroups lists the (shop, group, channel) whose latest notice is
// "firing": the groups that owe a "resolved" notice once they have no open
// discrepancy.
func FiringAlertGroups(ctx context.Context, q Querier) ([]Alert, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+alertCols+` FROM alert a WHERE a.notice = 'firing'
		AND a.id = (SELECT MAX(b.id) FROM alert b WHERE b.shop = a.shop AND b.group_key = a.group_key AND b.channel = a.channel)
		ORDER BY a.id`)
	if err != nil {
		return nil, fmt.Errorf("store: firing alerts: %w", err)
	}
	defer rows.Close()
	var out []Alert
	for rows.Next() {
		a, err := scanAlert(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *a)
	}
	return out, rows.Err()
}

// AlertCount is the number of notices per channel, notice and outcome.
type AlertCount struct {
	Channel string
	Notice  string
	// Delivered is false for notices whose delivery failed.
	Delivered bool
	N         int
}

// CountAlerts counts the alert notices recorded, for /metrics.
func CountAlerts(ctx context.Context, q Querier) ([]AlertCount, error) {
	rows, err := q.QueryContext(ctx, `SELECT channel, notice, CASE WHEN error = '' THEN 1 ELSE 0 END, COUNT(*) FROM alert GROUP BY 1, 2, 3`)
	if err != nil {
		return nil, fmt.Errorf("store: count alerts: %w", err)
	}
	defer rows.Close()
	var out []AlertCount
	for rows.Next() {
		var c AlertCount
		var ok int
		if err := rows.Scan(&c.Channel, &c.Notice, &ok, &c.N); err != nil {
			return nil, err
		}
		c.Delivered = ok == 1
		out = append(out, c)
	}
	return out, rows.Err()
}

// TryLease takes or renews the lease (shop, name) for holder until now +
// ttl, if it is free, expired or already holder's. It is how one instance
// among several runs a periodic check: a plain row updated with a
// conditional upsert, so it works the same on SQLite and PostgreSQL, and a
// crashed holder blocks the others only until its lease expires.
func TryLease(ctx context.Context, q Querier, shop, name, holder string, now time.Time, ttl time.Duration) (bool, error) {
	exp := now.Add(ttl).UnixMilli()
	res, err := q.ExecContext(ctx, `INSERT INTO job_lease (shop, name, holder, expires_at) VALUES ($1,$2,$3,$4)
		ON CONFLICT (shop, name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE job_lease.holder = excluded.holder OR job_lease.expires_at < $5`, shop, name, holder, exp, now.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("store: lease %s: %w", name, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: lease %s: %w", name, err)
	}
	return n > 0, nil
}

// ReleaseLease gives the lease up if holder has it.
func ReleaseLease(ctx context.Context, q Querier, shop, name, holder string) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM job_lease WHERE shop = $1 AND name = $2 AND holder = $3`, shop, name, holder); err != nil {
		return fmt.Errorf("store: release lease %s: %w", name, err)
	}
	return nil
}

// OverdueOrder is a warehouse order waiting for a step past its deadline.
type OverdueOrder struct {
	ExternalRef string    `json:"external_ref"`
	OrderID     string    `json:"order_id"`
	OrderName   string    `json:"order_name"`
	Warehouse   string    `json:"warehouse"`
	Progress    string    `json:"progress"`
	Since       time.Time `json:"since"`
}

func overdue(ctx context.Context, q Querier, query string, args ...any) ([]OverdueOrder, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: overdue orders: %w", err)
	}
	defer rows.Close()
	var out []OverdueOrder
	for rows.Next() {
		var o OverdueOrder
		if err := rows.Scan(&o.ExternalRef, &o.OrderID, &o.OrderName, &o.Warehouse, &o.Progress, &o.Since); err != nil {
			return nil, err
		}
		o.Since = o.Since.UTC()
		out = append(out, o)
	}
	return out, rows.Err()
}

// UnacknowledgedOrders lists a shop's warehouse orders transmitted to the
// WMS before sentBefore that it has not acknowledged (nor moved past
// acknowledgement), not cancelled.
func UnacknowledgedOrders(ctx context.Context, q Querier, shop string, sentBefore time.Time) ([]OverdueOrder, error) {
	return overdue(ctx, q, `SELECT w.external_ref, w.order_id, COALESCE(o.name, ''), w.warehouse, w.progress, w.sent_at
		FROM warehouse_order w LEFT JOIN shop_order o ON o.shop = w.shop AND o.order_id = w.order_id
		WHERE w.shop = $1 AND w.sent_at IS NOT NULL AND w.sent_at < $2 AND w.acknowledged_at IS NULL AND w.cancelled_at IS NULL
		AND w.progress = 'sent' ORDER BY w.sent_at`, shop, sentBefore.UTC())
}

// UnansweredRequests lists a shop's warehouse orders created before
// createdBefore whose fulfillment request is not accepted yet (progress new
// or routed), not cancelled.
func UnansweredRequests(ctx context.Context, q Querier, shop string, createdBefore time.Time) ([]OverdueOrder, error) {
	return overdue(ctx, q, `SELECT w.external_ref, w.order_id, COALESCE(o.name, ''), w.warehouse, w.progress, w.created_at
		FROM warehouse_order w LEFT JOIN shop_order o ON o.shop = w.shop AND o.order_id = w.order_id
		WHERE w.shop = $1 AND w.created_at < $2 AND w.cancelled_at IS NULL AND w.progress IN ('new', 'routed')
		ORDER BY w.created_at`, shop, createdBefore.UTC())
}

// CancelledButAtWarehouse lists warehouse orders of orders cancelled in
// Shopify (shop_order.cancelled_at) that the warehouse still holds:
// transmitted, not shipped, not cancelled at the warehouse.
func CancelledButAtWarehouse(ctx context.Context, q Querier, shop string) ([]OverdueOrder, error) {
	return overdue(ctx, q, `SELECT w.external_ref, w.order_id, o.name, w.warehouse, w.progress, o.cancelled_at
		FROM warehouse_order w JOIN shop_order o ON o.shop = w.shop AND o.order_id = w.order_id
		WHERE w.shop = $1 AND o.cancelled_at IS NOT NULL AND w.cancelled_at IS NULL
		AND w.progress IN ('sent', 'acknowledged', 'picking', 'packed') ORDER BY o.cancelled_at`, shop)
}

// ShipmentAt is a stored shipment with the times reconciliation needs.
type ShipmentAt struct {
	Shipment
	ShippedAt  time.Time `json:"shipped_at"`
	ReceivedAt time.Time `json:"received_at"`
}

func shipmentsAt(ctx context.Context, q Querier, where string, args ...any) ([]ShipmentAt, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+shipCols+`, shipped_at, received_at FROM shipment WHERE `+where+` ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: shipments: %w", err)
	}
	defer rows.Close()
	var out []ShipmentAt
	for rows.Next() {
		var s ShipmentAt
		var payload string
		var fa sql.NullTime
		if err := rows.Scan(&s.ID, &s.Shop, &s.Warehouse, &payload, &s.FulfillmentID, &fa, &s.ShippedAt, &s.ReceivedAt); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(payload), &s.Shipment.Shipment); err != nil {
			return nil, fmt.Errorf("store: shipment %d payload: %w", s.ID, err)
		}
		if fa.Valid {
			t := fa.Time.UTC()
			s.FulfilledAt = &t
		}
		s.ShippedAt, s.ReceivedAt = s.ShippedAt.UTC(), s.ReceivedAt.UTC()
		out = append(out, s)
	}
	return out, rows.Err()
}

// UnfulfilledShipments lists a shop's shipments stored before
// receivedBefore that have no Shopify fulfillment yet.
func UnfulfilledShipments(ctx context.Context, q Querier, shop string, receivedBefore time.Time) ([]ShipmentAt, error) {
	return shipmentsAt(ctx, q, `shop = $1 AND fulfillment_id = '' AND received_at < $2`, shop, receivedBefore.UTC())
}

// ShipmentsReceivedSince lists a shop's shipments stored at or after since.
func ShipmentsReceivedSince(ctx context.Context, q Querier, shop string, since time.Time) ([]ShipmentAt, error) {
	return shipmentsAt(ctx, q, `shop = $1 AND received_at >= $2`, shop, since.UTC())
}

// StockRefreshedAt returns, per warehouse of the shop, the newest snapshot
// time of its stock levels: when the hub last refreshed its stock.
func StockRefreshedAt(ctx context.Context, q Querier, shop string) (map[string]time.Time, error) {
	rows, err := q.QueryContext(ctx, `SELECT warehouse, MAX(as_of) FROM stock_level WHERE shop = $1 GROUP BY warehouse`, shop)
	if err != nil {
		return nil, fmt.Errorf("store: stock refresh times: %w", err)
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var wh string
		var at sql.NullString
		if err := rows.Scan(&wh, &at); err != nil {
			return nil, err
		}
		if t, ok := aggTime(at); ok {
			out[wh] = t
		}
	}
	return out, rows.Err()
}

// KnownOrders returns the shop's stored orders among ids, by id.
func KnownOrders(ctx context.Context, q Querier, shop string, ids []string) (map[string]Order, error) {
	out := map[string]Order{}
	for start := 0; start < len(ids); start += 200 {
		part := ids[start:min(start+200, len(ids))]
		args := []any{shop}
		ph := make([]string, len(part))
		for i, id := range part {
			args = append(args, id)
			ph[i] = fmt.Sprintf("$%d", i+2)
		}
		rows, err := q.QueryContext(ctx, `SELECT `+orderCols+` FROM shop_order WHERE shop = $1 AND order_id IN (`+strings.Join(ph, ",")+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("store: known orders: %w", err)
		}
		for rows.Next() {
			o, err := scanOrder(rows)
			if err != nil {
				rows.Close()
				return nil, err
			}
			out[o.OrderID] = *o
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// aggTime reads a time an aggregate (MIN, MAX) returned: text on SQLite,
// a time on PostgreSQL (which database/sql renders as RFC 3339 in a
// string).
func aggTime(s sql.NullString) (time.Time, bool) {
	if !s.Valid || s.String == "" {
		return time.Time{}, false
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999-07:00", "2006-01-02 15:04:05.999999999Z07:00",
		"2006-01-02 15:04:05.999999999 -0700 MST", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, s.String); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}
