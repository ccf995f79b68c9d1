package filesim

import (
	"errors"

	"github.com/crossdock/crossdock/internal/sftpd"
)

// SFTPServer is the partner's SFTP server (package sftpd): SSH on
// 127.0.0.1 with a host key generated at start, one password account, and
// the SFTP subsystem serving a directory (the account's login directory, so
// the hub's relative paths "to_wms/…" land in it). It is what a 3PL hosts
// for its customers; the Partner itself works on the directory directly. A
// session is not confined to the directory, so give it a random password
// and keep it on 127.0.0.1.
type SFTPServer struct {
	srv                  *sftpd.Server
	root, user, password string
}

// ServeSFTP starts an SFTP server on addr (e.g. "127.0.0.1:0") serving root
// to user with password.
func ServeSFTP(addr, root, user, password string) (*SFTPServer, error) {
	if user == "" || password == "" {
		return nil, errors.New("filesim: sftp: user and password are required")
	}
	srv, err := sftpd.Start(sftpd.Config{Addr: addr, Root: root, User: user, Password: password})
	if err != nil {
		return nil, err
	}
	return &SFTPServer{srv: srv, root: root, user: user, password: password}, nil
}

// Addr is the server's host:port.
func (s *SFTPServer) Addr() string { return s.srv.Addr() }

// User is the account's login.
func (s *SFTPServer) User() string { return s.user }

// Password is the account's password.
func (s *SFTPServer) Password() string { return s.password }

// Root is the directory served.
func (s *SFTPServer) Root() string { return s.root }

// HostKey is the server's host key in authorized_keys form
// ("ssh-ed25519 AAAA…"), as the connectors' host_key setting takes it.
func (s *SFTPServer) HostKey() string { return s.srv.AuthorizedHostKey() }

// Close stops the listener and every connection and waits for them.
func (s *SFTPServer) Close() error {
	s.srv.Stop()
	return nil
}
