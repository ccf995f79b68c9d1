package shopifysim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vektah/gqlparser/v2/ast"
)

// resolverFunc resolves one field of an object. parent is the object's Go
// value, args the field's arguments with variables substituted.
type resolverFunc func(x *execCtx, parent any, args map[string]any) (any, error)

// execCtx is the state of one operation's execution. The state lock is
// held (read for queries, write for mutations) while it runs.
type execCtx struct {
	s      *Server
	st     *state
	doc    *ast.QueryDocument
	op     *ast.OperationDefinition
	vars   map[string]any
	now    time.Time
	errs   []gqlError
	actual int
	free   int // >0 while resolving a mutation payload (not charged)
	events []*event

	// set per mutation root field
	field   *ast.Field
	idemKey string

	// bulk is set while a bulk query runs (bulk.go): connections are
	// unbounded and written as JSONL lines.
	bulk *bulkRun
}

func (s *Server) newExec(doc *ast.QueryDocument, op *ast.OperationDefinition, vars map[string]any) *execCtx {
	return &execCtx{s: s, doc: doc, op: op, vars: vars}
}

// omap is an ordered JSON object.
type omap struct {
	keys []string
	vals []any
}

func (m *omap) add(k string, v any) {
	m.keys = append(m.keys, k)
	m.vals = append(m.vals, v)
}

// fieldError is a resolver error carrying an optional extensions code.
type fieldError struct {
	msg  string
	code string
}

// Error implements error.
func (e *fieldError) Error() string { return e.msg }

func errf(code, format string, a ...any) error {
	return &fieldError{msg: fmt.Sprintf(format, a...), code: code}
}

// run executes the operation under the state lock and returns the data
// value (an *omap or nil).
func (s *Server) run(x *execCtx) (data any) {
	mutation := x.op.Operation == ast.Mutation
	if mutation {
		s.mu.Lock()
		defer s.mu.Unlock()
	} else {
		s.mu.RLock()
		defer s.mu.RUnlock()
	}
	x.st = s.st
	x.now = s.now().UTC() // full precision inside; answers format to the second as Shopify does
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("shopifysim: panic during execution", "panic", r, "stack", string(debug.Stack()))
			x.errs = append(x.errs, gqlError{Message: "Internal error", Extensions: map[string]any{"code": "INTERNAL_SERVER_ERROR"}})
			data = nil
		}
	}()
	root := s.schema.Query
	if mutation {
		root = s.schema.Mutation
	}
	if root == nil {
		x.errs = append(x.errs, gqlError{Message: "Schema is not configured for " + string(x.op.Operation) + "s"})
		return nil
	}
	res, ok := x.executeObject(root, rootValue{}, []ast.SelectionSet{x.op.SelectionSet}, nil, mutation)
	if !ok {
		return nil
	}
	return res
}

type rootValue struct{}

// fieldGroups is the ordered result of field collection.
type fieldGroups struct {
	keys []string
	m    map[string][]*ast.Field
}

func (x *execCtx) collect(obj *ast.Definition, sets []ast.SelectionSet) *fieldGroups {
	if x.bulk != nil {
		return x.bulk.collect(obj, sets, x.collectFields)
	}
	return x.collectFields(obj, sets)
}

func (x *execCtx) collectFields(obj *ast.Definition, sets []ast.SelectionSet) *fieldGroups {
	g := &fieldGroups{m: map[string][]*ast.Field{}}
	visited := map[string]bool{}
	var walk func(set ast.SelectionSet)
	walk = func(set ast.SelectionSet) {
		for _, sel := range set {
			switch sel := sel.(type) {
			case *ast.Field:
				if !x.included(sel.Directives) {
					continue
				}
				k := sel.Alias
				if k == "" {
					k = sel.Name
				}
				if _, ok := g.m[k]; !ok {
					g.keys = append(g.keys, k)
				}
				g.m[k] = append(g.m[k], sel)
			case *ast.InlineFragment:
				if !x.included(sel.Directives) || !x.applies(obj, sel.TypeCondition) {
					continue
				}
				walk(sel.SelectionSet)
			case *ast.FragmentSpread:
				if !x.included(sel.Directives) || visited[sel.Name] {
					continue
				}
				visited[sel.Name] = true
				fd := sel.Definition
				if fd == nil {
					fd = x.doc.Fragments.ForName(sel.Name)
				}
				if fd == nil || !x.applies(obj, fd.TypeCondition) {
					continue
				}
				walk(fd.SelectionSet)
			}
		}
	}
	for _, set := range sets {
		walk(set)
	}
	return g
}

func (x *execCtx) included(ds ast.DirectiveList) bool {
	for _, d := range ds {
		switch d.Name {
		case "skip", "include":
			v, _ := d.ArgumentMap(x.vars)["if"].(bool)
			if (d.Name == "skip") == v {
				return false
			}
		}
	}
	return true
}

func (x *execCtx) applies(obj *ast.Definition, cond string) bool {
	if cond == "" || cond == obj.Name {
		return true
	}
	for _, d := range x.s.schema.PossibleTypes[cond] {
		if d.Name == obj.Name {
			return true
		}
	}
	return false
}

// executeObject resolves the selection sets against obj of type def. It
// returns false when a non-null field failed, which nulls the object.
func (x *execCtx) executeObject(def *ast.Definition, obj any, sets []ast.SelectionSet, path []any, mutationRoot bool) (*omap, bool) {
	g := x.collect(def, sets)
	out := &omap{keys: make([]string, 0, len(g.keys)), vals: make([]any, 0, len(g.keys))}
	for _, key := range g.keys {
		fs := g.m[key]
		f := fs[0]
		fpath := append(path[:len(path):len(path)], key)
		if f.Name == "__typename" {
			out.add(key, def.Name)
			continue
		}
		fd := def.Fields.ForName(f.Name)
		if fd == nil {
			// Only introspection meta fields (__schema, __type) get here.
			x.addErr(fmt.Sprintf("%s.%s is not implemented by the crossdock Shopify simulator", def.Name, f.Name), "NOT_IMPLEMENTED", f, fpath)
			out.add(key, nil)
			continue
		}
		v, ok := x.resolveField(def, fd, obj, fs, fpath, mutationRoot)
		if !ok {
			return nil, false
		}
		out.add(key, v)
	}
	return out, true
}

func (x *execCtx) resolveField(parentDef *ast.Definition, fd *ast.FieldDefinition, obj any, fs []*ast.Field, path []any, mutationRoot bool) (any, bool) {
	f := fs[0]
	r := lookupResolver(parentDef.Name, f.Name)
	if r == nil {
		x.addErr(fmt.Sprintf("%s.%s is not implemented by the crossdock Shopify simulator", parentDef.Name, f.Name), "NOT_IMPLEMENTED", f, path)
		return x.nullFor(fd.Type)
	}
	var args map[string]any
	if x.bulk != nil {
		args = x.bulk.fieldArgs(x, f, fd)
	} else if args = f.ArgumentMap(x.vars); args == nil {
		args = map[string]any{}
	}
	if mutationRoot {
		x.field = f
		x.idemKey = ""
		if err := x.checkIdempotent(f); err != nil {
			x.fieldErr(err, f, path)
			return x.nullFor(fd.Type)
		}
		x.actual += x.s.mutationFieldCost(f, x.vars)
		x.free++
		defer func() { x.free-- }()
	}
	v, err := r(x, obj, args)
	if err != nil {
		x.fieldErr(err, f, path)
		return x.nullFor(fd.Type)
	}
	if x.bulk != nil && !isNil(v) && x.s.isConnection(fd.Type) {
		return x.bulkDefer(parentDef, obj, fd, v, fs, path)
	}
	return x.complete(fd.Type, v, fs, path)
}

func (x *execCtx) nullFor(t *ast.Type) (any, bool) {
	return nil, !t.NonNull
}

func (x *execCtx) addErr(msg, code string, f *ast.Field, path []any) {
	e := gqlError{Message: msg, Path: append([]any(nil), path...)}
	if f != nil {
		e.Locations = locOf(f.Position)
	}
	if code != "" {
		e.Extensions = map[string]any{"code": code}
	}
	x.errs = append(x.errs, e)
}

func (x *execCtx) fieldErr(err error, f *ast.Field, path []any) {
	code := ""
	if fe, ok := err.(*fieldError); ok {
		code = fe.code
	}
	x.addErr(err.Error(), code, f, path)
}

func isNil(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface:
		return rv.IsNil()
	}
	return false
}

func (x *execCtx) complete(t *ast.Type, v any, fs []*ast.Field, path []any) (any, bool) {
	if isNil(v) {
		if t.NonNull {
			x.addErr(fmt.Sprintf("Cannot return null for non-nullable field %s", fs[0].Name), "", fs[0], path)
			return nil, false
		}
		return nil, true
	}
	if t.Elem != nil {
		list, ok := v.([]any)
		if !ok {
			list = []any{v}
		}
		out := make([]any, len(list))
		for i, item := range list {
			cv, ok := x.complete(t.Elem, item, fs, append(path[:len(path):len(path)], i))
			if !ok {
				return x.nullFor(t)
			}
			out[i] = cv
		}
		return out, true
	}
	def := x.s.schema.Types[t.NamedType]
	switch def.Kind {
	case ast.Scalar, ast.Enum:
		return v, true
	case ast.Interface, ast.Union:
		name := typeNameOf(v)
		if name == "" {
			name = extraTypeName(v)
		}
		def = x.s.schema.Types[name]
		if def == nil {
			x.addErr("Could not resolve the concrete type of "+t.NamedType, "", fs[0], path)
			return x.nullFor(t)
		}
	}
	if x.free == 0 {
		switch {
		case strings.HasSuffix(def.Name, "Connection"):
			x.actual += 2
		case strings.HasSuffix(def.Name, "Edge") || def.Name == "PageInfo":
		default:
			x.actual++
		}
	}
	sets := make([]ast.SelectionSet, len(fs))
	for i, f := range fs {
		sets[i] = f.SelectionSet
	}
	res, ok := x.executeObject(def, v, sets, path, false)
	if !ok {
		return x.nullFor(t)
	}
	return res, true
}

// requestedCost computes the static cost of the operation: scalars and
// enums 0, objects 1, connections 2 + first×(cost of one node), lists of
// objects first×(object), mutation fields as mutationFieldCost prices them.
func (s *Server) requestedCost(op *ast.OperationDefinition, vars map[string]any) int {
	if op.Operation == ast.Mutation {
		n := 0
		var walk func(set ast.SelectionSet)
		walk = func(set ast.SelectionSet) {
			for _, sel := range set {
				switch sel := sel.(type) {
				case *ast.Field:
					if !strings.HasPrefix(sel.Name, "__") {
						n += s.mutationFieldCost(sel, vars)
					}
				case *ast.InlineFragment:
					walk(sel.SelectionSet)
				case *ast.FragmentSpread:
					if sel.Definition != nil {
						walk(sel.Definition.SelectionSet)
					}
				}
			}
		}
		walk(op.SelectionSet)
		return n
	}
	return s.selCost(op.SelectionSet, vars, 0)
}

// sizePricedMutations are the mutations priced by the size of their
// input: 10 + 1 per entry of the named list of the input argument (the
// simulator's model of Shopify's dynamic mutation pricing).
var sizePricedMutations = map[string]string{
	"inventorySetQuantities":    "quantities",
	"inventoryAdjustQuantities": "changes",
}

// mutationFieldCost is the cost of one mutation root field: 10, plus one
// per input entry for size-priced mutations.
func (s *Server) mutationFieldCost(f *ast.Field, vars map[string]any) int {
	list, ok := sizePricedMutations[f.Name]
	if !ok {
		return 10
	}
	in, _ := f.ArgumentMap(vars)["input"].(map[string]any)
	entries, _ := in[list].([]any)
	return 10 + len(entries)
}

func (s *Server) selCost(set ast.SelectionSet, vars map[string]any, depth int) int {
	if depth > 32 {
		return 0
	}
	sum := 0
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			sum += s.fieldCost(sel, vars, depth)
		case *ast.InlineFragment:
			sum += s.selCost(sel.SelectionSet, vars, depth+1)
		case *ast.FragmentSpread:
			if sel.Definition != nil {
				sum += s.selCost(sel.Definition.SelectionSet, vars, depth+1)
			}
		}
	}
	return sum
}

func (s *Server) fieldCost(f *ast.Field, vars map[string]any, depth int) int {
	if f.Definition == nil || strings.HasPrefix(f.Name, "__") {
		return 0
	}
	t := f.Definition.Type
	def := s.schema.Types[t.Name()]
	if def == nil || def.Kind == ast.Scalar || def.Kind == ast.Enum {
		return 0
	}
	var n int64 = -1
	if len(f.Arguments) > 0 {
		args := f.ArgumentMap(vars)
		if v, ok := toInt64(args["first"]); ok {
			n = v
		} else if v, ok := toInt64(args["last"]); ok {
			n = v
		}
	}
	if strings.HasSuffix(def.Name, "Connection") && def.Fields.ForName("pageInfo") != nil {
		if n < 0 {
			n = 0
		}
		return 2 + int(n)*s.nodeCost(f.SelectionSet, vars, depth+1)
	}
	one := 1 + s.selCost(f.SelectionSet, vars, depth+1)
	if t.Elem != nil && n >= 0 {
		return int(n) * one
	}
	return one
}

// nodeCost is the cost of one node of a connection selection.
func (s *Server) nodeCost(set ast.SelectionSet, vars map[string]any, depth int) int {
	sum := 0
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			switch sel.Name {
			case "nodes":
				sum += 1 + s.selCost(sel.SelectionSet, vars, depth+1)
			case "edges":
				for _, es := range sel.SelectionSet {
					if ef, ok := es.(*ast.Field); ok && ef.Name == "node" {
						sum += 1 + s.selCost(ef.SelectionSet, vars, depth+1)
					}
				}
			}
		case *ast.InlineFragment:
			sum += s.nodeCost(sel.SelectionSet, vars, depth+1)
		case *ast.FragmentSpread:
			if sel.Definition != nil {
				sum += s.nodeCost(sel.Definition.SelectionSet, vars, depth+1)
			}
		}
	}
	return sum
}

// writeValue serialises an execution result.
func writeValue(b *bytes.Buffer, v any) {
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case *omap:
		if v == nil {
			b.WriteString("null")
			return
		}
		b.WriteByte('{')
		for i, k := range v.keys {
			if i > 0 {
				b.WriteByte(',')
			}
			writeString(b, k)
			b.WriteByte(':')
			writeValue(b, v.vals[i])
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			writeValue(b, e)
		}
		b.WriteByte(']')
	case string:
		writeString(b, v)
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case int:
		b.WriteString(strconv.Itoa(v))
	case int64:
		b.WriteString(strconv.FormatInt(v, 10))
	case float64:
		if math.IsInf(v, 0) || math.IsNaN(v) {
			b.WriteString("null")
			return
		}
		b.WriteString(strconv.FormatFloat(v, 'f', -1, 64))
	case json.Number:
		b.WriteString(v.String())
	default:
		j, err := json.Marshal(v)
		if err != nil {
			b.WriteString("null")
			return
		}
		b.Write(j)
	}
}

func writeString(b *bytes.Buffer, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b.WriteString(s[start:i])
			switch c {
			case '"', '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case '\n':
				b.WriteString(`\n`)
			case '\r':
				b.WriteString(`\r`)
			case '\t':
				b.WriteString(`\t`)
			default:
				b.WriteString(`\u00`)
				b.WriteByte(hex[c>>4])
				b.WriteByte(hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteString(s[start:i])
			b.WriteString(`\ufffd`)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b.WriteString(s[start:i])
			fmt.Fprintf(b, `\u%04x`, r)
			i += size
			start = i
			continue
		}
		i += size
	}
	b.WriteString(s[start:])
	b.WriteByte('"')
}
