package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/crossdock/crossdock/internal/wmssim"
)

func init() {
	register("sim wms", "run a simulated warehouse speaking crossdock's REST WMS protocol", runSimWMS)
}

// parseStock reads "SKU=qty,SKU=qty" or "@file.json" ({"SKU": qty}).
func parseStock(s string) (map[string]int, error) {
	out := map[string]int{}
	if s == "" {
		return out, nil
	}
	if strings.HasPrefix(s, "@") {
		b, err := os.ReadFile(s[1:])
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(b, &out); err != nil {
			return nil, fmt.Errorf("stock file %s: %w", s[1:], err)
		}
		return out, nil
	}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		n, err := strconv.Atoi(v)
		if !ok || k == "" || err != nil || n < 0 {
			return nil, fmt.Errorf("stock entry %q is not SKU=quantity", kv)
		}
		out[k] = n
	}
	return out, nil
}

func runSimWMS(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("sim wms", "sim wms [flags]", stderr)
	listen := fs.String("listen", "127.0.0.1:8082", "address to listen on")
	name := fs.String("name", "sim", "warehouse name (prefixes the ids it issues)")
	token := fs.String("token", "", "bearer token required on /v1 calls (empty: none)")
	stock := fs.String("stock", "", `initial on-hand stock: "SKU=qty,SKU=qty" or @file.json`)
	ack := fs.Duration("ack-delay", wmssim.DefaultAckDelay, "time to acknowledge an order")
	pick := fs.Duration("pick-delay", wmssim.DefaultPickDelay, "time from acknowledged to picking")
	pack := fs.Duration("pack-delay", wmssim.DefaultPackDelay, "time from picking to packed")
	ship := fs.Duration("ship-delay", wmssim.DefaultShipDelay, "time from packed to shipped")
	multi := fs.Float64("multi-package-rate", 0.1, "fraction of orders shipped in several packages")
	dup := fs.Float64("duplicate-event-rate", 0, "fraction of events published twice")
	down := fs.Bool("down", false, "start down (every API call answers 503)")
	latency := fs.Duration("latency", 0, "added latency on every API call")
	seed := fs.Uint64("seed", uint64(time.Now().UnixNano()), "random seed")
	if err := parse(fs, args); err != nil {
		return err
	}
	st, err := parseStock(*stock)
	if err != nil {
		return err
	}
	sim := wmssim.New(wmssim.Config{Name: *name, Token: *token, AckDelay: *ack, PickDelay: *pick, PackDelay: *pack, ShipDelay: *ship,
		MultiPackageRate: *multi, Seed: *seed, Stock: st,
		Faults: wmssim.Faults{Down: *down, Latency: *latency, DuplicateEventRate: *dup}})
	sim.Start()
	defer sim.Close()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "WMS simulator %q on http://%s (state: /_sim/state, faults: POST /_sim/faults)\n", *name, ln.Addr())
	go func() { <-ctx.Done(); srv.Close() }()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
