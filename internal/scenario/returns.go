package scenario

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/crossdock/crossdock/internal/shopifysim"
	"github.com/crossdock/crossdock/internal/wmssim"
)

// returnOrder creates the return in Shopify and, when the step says what
// the warehouse received, waits for the hub to announce the return to the
// warehouse that shipped the order and has the warehouse receive it.
func (e *env) returnOrder(ctx context.Context, a *ReturnAction) error {
	o, err := e.shopifyOrder(a.Order)
	if err != nil {
		return err
	}
	var lines []shopifysim.ReturnLineInput
	for _, l := range a.Lines {
		lines = append(lines, shopifysim.ReturnLineInput{SKU: l.SKU, Quantity: l.Quantity})
	}
	r, err := e.shopify.CreateReturn(o.ID, lines)
	if err != nil {
		return fmt.Errorf("create return %s in Shopify: %w", a.ID, err)
	}
	e.returns[a.ID] = r.ID
	if len(a.Receive) == 0 {
		return nil
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		for _, w := range e.whs {
			for _, wr := range w.sim.Returns() {
				if wr.ReturnID == r.ID || strings.HasSuffix(r.ID, "/"+wr.ReturnID) {
					var rl []wmssim.ReturnReceiptLine
					for _, x := range a.Receive {
						code := x.SKU
						if c, ok := w.codes[x.SKU]; ok {
							code = c
						}
						rl = append(rl, wmssim.ReturnReceiptLine{SKU: code, Quantity: x.Quantity, Condition: x.Condition})
					}
					return w.sim.ReceiveReturn(wr.ReturnID, rl)
				}
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("return %s: no warehouse was told to expect it within 30s", a.ID)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (e *env) observeReturn(k *ReturnExpect) observation {
	id := e.returns[k.ID]
	for _, r := range e.shopify.Returns() {
		if r.ID != id {
			continue
		}
		restocked, not := 0, 0
		for _, rfo := range r.ReverseFulfillmentOrders {
			for _, l := range rfo.Lines {
				for _, d := range l.Dispositions {
					switch d.Type {
					case "RESTOCKED":
						restocked += d.Quantity
					case "NOT_RESTOCKED":
						not += d.Quantity
					}
				}
			}
		}
		f := newFacts()
		f.count("restocked", k.Restocked, restocked)
		f.count("not_restocked", k.NotRestocked, not)
		ob := f.result("return", "return "+k.ID)
		ob.observed += " (status " + r.Status + ")"
		return ob
	}
	return fail("return", "return "+k.ID, "not in Shopify")
}
