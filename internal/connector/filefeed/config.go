package filefeed

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

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

// ConnectionKeys are the settings that say where and how a file connector
// connects: "transport" and every transport's own keys (a rehearsal
// replaces them and keeps the rest).
func ConnectionKeys() []string {
	keys := []string{"transport"}
	for _, t := range []string{"local", "sftp"} {
		keys = append(keys, transportKeys[t]...)
	}
	return keys
}

// MapConfig holds the transport, folder and stable_after keys read from a
// connector's decoded configuration block by ParseMap.
type MapConfig struct {
	// Transport is "local" or "sftp".
	Transport string
	// Out, In, Archive and Error are the folder keys as given ("" when absent).
	Out, In, Archive, Error string
	// StableAfter is the stable_after key; StableSet reports whether it was
	// given (it may be 0).
	StableAfter time.Duration
	StableSet   bool

	name string
	m    map[string]any
}

// ParseMap reads the keys every file-exchange connector shares from m:
// transport, the transport's own keys (dir; address, user, password,
// private_key, host_key, insecure_ignore_host_key), out, in, archive, error
// and stable_after. Any key that is neither one of those nor in extra is an
// error. name ("csvwms") prefixes every error message. It does not open the
// drop: OpenDrop does.
func ParseMap(name string, m map[string]any, extra ...string) (*MapConfig, error) {
	mc := &MapConfig{name: name, m: m}
	transport, err := mc.String("transport")
	if err != nil {
		return nil, err
	}
	own, ok := transportKeys[transport]
	if !ok {
		return nil, fmt.Errorf("%s: transport must be \"local\" or \"sftp\", not %q", name, transport)
	}
	mc.Transport = transport
	common := []string{"transport", "out", "in", "archive", "error", "stable_after"}
	var unknown []string
	for k := range m {
		if !slices.Contains(common, k) && !slices.Contains(extra, k) && !slices.Contains(own, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return nil, fmt.Errorf("%s: unknown configuration keys for transport %q: %s", name, transport, strings.Join(unknown, ", "))
	}
	for _, f := range []struct {
		key string
		dst *string
	}{{"out", &mc.Out}, {"in", &mc.In}, {"archive", &mc.Archive}, {"error", &mc.Error}} {
		if *f.dst, err = mc.String(f.key); err != nil {
			return nil, err
		}
	}
	if v, ok := m["stable_after"]; ok {
		if mc.StableAfter, err = Duration(name, "stable_after", v); err != nil {
			return nil, err
		}
		mc.StableSet = true
	}
	return mc, nil
}

// String returns the string key k ("" when absent); any other type is an
// error.
func (mc *MapConfig) String(k string) (string, error) {
	v, ok := mc.m[k]
	if !ok {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s: %s must be a string, not %T", mc.name, k, v)
	}
	return s, nil
}

// OpenDrop builds the drop the transport keys describe. For SFTP it does not
// connect: the first call does.
func (mc *MapConfig) OpenDrop() (filedrop.Drop, error) {
	name := mc.name
	switch mc.Transport {
	case "local":
		dir, err := mc.String("dir")
		if err != nil {
			return nil, err
		}
		if dir == "" {
			return nil, fmt.Errorf("%s: dir is required for transport local", name)
		}
		d, err := filedrop.NewLocal(dir)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return d, nil
	case "sftp":
		var sc filedrop.SFTPConfig
		var err error
		if sc.Addr, err = mc.String("address"); err != nil {
			return nil, err
		}
		if sc.User, err = mc.String("user"); err != nil {
			return nil, err
		}
		if sc.Password, err = mc.String("password"); err != nil {
			return nil, err
		}
		key, err := mc.String("private_key")
		if err != nil {
			return nil, err
		}
		sc.PrivateKey = []byte(key)
		hk, err := mc.String("host_key")
		if err != nil {
			return nil, err
		}
		if hk != "" {
			pk, _, _, _, err := ssh.ParseAuthorizedKey([]byte(hk))
			if err != nil {
				return nil, fmt.Errorf("%s: host_key must be in authorized_keys form (\"ssh-ed25519 AAAA…\"): %w", name, err)
			}
			sc.HostKey = pk
		}
		if v, ok := mc.m["insecure_ignore_host_key"]; ok {
			b, ok := v.(bool)
			if !ok {
				return nil, fmt.Errorf("%s: insecure_ignore_host_key must be a boolean, not %T", name, v)
			}
			if b && hk != "" {
				return nil, fmt.Errorf("%s: host_key and insecure_ignore_host_key are exclusive", name)
			}
			sc.InsecureIgnoreHostKey = b
		}
		d, err := filedrop.NewSFTP(sc)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return d, nil
	}
	return nil, errors.New(name + ": no transport")
}

// Duration reads the duration setting key of connector name: a string such
// as "30s" (or a time.Duration), never negative.
func Duration(name, key string, v any) (time.Duration, error) {
	var d time.Duration
	switch x := v.(type) {
	case string:
		p, err := time.ParseDuration(x)
		if err != nil {
			return 0, fmt.Errorf("%s: %s: %w", name, key, err)
		}
		d = p
	case time.Duration:
		d = x
	default:
		return 0, fmt.Errorf("%s: %s must be a duration string such as \"30s\", not %T", name, key, v)
	}
	if d < 0 {
		return 0, fmt.Errorf("%s: %s must not be negative", name, key)
	}
	return d, nil
}
