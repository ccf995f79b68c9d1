package filesim_test

import (
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/connector/connectortest"
	"github.com/crossdock/crossdock/internal/connector/csvwms"
	"github.com/crossdock/crossdock/internal/connector/ediwms"
	"github.com/crossdock/crossdock/internal/filedrop"
	"github.com/crossdock/crossdock/internal/filedrop/filedroptest"
	"github.com/crossdock/crossdock/internal/wmssim"
	"github.com/crossdock/crossdock/internal/wmssim/filesim"
)

// TestConformance runs the shared connector suite against csvwms and ediwms
// with a filesim.Partner as the 3PL, the connector reaching the partner's
// folder over SFTP: the package's in-process server, and Debian's OpenSSH
// sshd on 127.0.0.1 (skipped when /usr/sbin/sshd is missing, unless
// CROSSDOCK_REQUIRE_SSHD=1). Cancel is off (both connectors learn a
// cancel's outcome later, by file); DuplicateEvents (the partner sends
// shipment files twice) is on for EDI only; the outage is a connectortest.FlakyDrop in
// front of the SFTP drop. The partner writes one shipment per file (see
// harness).
func TestConformance(t *testing.T) {
	t.Parallel()
	transports := map[string]func(t *testing.T, root string) filedrop.Drop{
		"sftp-in-process": inProcessSFTP,
		"openssh":         openSSH,
	}
	for tname, open := range transports {
		for _, proto := range []string{filesim.ProtocolCSV, filesim.ProtocolEDI} {
			t.Run(tname+"/"+proto, func(t *testing.T) {
				t.Parallel()
				connectortest.Run(t, connectortest.Features{
					Cancel: false, Conflict: true, MultiPackage: true, DuplicateEvents: proto == filesim.ProtocolEDI, Outage: true, Stock: true,
				}, func(t *testing.T) connectortest.Harness {
					return harness(t, proto, open)
				})
			})
		}
	}
}

// harness wires a connector on an SFTP drop (behind a FlakyDrop) to a
// Partner working on the served directory.
func harness(t *testing.T, proto string, open func(t *testing.T, root string) filedrop.Drop) connectortest.Harness {
	t.Helper()
	root := t.TempDir()
	clock := wmssim.NewManualClock(time.Now().UTC())
	sim := wmssim.New(wmssim.Config{Name: "conf", Now: clock.Now, Seed: 5})
	t.Cleanup(sim.Close)
	local, err := filedrop.NewLocal(root)
	if err != nil {
		t.Fatal(err)
	}
	// One shipment per file: the connectors return a file's events whole,
	// so a file of several shipments exceeds a small Events limit
	// (CursorResumes pages with limit 2).
	p, err := filesim.New(filesim.Config{Sim: sim, Drop: local, Protocol: proto, Now: clock.Now, ShipmentsPerFile: 1})
	if err != nil {
		t.Fatal(err)
	}
	step := func(t *testing.T) {
		t.Helper()
		if err := p.Step(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	step(t) // the partner's folders exist before the hub's first call
	flaky := &connectortest.FlakyDrop{Drop: open(t, root)}
	var conn connector.WMS
	if proto == filesim.ProtocolCSV {
		conn, err = csvwms.New(csvwms.Config{Drop: flaky, NoStableWait: true})
	} else {
		conn, err = ediwms.New(ediwms.Config{Drop: flaky, NoStableWait: true,
			Profile: ediwms.Profile{SenderID: "CROSSDOCK", ReceiverID: "DEMO3PL"}})
	}
	if err != nil {
		t.Fatal(err)
	}
	return connectortest.Harness{
		WMS: conn,
		Settle: func(t *testing.T) {
			step(t) // read the orders
			sim.Settle(clock)
			clock.Advance(filesim.DefaultStockInterval)
			step(t) // write shipments and stock
		},
		SetStock: func(t *testing.T, m map[string]int) {
			sim.SetStock(m)
			clock.Advance(filesim.DefaultStockInterval)
			step(t)
		},
		SetDown:         func(_ *testing.T, down bool) { flaky.SetDown(down) },
		SetMultiPackage: func(_ *testing.T, r float64) { sim.SetMultiPackageRate(r) },
		// A 945 sent again unchanged repeats its event ids; a CSV file's
		// ids include its name, so CSV duplicates are the hub's to absorb
		// (unique shipment ids), not the connector's.
		SetDuplicateEvents: func(_ *testing.T, r float64) { p.SetResendRate(r) },
	}
}

func inProcessSFTP(t *testing.T, root string) filedrop.Drop {
	t.Helper()
	srv, err := filesim.ServeSFTP("127.0.0.1:0", root, "hub", "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	hk, _, _, _, err := ssh.ParseAuthorizedKey([]byte(srv.HostKey()))
	if err != nil {
		t.Fatal(err)
	}
	d, err := filedrop.NewSFTP(filedrop.SFTPConfig{Addr: srv.Addr(), User: srv.User(), Password: srv.Password(), HostKey: hk,
		DialTimeout: 5 * time.Second, OpTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d
}

// openSSH starts Debian's sshd on 127.0.0.1 (internal-sftp, generated host
// and client keys for the current user, as internal/filedrop's OpenSSH
// test does) and returns an SFTP drop rooted at root.
func openSSH(t *testing.T, root string) filedrop.Drop {
	t.Helper()
	sshd := filedroptest.StartOpenSSH(t)
	d, err := filedrop.NewSFTP(filedrop.SFTPConfig{Addr: sshd.Addr, User: sshd.User, PrivateKey: sshd.PrivateKey, HostKey: sshd.HostKey, Root: root,
		DialTimeout: 5 * time.Second, OpTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d
}
