package web_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/crossdock/crossdock/internal/demo"
)

// TestInteractiveDemoServesDashboard: `crossdock demo` (interactive) serves
// the dashboard, the API under /api/v1/ and /metrics on the address it
// prints.
func TestInteractiveDemoServesDashboard(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := demo.Run(ctx, demo.Options{Listen: "127.0.0.1:0", Orders: 2}, pw)
		pw.CloseWithError(err)
		done <- err
	}()
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		re := regexp.MustCompile(`hub on (http://\S+)`)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
		close(addr)
	}()
	base, ok := <-addr
	if !ok {
		t.Fatalf("the demo printed no address: %v", <-done)
	}
	for _, tc := range []struct{ path, ctype, contains string }{
		{"/overview", "text/html", "Orders per hour"},
		{"/", "text/html", "orders</b>"},
		{"/deadletters", "text/html", "Dead letters"},
		{"/api/v1/overview", "application/json", `"orders_per_hour"`},
		{"/api/v1/orders", "application/json", `"orders"`},
		{"/api/v1/connectors", "application/json", `"warehouse"`},
		{"/metrics", "text/plain", "crossdock_"},
	} {
		resp, err := http.Get(base + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), tc.ctype) || !strings.Contains(string(body), tc.contains) {
			t.Errorf("GET %s = %d %s, want %s containing %q:\n%.2000s", tc.path, resp.StatusCode, resp.Header.Get("Content-Type"), tc.ctype, tc.contains, body)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("demo.Run after interrupt: %v", err)
	}
}
