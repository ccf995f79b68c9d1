package shopify

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/crossdock/crossdock/internal/shopifyschema"
)

// APIVersion is the Admin API version every operation is written for and
// the client's endpoint is pinned to.
const APIVersion = shopifyschema.Version

// MaxQueryCost is the most a single query may cost before Shopify refuses
// it (widely cited, treated as binding). Every embedded operation's
// estimated cost stays below it.
const MaxQueryCost = 1000

//go:embed operations/*.graphql
var operationsFS embed.FS

// operation is one embedded GraphQL operation, parsed and validated against
// the embedded schema.
type operation struct {
	name     string
	file     string
	query    string
	mutation bool
	def      *ast.OperationDefinition
	frags    ast.FragmentDefinitionList
}

var (
	opsOnce sync.Once
	ops     map[string]*operation
	opsErr  error
)

// loadOperations reads, parses and validates every embedded operation once.
func loadOperations() (map[string]*operation, error) {
	opsOnce.Do(func() {
		ops, opsErr = parseOperations(operationsFS, "operations")
	})
	return ops, opsErr
}

// parseOperations loads every .graphql file under dir of fsys. Each must
// hold exactly one named operation, named like the file, valid against the
// schema.
func parseOperations(fsys fs.FS, dir string) (map[string]*operation, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("shopify: read operations: %w", err)
	}
	out := make(map[string]*operation, len(entries))
	var probs []string
	for _, e := range entries {
		if e.IsDir() || path.Ext(e.Name()) != ".graphql" {
			continue
		}
		file := path.Join(dir, e.Name())
		b, err := fs.ReadFile(fsys, file)
		if err != nil {
			return nil, fmt.Errorf("shopify: read %s: %w", file, err)
		}
		op, err := parseOperation(e.Name(), string(b))
		if err != nil {
			probs = append(probs, err.Error())
			continue
		}
		out[op.name] = op
	}
	if len(probs) > 0 {
		return nil, fmt.Errorf("shopify: invalid operations:\n%s", strings.Join(probs, "\n"))
	}
	return out, nil
}

// parseOperation validates one operation file's text.
func parseOperation(file, text string) (*operation, error) {
	doc, errs := shopifyschema.Validate(text)
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s: %s", file, errs.Error())
	}
	if len(doc.Operations) != 1 {
		return nil, fmt.Errorf("%s: holds %d operations, want exactly 1", file, len(doc.Operations))
	}
	def := doc.Operations[0]
	want := strings.TrimSuffix(file, ".graphql")
	if def.Name != want {
		return nil, fmt.Errorf("%s: operation is named %q, want %q (the file name)", file, def.Name, want)
	}
	if !strings.Contains(text, "API "+APIVersion) {
		return nil, fmt.Errorf("%s: no %q version line", file, "# Shopify Admin GraphQL API "+APIVersion)
	}
	return &operation{
		name:     def.Name,
		file:     file,
		query:    text,
		mutation: def.Operation == ast.Mutation,
		def:      def,
		frags:    doc.Fragments,
	}, nil
}

// rootFieldKeys returns the response keys (alias, else name) of the
// operation's root fields.
func rootFieldKeys(op *operation) []string {
	var keys []string
	for _, sel := range op.def.SelectionSet {
		if f, ok := sel.(*ast.Field); ok {
			keys = append(keys, f.Alias)
		}
	}
	return keys
}

// OperationNames lists the embedded operations, sorted.
func OperationNames() ([]string, error) {
	m, err := loadOperations()
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, nil
}

// OperationText returns the GraphQL text of the named embedded operation.
func OperationText(name string) (string, bool) {
	m, err := loadOperations()
	if err != nil {
		return "", false
	}
	op, ok := m[name]
	if !ok {
		return "", false
	}
	return op.query, true
}

// Cost estimation follows Shopify's published rules for the requested cost:
// scalars and enums 0, objects 1, connections 2 plus first (or last) times
// the cost of one node, mutations a base of 10. A plain list with a first
// argument (Order.fulfillments) is counted as first objects. It is the expected cost of
// an operation until Shopify has reported one for it.
const (
	mutationBaseCost = 10
	// defaultPageSize is assumed for a connection without first or last.
	defaultPageSize = 250
)

// estimateCost returns the estimated requested cost of op run with vars.
func (op *operation) estimateCost(vars map[string]any) float64 {
	e := costEstimator{vars: vars, frags: op.frags}
	c := e.selectionSet(op.def.SelectionSet)
	if op.mutation {
		c += mutationBaseCost
	}
	return float64(c)
}

type costEstimator struct {
	vars  map[string]any
	frags ast.FragmentDefinitionList
}

func (e costEstimator) selectionSet(ss ast.SelectionSet) int {
	total := 0
	for _, sel := range ss {
		switch s := sel.(type) {
		case *ast.Field:
			total += e.field(s)
		case *ast.InlineFragment:
			total += e.selectionSet(s.SelectionSet)
		case *ast.FragmentSpread:
			if f := e.frags.ForName(s.Name); f != nil {
				total += e.selectionSet(f.SelectionSet)
			}
		}
	}
	return total
}

func (e costEstimator) field(f *ast.Field) int {
	if f.Definition == nil || len(f.SelectionSet) == 0 {
		return 0 // scalar, enum or __typename
	}
	if strings.HasSuffix(f.Definition.Type.Name(), "Connection") {
		n := e.pageSize(f)
		node := 0
		for _, sel := range f.SelectionSet {
			sf, ok := sel.(*ast.Field)
			if !ok {
				continue
			}
			switch sf.Name {
			case "nodes":
				node = max(node, 1+e.selectionSet(sf.SelectionSet))
			case "edges":
				node = max(node, e.selectionSet(sf.SelectionSet))
			}
		}
		return 2 + n*node
	}
	if f.Definition.Type.Elem != nil && (f.Arguments.ForName("first") != nil || f.Arguments.ForName("last") != nil) {
		return e.pageSize(f) * (1 + e.selectionSet(f.SelectionSet))
	}
	return 1 + e.selectionSet(f.SelectionSet)
}

// pageSize is the first or last argument of a connection field.
func (e costEstimator) pageSize(f *ast.Field) int {
	for _, name := range []string{"first", "last"} {
		a := f.Arguments.ForName(name)
		if a == nil {
			continue
		}
		v, err := a.Value.Value(e.vars)
		if err != nil || v == nil {
			continue
		}
		switch n := v.(type) {
		case int64:
			return int(n)
		case int:
			return n
		case float64:
			return int(n)
		}
	}
	return defaultPageSize
}
