package ediwms_test

import (
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/connector/connectortest"
	"github.com/crossdock/crossdock/internal/connector/ediwms"
	"github.com/crossdock/crossdock/internal/filedrop"
	"github.com/crossdock/crossdock/internal/filedrop/filedroptest"
	"github.com/crossdock/crossdock/internal/order"
)

// TestOverSFTP runs the connector through the registry over SFTP (host key
// pinned): the 940 reaches the partner's folder, the partner's 945 comes
// back as an event with tracking and our 997 is written, and an outage of
// the server is a retryable error.
func TestOverSFTP(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	srv := filedroptest.NewServer(t, root, nil)
	local, err := filedrop.NewLocal(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{ediwms.DefaultOut, ediwms.DefaultIn, ediwms.DefaultArchive} {
		if err := local.MkdirAll(t.Context(), d); err != nil {
			t.Fatal(err)
		}
	}
	info, ok := connector.Lookup("edi")
	if !ok {
		t.Fatal("edi connector not registered")
	}
	wms, err := info.New(map[string]any{
		"transport": "sftp", "address": srv.Addr(), "user": filedroptest.User, "password": filedroptest.Password,
		"host_key": strings.TrimSpace(string(ssh.MarshalAuthorizedKey(srv.HostKey()))), "stable_after": "0s",
		"profile": map[string]any{"sender_id": "CROSSDOCK", "receiver_id": "ACME3PL", "receiver_qualifier": "01"},
	})
	if err != nil {
		t.Fatal(err)
	}
	o := connectortest.NewOrder(connectortest.Ref("sftp"), order.Line{SKU: "A-001", Quantity: 2})
	res, err := wms.SubmitOrder(t.Context(), o)
	if err != nil || !res.Created {
		t.Fatalf("SubmitOrder = %+v, %v", res, err)
	}
	wh := newFake(t, local)
	wh.settle()
	events, _, err := wms.Events(t.Context(), "", 10)
	if err != nil || len(events) != 1 || events[0].Type != connector.EventShipped || events[0].ExternalRef != o.ExternalRef {
		t.Fatalf("Events = %+v, %v", events, err)
	}
	if sh := events[0].Shipment; sh == nil || len(sh.Packages) == 0 || sh.Packages[0].TrackingNumber == "" {
		t.Fatalf("shipment without tracking: %+v", events[0].Shipment)
	}
	if !exists(root, ediwms.DefaultOut+"/997_945_000002.edi") {
		t.Error("no 997 written over SFTP")
	}
	if p := wms.(*ediwms.Conn).Pending().Overdue(events[0].At.AddDate(100, 0, 0), 0); len(p) != 0 {
		t.Errorf("940 still pending after the partner's 997: %+v", p)
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
