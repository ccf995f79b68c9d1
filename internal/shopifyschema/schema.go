// Package shopifyschema embeds the Shopify Admin GraphQL schema (API version
// 2026-07) that crossdock speaks, and validates GraphQL documents against it.
//
// The SDL was derived from Shopify's published introspection of 2026-07 (see
// README.md beside this file for its origin). Both the Shopify connector's
// operations and the Shopify simulator's incoming requests are validated
// against this one schema, so what crossdock sends is what Shopify accepts.
package shopifyschema

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"io"
	"sync"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Version is the Admin API version of the embedded schema.
const Version = "2026-07"

//go:embed admin_2026-07.graphql.gz
var sdlGz []byte

var (
	once    sync.Once
	schema  *ast.Schema
	loadErr error
)

// SDL returns the uncompressed schema text.
func SDL() (string, error) {
	zr, err := gzip.NewReader(bytes.NewReader(sdlGz))
	if err != nil {
		return "", fmt.Errorf("shopifyschema: open embedded schema: %w", err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		return "", fmt.Errorf("shopifyschema: read embedded schema: %w", err)
	}
	return string(b), nil
}

// Load parses the embedded schema once and returns it. It is safe for
// concurrent use; the parsed schema must be treated as read-only.
func Load() (*ast.Schema, error) {
	once.Do(func() {
		sdl, err := SDL()
		if err != nil {
			loadErr = err
			return
		}
		s, gerr := gqlparser.LoadSchema(&ast.Source{Name: "admin_2026-07.graphql", Input: sdl})
		if gerr != nil {
			loadErr = fmt.Errorf("shopifyschema: parse: %w", gerr)
			return
		}
		schema = s
	})
	return schema, loadErr
}

// Validate parses doc and validates it against the schema. It returns the
// parsed document, or the list of GraphQL errors (with locations) that
// Shopify would report for it.
func Validate(doc string) (*ast.QueryDocument, gqlerror.List) {
	s, err := Load()
	if err != nil {
		return nil, gqlerror.List{gqlerror.Wrap(err)}
	}
	q, errs := gqlparser.LoadQuery(s, doc)
	if len(errs) > 0 {
		return nil, errs
	}
	return q, nil
}
