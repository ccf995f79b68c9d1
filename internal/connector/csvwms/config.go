package csvwms

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/csvfile"
	"github.com/crossdock/crossdock/internal/filedrop"
)

// Default folder names, relative to the drop root.
const (
	DefaultOut     = "to_wms"
	DefaultIn      = "from_wms"
	DefaultArchive = "archive"
	DefaultError   = "error"
)

// DefaultStableAfter is how old (by mtime) a file must be before it is read
// when it has not yet been seen unchanged in two listings.
const DefaultStableAfter = time.Minute

var transportKeys = map[string][]string{
	"local": {"dir"},
	"sftp":  {"address", "user", "password", "private_key", "host_key", "insecure_ignore_host_key"},
}

// NewFromMap builds a connector from a decoded configuration block (see the
// package documentation for the keys). Every configuration error is
// connector.Permanent. For SFTP it does not connect: the first call does.
func NewFromMap(m map[string]any) (*Conn, error) {
	c, err := newFromMap(m)
	if err != nil {
		return nil, connector.Permanent(err)
	}
	return c, nil
}

func newFromMap(m map[string]any) (*Conn, error) {
	str := func(k string) (string, error) {
		v, ok := m[k]
		if !ok {
			return "", nil
		}
		s, ok := v.(string)
		if !ok {
			return "", fmt.Errorf("csvwms: %s must be a string, not %T", k, v)
		}
		return s, nil
	}
	transport, err := str("transport")
	if err != nil {
		return nil, err
	}
	own, ok := transportKeys[transport]
	if !ok {
		return nil, fmt.Errorf("csvwms: transport must be \"local\" or \"sftp\", not %q", transport)
	}
	common := []string{"transport", "out", "in", "archive", "error", "profile", "stable_after"}
	var unknown []string
	for k := range m {
		if !slices.Contains(common, k) && !slices.Contains(own, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return nil, fmt.Errorf("csvwms: unknown configuration keys for transport %q: %s", transport, strings.Join(unknown, ", "))
	}

	var cfg Config
	for _, f := range []struct {
		key string
		dst *string
	}{{"out", &cfg.Out}, {"in", &cfg.In}, {"archive", &cfg.Archive}, {"error", &cfg.Error}} {
		if *f.dst, err = str(f.key); err != nil {
			return nil, err
		}
	}
	if v, ok := m["stable_after"]; ok {
		switch d := v.(type) {
		case string:
			p, err := time.ParseDuration(d)
			if err != nil {
				return nil, fmt.Errorf("csvwms: stable_after: %w", err)
			}
			cfg.StableAfter = p
		case time.Duration:
			cfg.StableAfter = d
		default:
			return nil, fmt.Errorf("csvwms: stable_after must be a duration string such as \"30s\", not %T", v)
		}
		if cfg.StableAfter < 0 {
			return nil, fmt.Errorf("csvwms: stable_after must not be negative")
		}
		cfg.stableSet = true
	}
	if v, ok := m["profile"]; ok {
		p, err := decodeProfile(v)
		if err != nil {
			return nil, err
		}
		cfg.Profile = p
	}

	switch transport {
	case "local":
		dir, err := str("dir")
		if err != nil {
			return nil, err
		}
		if dir == "" {
			return nil, errors.New("csvwms: dir is required for transport local")
		}
		d, err := filedrop.NewLocal(dir)
		if err != nil {
			return nil, fmt.Errorf("csvwms: %w", err)
		}
		cfg.Drop = d
	case "sftp":
		var sc filedrop.SFTPConfig
		if sc.Addr, err = str("address"); err != nil {
			return nil, err
		}
		if sc.User, err = str("user"); err != nil {
			return nil, err
		}
		if sc.Password, err = str("password"); err != nil {
			return nil, err
		}
		key, err := str("private_key")
		if err != nil {
			return nil, err
		}
		sc.PrivateKey = []byte(key)
		hk, err := str("host_key")
		if err != nil {
			return nil, err
		}
		if hk != "" {
			pk, _, _, _, err := ssh.ParseAuthorizedKey([]byte(hk))
			if err != nil {
				return nil, fmt.Errorf("csvwms: host_key must be in authorized_keys form (\"ssh-ed25519 AAAA…\"): %w", err)
			}
			sc.HostKey = pk
		}
		if v, ok := m["insecure_ignore_host_key"]; ok {
			b, ok := v.(bool)
			if !ok {
				return nil, fmt.Errorf("csvwms: insecure_ignore_host_key must be a boolean, not %T", v)
			}
			if b && hk != "" {
				return nil, errors.New("csvwms: host_key and insecure_ignore_host_key are exclusive")
			}
			sc.InsecureIgnoreHostKey = b
		}
		d, err := filedrop.NewSFTP(sc)
		if err != nil {
			return nil, fmt.Errorf("csvwms: %w", err)
		}
		cfg.Drop = d
	}
	c, err := newConn(cfg)
	if err != nil {
		_ = cfg.Drop.Close()
		return nil, err
	}
	return c, nil
}

// decodeProfile decodes a profile block strictly (unknown keys are errors)
// through its JSON form.
func decodeProfile(v any) (csvfile.Profile, error) {
	var p csvfile.Profile
	if _, ok := v.(map[string]any); !ok {
		return p, fmt.Errorf("csvwms: profile must be a mapping, not %T", v)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return p, fmt.Errorf("csvwms: profile: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return p, fmt.Errorf("csvwms: profile: %w", err)
	}
	return p, nil
}

// DefaultProfile is the profile used when none is configured, and supplies
// the mapping of any file kind a configured profile leaves empty: a header
// row whose column names are the canonical field names, "," on output
// (auto-detected on input), UTF-8 on output (UTF-8 or Windows-1252 on
// input). csvfile requires every mapped column in an input header, so a
// partner on the default profile sends all of ShipmentFields / StockFields
// (empty cells allowed); a partner with fewer columns needs a profile.
// A configured profile with "header: false" needs column numbers for every
// kind, since the defaults are header names.
func DefaultProfile() csvfile.Profile {
	return csvfile.Profile{
		Header:    true,
		Orders:    identity(csvfile.OrderFields),
		Shipments: identity(csvfile.ShipmentFields),
		Stock:     identity(csvfile.StockFields),
	}
}

func identity(fields []string) csvfile.Columns {
	c := make(csvfile.Columns, len(fields))
	for _, f := range fields {
		c[f] = f
	}
	return c
}

func checkFolder(name, v string) (string, error) {
	c := path.Clean(v)
	if strings.HasPrefix(c, "/") || c == "." || c == ".." || strings.HasPrefix(c, "../") {
		return "", fmt.Errorf("csvwms: folder %s %q must be a relative path inside the drop", name, v)
	}
	return c, nil
}
