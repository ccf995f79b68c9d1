package main

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/crossdock/crossdock/internal/demo"
)

// TestSurvivesSIGKILL runs the hub as a separate process, kills it with
// SIGKILL in the middle of a 1,000-order run, restarts it, and checks in the
// simulators that every order shipped once and was fulfilled once, with
// tracking.
func TestSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs 1,000 orders")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "crossdock")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("build: %v", err)
	}

	sims, err := demo.StartSims(demo.SimOptions{DuplicateRate: 0.2, ReorderRate: 0.1, RestoreRate: 20000, BucketSize: 40000,
		Seed: 7, WebhookRetryBase: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sims.Close)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := sims.HubConfig(addr, filepath.Join(dir, "hub.db"))
	raw, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "crossdock.yaml")
	if err := os.WriteFile(cfgPath, raw, 0o600); err != nil {
		t.Fatal(err)
	}

	logPath := filepath.Join(dir, "hub.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	start := func() *exec.Cmd {
		cmd := exec.Command(bin, "serve", "--config", cfgPath, "--job-timeout", "5s", "--log-level", "warn")
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(60 * time.Second)
		for time.Now().Before(deadline) {
			if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					return cmd
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("hub did not come up; log:\n%s", readLog(logPath))
		return nil
	}
	hub := start()
	t.Cleanup(func() { _ = hub.Process.Kill(); _, _ = hub.Process.Wait() })

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	if err := sims.WaitStockPublished(ctx); err != nil {
		t.Fatal(err)
	}

	const orders = 1000
	done := make(chan error, 1)
	go func() {
		_, err := sims.CreateOrders(ctx, orders, 8, 150)
		done <- err
	}()
	// Kill the hub once a good share of the orders is in flight.
	for {
		sum := sims.Summarize(orders)
		if sum.OrdersCreated >= 300 && sum.OrdersFulfilled >= 100 {
			t.Logf("SIGKILL with %d created, %d at the warehouses, %d fulfilled", sum.OrdersCreated,
				sum.PerWarehouse["paris"].Orders+sum.PerWarehouse["newark"].Orders, sum.OrdersFulfilled)
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("never reached the kill point: %+v", sum)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := hub.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_, _ = hub.Process.Wait()
	time.Sleep(500 * time.Millisecond)
	hub = start()

	if err := <-done; err != nil {
		t.Fatalf("creating orders: %v", err)
	}
	progress := time.NewTicker(10 * time.Second)
	defer progress.Stop()
	go func() {
		for range progress.C {
			t.Logf("waiting: %v", sims.Summarize(orders).Problems)
		}
	}()
	sum := sims.WaitSettled(ctx, orders)
	t.Logf("after restart: %s", strings.ReplaceAll(string(sum.JSON()), "\n", " "))
	if !sum.Settled {
		t.Fatalf("not settled: %v\nhub log tail:\n%s", sum.Problems, tail(readLog(logPath), 40))
	}
	if sum.OrdersShipped != orders || sum.OrdersFulfilled != orders || sum.ShopifyFulfillments < orders ||
		sum.DuplicateWMSOrders != 0 || sum.DuplicateFulfillments != 0 || sum.FulfillmentsMissingTracking != 0 {
		t.Fatalf("summary %+v", sum)
	}
}

func readLog(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
