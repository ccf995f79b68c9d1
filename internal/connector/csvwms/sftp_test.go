package csvwms_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/connector/connectortest"
	"github.com/crossdock/crossdock/internal/connector/csvwms"
	"github.com/crossdock/crossdock/internal/filedrop"
	"github.com/crossdock/crossdock/internal/filedrop/filedroptest"
	"github.com/crossdock/crossdock/internal/order"
)

// TestOverSFTP runs the connector through the registry with an SFTP
// transport against an in-process SSH server (host key pinned): the order
// file reaches the partner's folder, the partner's shipment comes back as
// an event, and an outage of the server is a retryable error.
func TestOverSFTP(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	srv := filedroptest.NewServer(t, root, nil)
	local, err := filedrop.NewLocal(root) // the partner's side of the same folders
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{csvwms.DefaultOut, csvwms.DefaultIn, csvwms.DefaultArchive} {
		if err := local.MkdirAll(t.Context(), d); err != nil {
			t.Fatal(err)
		}
	}
	info, ok := connector.Lookup("csv")
	if !ok {
		t.Fatal("csv connector not registered")
	}
	wms, err := info.New(map[string]any{
		"transport": "sftp", "address": srv.Addr(), "user": filedroptest.User, "password": filedroptest.Password,
		"host_key": strings.TrimSpace(string(ssh.MarshalAuthorizedKey(srv.HostKey()))), "stable_after": "0s",
	})
	if err != nil {
		t.Fatal(err)
	}
	o := connectortest.NewOrder(connectortest.Ref("sftp"), order.Line{SKU: "A-001", Quantity: 2})
	res, err := wms.SubmitOrder(t.Context(), o)
	if err != nil || !res.Created {
		t.Fatalf("SubmitOrder = %+v, %v", res, err)
	}
	wh := &fake3PL{t: t, root: root, drop: local, profile: csvwms.DefaultProfile(), rng: rand.New(rand.NewPCG(3, 4))}
	wh.settle()
	events, _, err := wms.Events(t.Context(), "", 10)
	if err != nil || len(events) != 1 || events[0].Type != connector.EventShipped || events[0].ExternalRef != o.ExternalRef {
		t.Fatalf("Events = %+v, %v", events, err)
	}
	if sh := events[0].Shipment; sh == nil || len(sh.Packages) == 0 || sh.Packages[0].TrackingNumber == "" {
		t.Fatalf("shipment without tracking: %+v", events[0].Shipment)
	}

	srv.Stop()
	if _, _, err := wms.Events(t.Context(), "", 10); err == nil || connector.IsPermanent(err) {
		t.Fatalf("Events during an outage = %v, want a retryable error", err)
	}
	srv.Start()
	if _, _, err := wms.Events(t.Context(), "", 10); err != nil {
		t.Fatalf("Events after the outage: %v", err)
	}
}
