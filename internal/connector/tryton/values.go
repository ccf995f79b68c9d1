package tryton

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// dateTime is Tryton's JSON datetime, {"__class__": "datetime", "year": ...},
// a naive timestamp the server keeps in UTC.
type dateTime struct{ time.Time }

type jsonDateTime struct {
	Class       string `json:"__class__"`
	Year        int    `json:"year"`
	Month       int    `json:"month"`
	Day         int    `json:"day"`
	Hour        int    `json:"hour"`
	Minute      int    `json:"minute"`
	Second      int    `json:"second"`
	Microsecond int    `json:"microsecond"`
}

// MarshalJSON implements json.Marshaler.
func (d dateTime) MarshalJSON() ([]byte, error) {
	t := d.UTC()
	return json.Marshal(jsonDateTime{Class: "datetime", Year: t.Year(), Month: int(t.Month()), Day: t.Day(),
		Hour: t.Hour(), Minute: t.Minute(), Second: t.Second(), Microsecond: t.Nanosecond() / 1000})
}

// UnmarshalJSON implements json.Unmarshaler; null leaves the zero time.
func (d *dateTime) UnmarshalJSON(b []byte) error {
	if string(b) == "null" || string(b) == "false" {
		d.Time = time.Time{}
		return nil
	}
	var j jsonDateTime
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	if j.Class != "datetime" && j.Class != "date" {
		return fmt.Errorf("tryton: %s is not a datetime", b)
	}
	d.Time = time.Date(j.Year, time.Month(j.Month), j.Day, j.Hour, j.Minute, j.Second, j.Microsecond*1000, time.UTC)
	return nil
}

// decimal is Tryton's JSON Decimal, {"__class__": "Decimal", "decimal": "1.5"}.
type decimal string

// MarshalJSON implements json.Marshaler.
func (d decimal) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{"__class__": "Decimal", "decimal": string(d)})
}

// many2one decodes a Many2One value: an id, or null/false for none.
type many2one int64

// UnmarshalJSON implements json.Unmarshaler.
func (m *many2one) UnmarshalJSON(b []byte) error {
	if string(b) == "null" || string(b) == "false" {
		*m = 0
		return nil
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return fmt.Errorf("tryton: many2one %s: %w", b, err)
	}
	*m = many2one(n)
	return nil
}

// text decodes a Char or Text value: a string, or null/false for empty.
type text string

// UnmarshalJSON implements json.Unmarshaler.
func (s *text) UnmarshalJSON(b []byte) error {
	if string(b) == "null" || string(b) == "false" {
		*s = ""
		return nil
	}
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*s = text(v)
	return nil
}

// boolean decodes a Boolean value: true/false, or 0/1 as trytond on SQLite
// returns some of them, or null for false.
type boolean bool

// UnmarshalJSON implements json.Unmarshaler.
func (v *boolean) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case "true", "1":
		*v = true
	case "false", "0", "null":
		*v = false
	default:
		return fmt.Errorf("tryton: %s is not a boolean", b)
	}
	return nil
}
