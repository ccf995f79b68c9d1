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
	"time"

	"github.com/crossdock/crossdock/internal/shopifysim"
)

func init() {
	register("sim shopify", "run the Shopify Admin GraphQL simulator (2026-07 schema, webhooks, throttling, faults)", runSimShopify)
}

func runSimShopify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("sim shopify", "sim shopify [flags]", stderr)
	listen := fs.String("listen", "127.0.0.1:8081", "address to listen on")
	shop := fs.String("shop", "sim.myshopify.com", "shop domain")
	token := fs.String("token", "shpat_sim", "access token required in X-Shopify-Access-Token")
	secret := fs.String("secret", "sim-secret", "client secret that signs webhooks")
	bucket := fs.Float64("bucket", shopifysim.DefaultBucketSize, "cost bucket size, points")
	restore := fs.Float64("restore-rate", shopifysim.DefaultRestoreRate, "bucket restore rate, points/s (Standard 100, Advanced 200, Plus 1000)")
	dup := fs.Float64("duplicate-rate", 0, "fraction of webhooks delivered twice")
	reorder := fs.Float64("reorder-rate", 0, "fraction of webhooks delivered late, out of order")
	drop := fs.Float64("drop-rate", 0, "fraction of webhooks never delivered")
	r429 := fs.Float64("429-rate", 0, "fraction of API calls answered 429")
	r5xx := fs.Float64("5xx-rate", 0, "fraction of API calls answered 503")
	retryBase := fs.Duration("webhook-retry-delay", shopifysim.DefaultWebhookRetryDelay, "first retry delay of a failed webhook delivery (doubles, 8 retries)")
	skus := fs.Int("skus", 0, "create this many products with one variant each (SKU SIM-0001…)")
	products := fs.String("products", "", "JSON file of products to create: [{\"title\",\"variants\":[{\"sku\",\"barcode\",\"price\"}]}]")
	seed := fs.Uint64("seed", uint64(time.Now().UnixNano()), "random seed for faults")
	if err := parse(fs, args); err != nil {
		return err
	}
	sim := shopifysim.New(shopifysim.Config{ShopDomain: *shop, AccessToken: *token, WebhookSecret: *secret, BucketSize: *bucket, RestoreRate: *restore,
		Seed: *seed, WebhookRetryBaseDelay: *retryBase,
		Faults: shopifysim.Faults{WebhookDuplicateRate: *dup, WebhookReorderRate: *reorder, WebhookDropRate: *drop, HTTP429Rate: *r429, HTTP5xxRate: *r5xx}})
	defer sim.Close()
	var in []shopifysim.ProductInput
	if *products != "" {
		b, err := os.ReadFile(*products)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, &in); err != nil {
			return fmt.Errorf("products file %s: %w", *products, err)
		}
	}
	for i := 1; i <= *skus; i++ {
		in = append(in, shopifysim.ProductInput{Title: fmt.Sprintf("Product %04d", i), Variants: []shopifysim.VariantInput{{SKU: fmt.Sprintf("SIM-%04d", i), Price: "10.00"}}})
	}
	if len(in) > 0 {
		if _, err := sim.AddProducts(in); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "Shopify simulator for %s on http://%s%s (state: /_sim/state, faults: POST /_sim/faults)\n", *shop, ln.Addr(), shopifysim.GraphQLPath)
	go func() { <-ctx.Done(); srv.Close() }()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
