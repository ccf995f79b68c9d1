package chaos

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/crossdock/crossdock/internal/demo"
)

func setup(t *testing.T) *demo.Sims {
	t.Helper()
	sims, err := demo.StartSims(demo.SimOptions{SKUs: 4, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sims.Close)
	return sims
}

// With no hub running, every order created in Shopify is lost: no
// warehouse ever receives it.
func TestLostOrdersCountsOrdersNoWarehouseHolds(t *testing.T) {
	t.Parallel()
	sims := setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := sims.CreateOrders(ctx, 3, 1, 0); err != nil {
		t.Fatal(err)
	}
	lost := LostOrders(sims)
	if len(lost) != 3 {
		t.Fatalf("lost = %v, want 3 orders", lost)
	}
	for _, l := range lost {
		if !strings.Contains(l, "never reached a warehouse") {
			t.Errorf("lost %q: want the reason 'never reached a warehouse'", l)
		}
	}
}

func TestRunRejectsBadOptions(t *testing.T) {
	t.Parallel()
	ok := DefaultOptions()
	for _, tc := range []struct {
		name string
		edit func(*Options)
		want string
	}{
		{"no orders", func(o *Options) { o.Orders = 0 }, "orders must be positive"},
		{"no kill interval", func(o *Options) { o.KillEvery = 0 }, "kill interval must be positive"},
		{"rate above 1", func(o *Options) { o.DropRate = 1.5 }, "drop rate must be between 0 and 1"},
		{"negative rate", func(o *Options) { o.ShopifyErrorRate = -0.1 }, "shopify error rate must be between 0 and 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opt := ok
			tc.edit(&opt)
			_, err := Run(context.Background(), opt)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Run: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
