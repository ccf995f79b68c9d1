package shopifysim

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
)

// Bulk query limits. Shopify lets an app run up to five bulk query
// operations at a time per shop from API version 2026-01 (one before); a
// bulk query must select at least one connection, at most five, nested at
// most two levels deep.
const (
	DefaultBulkQueryLimit = 5
	maxBulkConnections    = 5
	maxBulkNesting        = 2
	bulkPathPrefix        = "/_sim/bulk/"
	// bulkAllArg marks the arguments of a connection field resolved by a
	// bulk query: paginate then returns every item.
	bulkAllArg = "\x00bulk"
)

// bulkOp is one bulk query operation. Fields change under bulkState.mu;
// resolvers get copies.
type bulkOp struct {
	id                           int64
	query                        string
	status, errorCode            string
	createdAt                    time.Time
	completedAt                  *time.Time
	objectCount, rootObjectCount int64
	fileSize                     int64
	file                         string // JSONL on disk, "" when there is none
	partial                      bool   // file holds partial data of a failed operation
}

// bulkState holds the shop's bulk operations.
type bulkState struct {
	mu       sync.Mutex
	origin   string // scheme://host of the latest GraphQL request, for result URLs
	ops      map[int64]*bulkOp
	latest   *bulkOp
	dir      string
	limit    int
	holds    int
	released chan struct{} // closed when the last hold is released
	failNext string
	closed   bool
	wg       sync.WaitGroup
}

func (b *bulkState) init() {
	if b.ops == nil {
		b.ops = map[int64]*bulkOp{}
	}
}

// noteOrigin remembers the origin requests reach the simulator at, so that
// result URLs point back at it.
func (s *Server) noteOrigin(r *http.Request) {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	origin := scheme + "://" + r.Host
	s.bulk.mu.Lock()
	s.bulk.origin = origin
	s.bulk.mu.Unlock()
}

// SetBulkQueryLimit sets how many bulk queries may be CREATED or RUNNING
// at once (default DefaultBulkQueryLimit; 1 models API versions before
// 2026-01). n < 1 restores the default.
func (s *Server) SetBulkQueryLimit(n int) {
	s.bulk.mu.Lock()
	defer s.bulk.mu.Unlock()
	if n < 1 {
		n = 0
	}
	s.bulk.limit = n
}

// HoldBulkQueries keeps bulk queries created from now on in status CREATED
// until release is called (release is idempotent). Tests use it to observe
// operations in progress and the concurrency limit.
func (s *Server) HoldBulkQueries() (release func()) {
	s.bulk.mu.Lock()
	if s.bulk.holds == 0 {
		s.bulk.released = make(chan struct{})
	}
	s.bulk.holds++
	s.bulk.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.bulk.mu.Lock()
			s.bulk.holds--
			if s.bulk.holds == 0 {
				close(s.bulk.released)
				s.bulk.released = nil
			}
			s.bulk.mu.Unlock()
		})
	}
}

// FailNextBulkQuery makes the next bulk query that runs end FAILED with
// errorCode code (ACCESS_DENIED, INTERNAL_SERVER_ERROR or TIMEOUT) after
// writing half of its objects, served at partialDataUrl.
func (s *Server) FailNextBulkQuery(code string) error {
	switch code {
	case "ACCESS_DENIED", "INTERNAL_SERVER_ERROR", "TIMEOUT":
	default:
		return fmt.Errorf("shopifysim: bulk operation error code %q is not ACCESS_DENIED, INTERNAL_SERVER_ERROR or TIMEOUT", code)
	}
	s.bulk.mu.Lock()
	s.bulk.failNext = code
	s.bulk.mu.Unlock()
	return nil
}

// WaitBulkQueries blocks until no bulk query is running (held ones
// included).
func (s *Server) WaitBulkQueries() { s.bulk.wg.Wait() }

// closeBulk stops accepting bulk queries, waits for running ones and
// removes their result files.
func (s *Server) closeBulk() {
	s.bulk.mu.Lock()
	s.bulk.closed = true
	if s.bulk.released != nil {
		close(s.bulk.released)
		s.bulk.released, s.bulk.holds = nil, 0
	}
	s.bulk.mu.Unlock()
	s.bulk.wg.Wait()
	s.bulk.mu.Lock()
	defer s.bulk.mu.Unlock()
	if s.bulk.dir != "" {
		_ = os.RemoveAll(s.bulk.dir)
		s.bulk.dir = ""
	}
}

// bulkView is a consistent copy of a bulkOp with the URLs resolved.
type bulkView struct {
	op              bulkOp
	url, partialURL string
}

func (s *Server) bulkViewLocked(op *bulkOp) *bulkView {
	v := &bulkView{op: *op}
	if op.file != "" {
		u := s.bulk.origin + bulkPathPrefix + strconv.FormatInt(op.id, 10) + ".jsonl"
		if op.partial {
			v.partialURL = u
		} else {
			v.url = u
		}
	}
	return v
}

func (s *Server) bulkByID(id int64) *bulkView {
	s.bulk.mu.Lock()
	defer s.bulk.mu.Unlock()
	if op := s.bulk.ops[id]; op != nil {
		return s.bulkViewLocked(op)
	}
	return nil
}

// serveBulkFile serves GET /_sim/bulk/<id>.jsonl: the result of a bulk
// query, like the signed storage URL Shopify hands out (no token).
func (s *Server) serveBulkFile(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, "GET")
		return
	}
	name, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, bulkPathPrefix), ".jsonl")
	id, err := strconv.ParseInt(name, 10, 64)
	if !ok || err != nil {
		writeJSON(w, http.StatusNotFound, map[string]any{"errors": "Not Found"})
		return
	}
	s.bulk.mu.Lock()
	var file string
	if op := s.bulk.ops[id]; op != nil {
		file = op.file
	}
	s.bulk.mu.Unlock()
	if file == "" {
		writeJSON(w, http.StatusNotFound, map[string]any{"errors": "Not Found"})
		return
	}
	f, err := os.Open(file)
	if err != nil {
		writeJSON(w, http.StatusNotFound, map[string]any{"errors": "Not Found"})
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]any{"errors": "internal error"})
		return
	}
	w.Header().Set("Content-Type", "application/jsonl")
	http.ServeContent(w, r, "", st.ModTime(), f)
}

func registerBulk() {
	register("Mutation", map[string]resolverFunc{
		"bulkOperationRunQuery": func(x *execCtx, _ any, a map[string]any) (any, error) { return x.bulkOperationRunQuery(a) },
	})
	register("QueryRoot", map[string]resolverFunc{
		"bulkOperation": func(x *execCtx, _ any, a map[string]any) (any, error) {
			if id, ok := idOf(a["id"], "BulkOperation"); ok {
				if v := x.s.bulkByID(id); v != nil {
					return v, nil
				}
			}
			return nil, nil
		},
		"currentBulkOperation": func(x *execCtx, _ any, a map[string]any) (any, error) {
			if t := argStr(a, "type"); t != "" && t != "QUERY" {
				return nil, nil // bulk mutations are not simulated
			}
			x.s.bulk.mu.Lock()
			defer x.s.bulk.mu.Unlock()
			if x.s.bulk.latest == nil {
				return nil, nil
			}
			return x.s.bulkViewLocked(x.s.bulk.latest), nil
		},
		"bulkOperations": func(x *execCtx, _ any, a map[string]any) (any, error) { return x.bulkOperations(a) },
		"node":           func(x *execCtx, _ any, a map[string]any) (any, error) { return x.node(a["id"]), nil },
		"nodes": func(x *execCtx, _ any, a map[string]any) (any, error) {
			ids := argList(a, "ids")
			out := make([]any, len(ids))
			for i, id := range ids {
				out[i] = x.node(id)
			}
			return out, nil
		},
	})
	op := func(get func(o *bulkView) any) resolverFunc {
		return func(_ *execCtx, p any, _ map[string]any) (any, error) { return get(p.(*bulkView)), nil }
	}
	register("BulkOperation", map[string]resolverFunc{
		"id":              op(func(o *bulkView) any { return gid("BulkOperation", o.op.id) }),
		"status":          op(func(o *bulkView) any { return o.op.status }),
		"type":            op(func(*bulkView) any { return "QUERY" }),
		"query":           op(func(o *bulkView) any { return o.op.query }),
		"errorCode":       op(func(o *bulkView) any { return nz(o.op.errorCode) }),
		"createdAt":       op(func(o *bulkView) any { return dt(o.op.createdAt) }),
		"completedAt":     op(func(o *bulkView) any { return dtp(o.op.completedAt) }),
		"objectCount":     op(func(o *bulkView) any { return strconv.FormatInt(o.op.objectCount, 10) }),
		"rootObjectCount": op(func(o *bulkView) any { return strconv.FormatInt(o.op.rootObjectCount, 10) }),
		"fileSize": op(func(o *bulkView) any {
			if o.url == "" {
				return nil
			}
			return strconv.FormatInt(o.op.fileSize, 10)
		}),
		"url":            op(func(o *bulkView) any { return nz(o.url) }),
		"partialDataUrl": op(func(o *bulkView) any { return nz(o.partialURL) }),
	})
}

// bulkOperations lists the shop's bulk queries, newest first (reverse:
// oldest first), filtered by query terms status:<status> and
// operation_type:query|mutation.
func (x *execCtx) bulkOperations(a map[string]any) (any, error) {
	var status, opType string
	for _, term := range strings.Fields(argStr(a, "query")) {
		k, v, ok := strings.Cut(term, ":")
		switch {
		case ok && k == "status":
			status = strings.ToUpper(v)
		case ok && k == "operation_type":
			opType = strings.ToUpper(v)
		default:
			return nil, errf("", "bulkOperations: the simulator supports only the status: and operation_type: filters, got %q", term)
		}
	}
	b := &x.s.bulk
	b.mu.Lock()
	defer b.mu.Unlock()
	var items []pageItem
	if opType == "" || opType == "QUERY" {
		for _, op := range b.ops {
			if status == "" || op.status == status {
				items = append(items, pageItem{v: -op.id, id: op.id, node: x.s.bulkViewLocked(op)})
			}
		}
	}
	sortItems(items)
	return paginate(items, a)
}

// node resolves any GID the simulator knows, bulk operations included.
func (x *execCtx) node(id any) any {
	if n, ok := idOf(id, "BulkOperation"); ok {
		if v := x.s.bulkByID(n); v != nil {
			return v
		}
		return nil
	}
	return x.st.node(id)
}

// extraTypeName maps values defined outside state.go to their GraphQL type.
func extraTypeName(v any) string {
	if _, ok := v.(*bulkView); ok {
		return "BulkOperation"
	}
	return returnTypeName(v)
}

func bulkUserError(code, format string, a ...any) (any, error) {
	return payload{"bulkOperation": (*bulkView)(nil), "userErrors": userErrs([]*userError{ue([]string{"query"}, code, format, a...)})}, nil
}

// bulkOperationRunQuery validates the query, records the operation as
// CREATED and runs it in the background.
func (x *execCtx) bulkOperationRunQuery(a map[string]any) (any, error) {
	s := x.s
	query := argStr(a, "query")
	entry := s.docs.get(query)
	if entry.errs != nil {
		return bulkUserError("INVALID", "Invalid bulk query: %s", entry.errs[0].Message)
	}
	def, gerr := selectOperation(entry.doc, "")
	if gerr != nil {
		return bulkUserError("INVALID", "Invalid bulk query: %s", gerr.Message)
	}
	if def.Operation != ast.Query {
		return bulkUserError("INVALID", "Invalid bulk query: bulkOperationRunQuery only runs queries; use bulkOperationRunMutation for mutations")
	}
	if len(def.VariableDefinitions) > 0 {
		return bulkUserError("INVALID", "Invalid bulk query: variables are not supported in bulk queries")
	}
	if msg := s.checkBulkShape(def); msg != "" {
		return bulkUserError("INVALID", "Invalid bulk query: %s", msg)
	}

	b := &s.bulk
	b.mu.Lock()
	defer b.mu.Unlock()
	b.init()
	if b.closed {
		return nil, errf("INTERNAL_SERVER_ERROR", "the simulator is shutting down")
	}
	limit := b.limit
	if limit == 0 {
		limit = DefaultBulkQueryLimit
	}
	var running []*bulkOp
	for _, o := range b.ops {
		if o.status == "CREATED" || o.status == "RUNNING" {
			running = append(running, o)
		}
	}
	if len(running) >= limit {
		if limit == 1 {
			return bulkUserError("OPERATION_IN_PROGRESS", "A bulk query operation for this app and shop is already in progress: %s.", gid("BulkOperation", running[0].id))
		}
		return bulkUserError("LIMIT_REACHED", "Bulk operations limit reached (%d bulk queries in progress). Please try again later.", len(running))
	}
	op := &bulkOp{id: x.st.newID(), query: query, status: "CREATED", createdAt: x.now}
	b.ops[op.id] = op
	b.latest = op
	failCode := b.failNext
	b.failNext = ""
	hold := b.released
	b.wg.Add(1)
	go s.runBulk(op, entry.doc, def, hold, failCode)
	return payload{"bulkOperation": s.bulkViewLocked(op), "userErrors": []any{}}, nil
}

// checkBulkShape enforces Shopify's bulk query rules: one top-level field,
// at least one and at most five connections, nested at most two deep.
func (s *Server) checkBulkShape(def *ast.OperationDefinition) string {
	roots := 0
	for _, sel := range def.SelectionSet {
		switch sel.(type) {
		case *ast.Field:
			roots++
		default:
			return "fragments are not supported at the top level of a bulk query"
		}
	}
	if roots != 1 {
		return "a bulk query must select exactly one top-level field"
	}
	conns, deepest := 0, 0
	var walk func(set ast.SelectionSet, depth, guard int)
	walk = func(set ast.SelectionSet, depth, guard int) {
		if guard > 64 {
			return
		}
		for _, sel := range set {
			switch sel := sel.(type) {
			case *ast.Field:
				d := depth
				if sel.Definition != nil && s.isConnection(sel.Definition.Type) {
					conns++
					d++
					deepest = max(deepest, d)
				}
				walk(sel.SelectionSet, d, guard+1)
			case *ast.InlineFragment:
				walk(sel.SelectionSet, depth, guard+1)
			case *ast.FragmentSpread:
				if sel.Definition != nil {
					walk(sel.Definition.SelectionSet, depth, guard+1)
				}
			}
		}
	}
	walk(def.SelectionSet, 0, 0)
	switch {
	case conns == 0:
		return "Bulk queries must contain at least one connection."
	case conns > maxBulkConnections:
		return fmt.Sprintf("Bulk queries cannot contain more than %d connections.", maxBulkConnections)
	case deepest > maxBulkNesting:
		return fmt.Sprintf("Bulk queries cannot contain connections with a nesting depth greater than %d.", maxBulkNesting)
	}
	return ""
}

// isConnection reports whether t is a Relay connection type.
func (s *Server) isConnection(t *ast.Type) bool {
	if t.Elem != nil {
		return false
	}
	def := s.schema.Types[t.NamedType]
	return def != nil && strings.HasSuffix(def.Name, "Connection") && def.Fields.ForName("pageInfo") != nil
}

// runBulk executes op under the state's read lock and writes its JSONL
// file.
func (s *Server) runBulk(op *bulkOp, doc *ast.QueryDocument, def *ast.OperationDefinition, hold <-chan struct{}, failCode string) {
	defer s.bulk.wg.Done()
	if hold != nil {
		<-hold
	}
	s.bulk.mu.Lock()
	if s.bulk.closed {
		op.status = "CANCELED"
		s.bulk.mu.Unlock()
		return
	}
	op.status = "RUNNING"
	dir := s.bulk.dir
	if dir == "" {
		d, err := os.MkdirTemp("", "shopifysim-bulk-")
		if err == nil {
			s.bulk.dir, dir = d, d
		}
	}
	s.bulk.mu.Unlock()

	finish := func(status, code string, res *bulkRun, file string) {
		s.bulk.mu.Lock()
		defer s.bulk.mu.Unlock()
		now := s.now().UTC()
		op.status, op.errorCode = status, code
		if res != nil {
			op.objectCount, op.rootObjectCount, op.fileSize = res.objects, res.roots, res.size
		}
		if status == "COMPLETED" {
			op.completedAt = &now
		}
		if file != "" && res != nil && res.objects > 0 {
			op.file = file
			op.partial = status != "COMPLETED"
		} else if file != "" {
			_ = os.Remove(file)
		}
	}
	if dir == "" {
		s.log.Error("shopifysim: bulk query: no temporary directory")
		finish("FAILED", "INTERNAL_SERVER_ERROR", nil, "")
		return
	}
	file := filepath.Join(dir, strconv.FormatInt(op.id, 10)+".jsonl")
	f, err := os.Create(file)
	if err != nil {
		s.log.Error("shopifysim: bulk query: create result file", "error", err)
		finish("FAILED", "INTERNAL_SERVER_ERROR", nil, "")
		return
	}
	res := &bulkRun{w: bufio.NewWriterSize(f, 1<<20)}
	execErr := s.executeBulk(doc, def, res, failCode)
	if err := res.w.Flush(); err != nil && execErr == nil {
		execErr = err
	}
	if err := f.Close(); err != nil && execErr == nil {
		execErr = err
	}
	switch {
	case failCode != "":
		finish("FAILED", failCode, res, file)
	case execErr != nil:
		s.log.Error("shopifysim: bulk query failed", "id", op.id, "error", execErr)
		finish("FAILED", "INTERNAL_SERVER_ERROR", res, file)
	default:
		finish("COMPLETED", "", res, file)
	}
}

// bulkRun is the state of one bulk query's execution.
type bulkRun struct {
	w              *bufio.Writer
	buf            bytes.Buffer
	cur            *bulkLine // the line being built; nil at the top
	top            []bulkPending
	objects, roots int64
	size           int64
	failAfter      int64 // >0: stop after this many objects (injected failure)
	groups         map[collectKey]*fieldGroups
	args           map[*ast.Field]map[string]any
}

// bulkLine is one connection node being turned into a JSONL line.
type bulkLine struct {
	def     *ast.Definition
	node    any
	id      string // resolved when a nested connection needs it
	pending []bulkPending
}

// bulkPending is a connection cut out of its parent's line, to be written
// as lines of its own after it.
type bulkPending struct {
	fd       *ast.FieldDefinition
	conn     any
	fs       []*ast.Field
	path     []any
	parentID string
}

// bulkCut stands for a connection field in a line; it is not written.
type bulkCut struct{}

var errBulkStopped = errors.New("bulk query stopped")

// executeBulk runs the query with every connection unbounded and writes
// each connection node as a line; nodes of a nested connection carry the
// id of the node (or top-level object) they belong to as __parentId.
func (s *Server) executeBulk(doc *ast.QueryDocument, def *ast.OperationDefinition, res *bulkRun, failCode string) (err error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	x := s.newExec(doc, def, map[string]any{})
	x.st = s.st
	x.now = s.now().UTC()
	x.bulk = res
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("shopifysim: panic during bulk query", "panic", r, "stack", string(debug.Stack()))
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	if failCode != "" {
		res.failAfter = max(1, s.countBulk(x, def)/2)
	}
	if _, ok := x.executeObject(s.schema.Query, rootValue{}, []ast.SelectionSet{def.SelectionSet}, nil, false); !ok || len(x.errs) > 0 {
		return bulkExecErr(x)
	}
	top := res.top
	res.top = nil
	for _, p := range top {
		if err := x.bulkEmit(p, true); err != nil {
			if errors.Is(err, errBulkStopped) {
				return nil
			}
			return err
		}
	}
	if len(x.errs) > 0 {
		return bulkExecErr(x)
	}
	return nil
}

// countBulk counts the objects the query would write (for injected
// failures halfway).
func (s *Server) countBulk(x *execCtx, def *ast.OperationDefinition) int64 {
	dry := &bulkRun{w: bufio.NewWriterSize(discard{}, 4096)}
	saved := x.bulk
	x.bulk = dry
	defer func() { x.bulk, x.errs = saved, nil }()
	if _, ok := x.executeObject(s.schema.Query, rootValue{}, []ast.SelectionSet{def.SelectionSet}, nil, false); !ok {
		return 0
	}
	for _, p := range dry.top {
		if x.bulkEmit(p, true) != nil {
			break
		}
	}
	return dry.objects
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func bulkExecErr(x *execCtx) error {
	if len(x.errs) == 0 {
		return errors.New("execution failed")
	}
	msgs := make([]string, 0, 3)
	for i, e := range x.errs {
		if i == 3 {
			msgs = append(msgs, fmt.Sprintf("(%d more)", len(x.errs)-3))
			break
		}
		msgs = append(msgs, e.Message)
	}
	return errors.New(strings.Join(msgs, "; "))
}

// bulkArgs makes a connection field unbounded in a bulk query: first,
// last, after and before are ignored.
func (x *execCtx) bulkArgs(fd *ast.FieldDefinition, args map[string]any) map[string]any {
	if !x.s.isConnection(fd.Type) {
		return args
	}
	out := make(map[string]any, len(args)+1)
	for k, v := range args {
		switch k {
		case "first", "last", "after", "before":
		default:
			out[k] = v
		}
	}
	out[bulkAllArg] = true
	return out
}

// fieldArgs returns the arguments of f, computed once per bulk query:
// they cannot vary (a bulk query has no variables) and resolvers only
// read them.
func (r *bulkRun) fieldArgs(x *execCtx, f *ast.Field, fd *ast.FieldDefinition) map[string]any {
	if a, ok := r.args[f]; ok {
		return a
	}
	a := f.ArgumentMap(x.vars)
	if a == nil {
		a = map[string]any{}
	}
	a = x.bulkArgs(fd, a)
	if r.args == nil {
		r.args = map[*ast.Field]map[string]any{}
	}
	r.args[f] = a
	return a
}

// bulkDefer records a resolved connection to be written after the current
// line and returns the placeholder that keeps it out of the line.
func (x *execCtx) bulkDefer(parentDef *ast.Definition, parent any, fd *ast.FieldDefinition, v any, fs []*ast.Field, path []any) (any, bool) {
	p := bulkPending{fd: fd, conn: v, fs: fs, path: path}
	if cur := x.bulk.cur; cur != nil {
		if cur.id == "" {
			cur.id = x.idOf(cur.def, cur.node)
		}
		p.parentID = cur.id
		cur.pending = append(cur.pending, p)
	} else {
		if _, root := parent.(rootValue); !root {
			p.parentID = x.idOf(parentDef, parent)
		}
		x.bulk.top = append(x.bulk.top, p)
	}
	return bulkCut{}, true
}

// idOf resolves the id field of obj, "" when its type has none.
func (x *execCtx) idOf(def *ast.Definition, obj any) string {
	if def.Fields.ForName("id") == nil {
		return ""
	}
	r := lookupResolver(def.Name, "id")
	if r == nil {
		return ""
	}
	v, err := r(x, obj, map[string]any{})
	if err != nil {
		return ""
	}
	id, _ := v.(string)
	return id
}

// bulkEmit writes the nodes of a pending connection, each followed by the
// lines of its own nested connections.
func (x *execCtx) bulkEmit(p bulkPending, root bool) error {
	c, ok := p.conn.(*connection)
	if !ok || c == nil {
		return nil
	}
	connDef := x.s.schema.Types[p.fd.Type.Name()]
	nodeType, sets := x.bulkNodeSelection(connDef, p.fs)
	if nodeType == nil || len(sets) == 0 {
		return nil
	}
	res := x.bulk
	for _, n := range c.nodes {
		if isNil(n) {
			continue
		}
		def := nodeType
		if def.Kind == ast.Interface || def.Kind == ast.Union {
			if def = x.s.schema.Types[typeNameOf(n)]; def == nil {
				continue
			}
		}
		if res.failAfter > 0 && res.objects >= res.failAfter {
			return errBulkStopped
		}
		line := &bulkLine{def: def, node: n}
		saved := res.cur
		res.cur = line
		obj, ok := x.executeObject(def, n, sets, p.path, false)
		res.cur = saved
		if !ok {
			return bulkExecErr(x)
		}
		res.buf.Reset()
		writeBulkLine(&res.buf, obj, p.parentID)
		nw, err := res.w.Write(res.buf.Bytes())
		if err != nil {
			return err
		}
		res.size += int64(nw)
		res.objects++
		if root {
			res.roots++
		}
		for _, child := range line.pending {
			if err := x.bulkEmit(child, false); err != nil {
				return err
			}
		}
	}
	return nil
}

// bulkNodeSelection returns the node type of a connection and the
// selection sets applied to its nodes (nodes {…} and edges { node {…} }).
func (x *execCtx) bulkNodeSelection(connDef *ast.Definition, fs []*ast.Field) (*ast.Definition, []ast.SelectionSet) {
	if connDef == nil {
		return nil, nil
	}
	sets := make([]ast.SelectionSet, len(fs))
	for i, f := range fs {
		sets[i] = f.SelectionSet
	}
	g := x.collect(connDef, sets)
	var nodeType *ast.Definition
	var out []ast.SelectionSet
	for _, key := range g.keys {
		for _, f := range g.m[key] {
			switch f.Name {
			case "nodes":
				if fd := connDef.Fields.ForName("nodes"); fd != nil {
					nodeType = x.s.schema.Types[fd.Type.Name()]
				}
				out = append(out, f.SelectionSet)
			case "edges":
				fd := connDef.Fields.ForName("edges")
				if fd == nil {
					continue
				}
				edgeDef := x.s.schema.Types[fd.Type.Name()]
				eg := x.collect(edgeDef, []ast.SelectionSet{f.SelectionSet})
				for _, ek := range eg.keys {
					for _, ef := range eg.m[ek] {
						if ef.Name != "node" {
							continue
						}
						if nfd := edgeDef.Fields.ForName("node"); nfd != nil {
							nodeType = x.s.schema.Types[nfd.Type.Name()]
						}
						out = append(out, ef.SelectionSet)
					}
				}
			}
		}
	}
	return nodeType, out
}

// writeBulkLine writes one JSONL line: the node's fields without its
// connections, then __parentId when it has a parent.
func writeBulkLine(b *bytes.Buffer, m *omap, parentID string) {
	b.WriteByte('{')
	n := writeBulkFields(b, m)
	if parentID != "" {
		if n > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"__parentId":`)
		writeString(b, parentID)
	}
	b.WriteString("}\n")
}

func writeBulkFields(b *bytes.Buffer, m *omap) int {
	n := 0
	for i, k := range m.keys {
		if _, cut := m.vals[i].(bulkCut); cut {
			continue
		}
		if n > 0 {
			b.WriteByte(',')
		}
		writeString(b, k)
		b.WriteByte(':')
		writeBulkValue(b, m.vals[i])
		n++
	}
	return n
}

func writeBulkValue(b *bytes.Buffer, v any) {
	switch v := v.(type) {
	case *omap:
		if v == nil {
			b.WriteString("null")
			return
		}
		b.WriteByte('{')
		writeBulkFields(b, v)
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			writeBulkValue(b, e)
		}
		b.WriteByte(']')
	default:
		writeValue(b, v)
	}
}

// bulkConnection is a connection holding every item, in order (reversed
// when reverse is set), without cursors: a bulk query writes nodes only.
func bulkConnection(items []pageItem, reverse bool) *connection {
	c := &connection{nodes: make([]any, len(items)), cursors: make([]string, len(items)), info: &pageInfo{}}
	for i, it := range items {
		if reverse {
			c.nodes[len(items)-1-i] = it.node
		} else {
			c.nodes[i] = it.node
		}
	}
	return c
}

// collectKey identifies a field collection: the object type and the
// selection sets (by their first selection; at most four sets).
type collectKey struct {
	def  *ast.Definition
	n    int
	sets [4]ast.Selection
}

// collect memoises field collection: a bulk query collects the same
// selection sets for every node, and its directives cannot vary (no
// variables).
func (r *bulkRun) collect(def *ast.Definition, sets []ast.SelectionSet, compute func(*ast.Definition, []ast.SelectionSet) *fieldGroups) *fieldGroups {
	if len(sets) > len(collectKey{}.sets) {
		return compute(def, sets)
	}
	k := collectKey{def: def, n: len(sets)}
	for i, set := range sets {
		if len(set) > 0 {
			k.sets[i] = set[0]
		}
	}
	if g, ok := r.groups[k]; ok {
		return g
	}
	g := compute(def, sets)
	if r.groups == nil {
		r.groups = map[collectKey]*fieldGroups{}
	}
	r.groups[k] = g
	return g
}
