package filedrop

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/crossdock/crossdock/internal/filedrop/filedroptest"
)

// setupOpenSSH starts Debian's OpenSSH sshd (filedroptest.StartOpenSSH)
// and returns an SFTP env rooted at a temp dir.
func setupOpenSSH(t *testing.T) *env {
	t.Helper()
	sshd := filedroptest.StartOpenSSH(t)
	root := filepath.Join(t.TempDir(), "root")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	open := func(t *testing.T) Drop {
		t.Helper()
		d, err := NewSFTP(SFTPConfig{Addr: sshd.Addr, User: sshd.User, PrivateKey: sshd.PrivateKey, HostKey: sshd.HostKey, Root: root,
			DialTimeout: 5 * time.Second, OpTimeout: 10 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = d.Close() })
		return d
	}
	d := open(t).(*SFTP)
	return &env{name: "openssh", root: root, drop: d, open: open, hook: func(fn func(string)) { d.beforeRename = fn }}
}
