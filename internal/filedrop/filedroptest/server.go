// Package filedroptest runs an in-process SFTP server (package sftpd) on
// 127.0.0.1 for the tests of anything that talks SFTP, stopped at the end
// of the test. It can be stopped and started again on the same port to
// rehearse an outage.
package filedroptest

import (
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/crossdock/crossdock/internal/sftpd"
)

// Server is an in-process SFTP server serving a directory.
type Server struct {
	t testing.TB
	*sftpd.Server
}

// User and Password are the credentials the server accepts.
const User, Password = "partner", "s3cret"

// NewServer starts a server rooted at root; clientKey, when set, is also
// accepted for User. It stops at the end of the test.
func NewServer(t testing.TB, root string, clientKey ssh.PublicKey) *Server {
	t.Helper()
	srv, err := sftpd.Start(sftpd.Config{Addr: "127.0.0.1:0", Root: root, User: User, Password: Password, ClientKey: clientKey,
		OnError: func(err error) { t.Logf("sftp server: %v", err) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	return &Server{t: t, Server: srv}
}

// Start starts the server again on its address after a Stop.
func (s *Server) Start() {
	s.t.Helper()
	if err := s.Restart(); err != nil {
		s.t.Fatal(err)
	}
}
