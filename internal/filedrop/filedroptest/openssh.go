package filedroptest

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// SSHDPath is where Debian's openssh-server installs sshd.
const SSHDPath = "/usr/sbin/sshd"

// OpenSSH is a Debian OpenSSH sshd started for a test.
type OpenSSH struct {
	// Addr is its 127.0.0.1 address; User the current user, who logs in
	// with PrivateKey (PEM); HostKey is the server's key, for pinning.
	Addr       string
	User       string
	PrivateKey []byte
	HostKey    ssh.PublicKey
}

// StartOpenSSH starts Debian's OpenSSH sshd on 127.0.0.1 with internal-sftp,
// a generated host key and a generated client key for the current user; it
// stops at the end of the test. Without sshd the test is skipped, unless
// CROSSDOCK_REQUIRE_SSHD=1 (CI), where it fails. (No ChrootDirectory: that
// requires running sshd as root.)
func StartOpenSSH(t testing.TB) *OpenSSH {
	t.Helper()
	if _, err := os.Stat(SSHDPath); err != nil {
		if os.Getenv("CROSSDOCK_REQUIRE_SSHD") == "1" {
			t.Fatalf("%s not found and CROSSDOCK_REQUIRE_SSHD=1", SSHDPath)
		}
		t.Skipf("OpenSSH test skipped: %s not found (install Debian's openssh-server to run it)", SSHDPath)
	}
	u, err := user.Current()
	if err != nil {
		t.Skipf("OpenSSH test skipped: current user: %v", err)
	}
	if os.Geteuid() == 0 {
		// sshd started by root needs its privilege separation directory,
		// which Debian creates only when the service is started by systemd.
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	writeKey := func(name string) (ssh.PublicKey, []byte) {
		pub, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		block, err := ssh.MarshalPrivateKey(priv, "")
		if err != nil {
			t.Fatal(err)
		}
		pemBytes := pem.EncodeToMemory(block)
		if err := os.WriteFile(filepath.Join(dir, name), pemBytes, 0o600); err != nil {
			t.Fatal(err)
		}
		sp, err := ssh.NewPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		return sp, pemBytes
	}
	hostPub, _ := writeKey("host_ed25519")
	clientPub, clientPriv := writeKey("client_ed25519")
	if err := os.WriteFile(filepath.Join(dir, "authorized_keys"), ssh.MarshalAuthorizedKey(clientPub), 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	conf := fmt.Sprintf(`ListenAddress 127.0.0.1
Port %d
HostKey %s
AuthorizedKeysFile %s
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
AllowUsers %s
PidFile none
Subsystem sftp internal-sftp
ForceCommand internal-sftp
`, port, filepath.Join(dir, "host_ed25519"), filepath.Join(dir, "authorized_keys"), u.Username)
	confPath := filepath.Join(dir, "sshd_config")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	cmd := exec.Command(SSHDPath, "-D", "-e", "-f", confPath)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start sshd: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("sshd log:\n%s", logs.String())
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			_ = c.Close()
			break
		}
		select {
		case <-exited:
			t.Fatalf("sshd exited early:\n%s", logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("sshd not listening on %s: %v\n%s", addr, err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return &OpenSSH{Addr: addr, User: u.Username, PrivateKey: clientPriv, HostKey: hostPub}
}
