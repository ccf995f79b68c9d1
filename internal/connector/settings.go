package connector

import (
	"fmt"
	"time"
)

// SettingDuration reads a positive duration setting of a connector's
// configuration block: a Go duration string such as "30s" (YAML) or a
// time.Duration (configuration built in code). kind and key name the
// setting in the error.
func SettingDuration(kind, key string, v any) (time.Duration, error) {
	var d time.Duration
	switch t := v.(type) {
	case string:
		var err error
		if d, err = time.ParseDuration(t); err != nil {
			return 0, fmt.Errorf("%s: %s: %w", kind, key, err)
		}
	case time.Duration:
		d = t
	default:
		return 0, fmt.Errorf("%s: %s must be a duration string such as \"30s\", not %T", kind, key, v)
	}
	if d <= 0 {
		return 0, fmt.Errorf("%s: %s must be positive, not %s", kind, key, d)
	}
	return d, nil
}
