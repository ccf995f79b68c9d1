package stock

import (
	"cmp"
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/tenant"
)

// KindLineRejected is the discrepancy kind of a line of a warehouse's stock
// report that the hub quarantined instead of applying: a snapshot line the
// connector rejected (no SKU, a negative quantity, a SKU listed twice…), a
// snapshot item no SKU maps to, or a movement of such an item. The SKU's
// last figure is kept (a full snapshot does not zero it). Its key is
// "stock.line_rejected:<warehouse>:<item code>" ("#<line>" for a line
// naming no item, "movement:<id>" for a movement). The stock engine closes
// it when a later snapshot (as of the line's time or after) carries a valid
// line for the item, or is a full one that no longer lists the item (it
// holds none); reconciliation never closes it.
const KindLineRejected = "stock.line_rejected"

// quarantined is one line of a warehouse's stock report left out of the
// figures.
type quarantined struct {
	// item is the warehouse's item code ("" when the line named none).
	item string
	// line is the line's index in the snapshot, -1 when unknown.
	line int
	// movement is the movement's id, for a movement.
	movement string
	// delta and at describe a movement.
	delta int
	at    time.Time
	// skus are the hub's SKUs whose figure is kept because of it.
	skus []string
	// reason says what is wrong, for an operator.
	reason string
}

// key is the discrepancy key of q at warehouse wh.
func (q quarantined) key(wh string) string {
	switch {
	case q.movement != "":
		return KindLineRejected + ":" + wh + ":movement:" + q.movement
	case q.item == "":
		return KindLineRejected + ":" + wh + ":#" + strconv.Itoa(q.line)
	default:
		return KindLineRejected + ":" + wh + ":" + q.item
	}
}

// discrepancy is the discrepancy recording q, from a snapshot as of asOf
// for a snapshot line.
func (q quarantined) discrepancy(shop string, wh *tenant.Warehouse, asOf time.Time) store.Discrepancy {
	name := cmp.Or(wh.Name, wh.ID)
	ents := map[string]string{"warehouse": wh.ID}
	if q.item != "" {
		ents["item"] = q.item
	}
	if len(q.skus) > 0 {
		ents["sku"] = strings.Join(q.skus, ",")
	}
	d := store.Discrepancy{Shop: shop, Kind: KindLineRejected, Severity: store.SeverityWarning, Key: q.key(wh.ID), Entities: ents}
	if q.movement != "" {
		ents["movement"] = q.movement
		ents["at"] = q.at.UTC().Format(time.RFC3339Nano)
		d.Message = fmt.Sprintf("warehouse %s: stock movement %s of item %s (%+d at %s) quarantined: %s; not counted, last figure kept",
			name, q.movement, q.item, q.delta, q.at.UTC().Format(time.RFC3339), q.reason)
		d.SuggestedFix = fmt.Sprintf("map item %s to a SKU (crossdock mapping); the movement is not replayed: the next snapshot of %s after the fix carries it and closes this", q.item, name)
		return d
	}
	ents["as_of"] = asOf.UTC().Format(time.RFC3339Nano)
	item := "item " + q.item
	if q.item == "" {
		item = "a line without item code"
	}
	if q.line >= 0 {
		ents["line"] = strconv.Itoa(q.line)
		item += " (line " + strconv.Itoa(q.line) + ")"
	}
	d.Message = fmt.Sprintf("warehouse %s: stock %s in the snapshot as of %s quarantined: %s; last figure kept",
		name, item, asOf.UTC().Format(time.RFC3339), q.reason)
	d.SuggestedFix = fmt.Sprintf("have %s correct the line in its stock report (or fix the item's mapping in crossdock); closes by itself when a snapshot carries a valid line for the item", name)
	return d
}

// quarantine records the quarantined lines of a warehouse's snapshot as
// of asOf (or its movements) as open discrepancies, and closes the
// warehouse's open ones this snapshot settles, when it is as of the
// discrepancy's time or later: an item with a valid line (valid[item] true:
// mapped and accepted), an item a full snapshot that zeroes missing SKUs
// (zeroes) no longer lists (absent from valid: it holds none), or a line
// without item code this snapshot no longer rejects. valid lists every item
// the snapshot carries, false for a quarantined one; it is nil for
// movements (nothing is closed).
func (w *Worker) quarantine(ctx context.Context, tx *store.Tx, shop string, wh *tenant.Warehouse, asOf time.Time, bad []quarantined, valid map[string]bool, zeroes bool) error {
	now := w.now()
	touched := make(map[string]bool, len(bad))
	for _, q := range bad {
		d := q.discrepancy(shop, wh, asOf)
		if touched[d.Key] {
			continue
		}
		touched[d.Key] = true
		w.log().Warn("stock line quarantined", "shop", shop, "warehouse", wh.ID, "key", d.Key, "reason", q.reason)
		if _, _, err := store.OpenOrTouchDiscrepancy(ctx, tx, d, now); err != nil {
			return err
		}
	}
	if valid == nil {
		return nil
	}
	var before int64
	for {
		open, err := store.ListDiscrepancies(ctx, tx, store.DiscrepancyFilter{Shop: shop, Kind: KindLineRejected, State: "open", BeforeID: before, Limit: 500})
		if err != nil {
			return err
		}
		for _, d := range open {
			before = d.ID
			e := d.Entities
			if e["warehouse"] != wh.ID || touched[d.Key] {
				continue
			}
			since, err := time.Parse(time.RFC3339Nano, cmp.Or(e["as_of"], e["at"]))
			if err != nil || since.After(asOf) {
				continue // from a newer report than this snapshot
			}
			item := e["item"]
			ok, listed := valid[item]
			settled := item != "" && (ok || (!listed && zeroes))
			if item == "" && e["movement"] == "" {
				settled = true // a line without code this snapshot no longer rejects
			}
			if !settled {
				continue
			}
			if _, err := store.CloseDiscrepancy(ctx, tx, shop, d.Key, now); err != nil {
				return err
			}
		}
		if len(open) < 500 {
			return nil
		}
	}
}
