package store_test

import (
	"testing"

	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			storetest.Run(t, func(t *testing.T) *store.Store { return storetest.Open(t, d) })
		})
	}
}
