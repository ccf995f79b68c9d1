package shopifysim

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/validator"

	"github.com/crossdock/crossdock/internal/shopifyschema"
)

// gqlError is one entry of a GraphQL response's "errors" list.
type gqlError struct {
	Message    string         `json:"message"`
	Locations  []errLocation  `json:"locations,omitempty"`
	Path       []any          `json:"path,omitempty"`
	Extensions map[string]any `json:"extensions,omitempty"`
}

type errLocation struct {
	Line   int `json:"line"`
	Column int `json:"column"`
}

func locOf(p *ast.Position) []errLocation {
	if p == nil {
		return nil
	}
	return []errLocation{{Line: p.Line, Column: p.Column}}
}

// ruleCodes maps gqlparser's validation rules to the static-validation
// codes Shopify (graphql-ruby) reports.
var ruleCodes = map[string]string{
	"FieldsOnCorrectType":          "undefinedField",
	"FragmentsOnCompositeTypes":    "fragmentOnNonCompositeType",
	"KnownArgumentNames":           "argumentNotAccepted",
	"KnownDirectives":              "undefinedDirective",
	"KnownFragmentNames":           "undefinedFragment",
	"KnownRootType":                "missingRootType",
	"KnownTypeNames":               "undefinedType",
	"LoneAnonymousOperation":       "anonymousOperationNotAlone",
	"NoFragmentCycles":             "infiniteLoop",
	"NoUndefinedVariables":         "variableNotDefined",
	"NoUnusedFragments":            "useAndDefineFragment",
	"NoUnusedVariables":            "variableNotUsed",
	"OverlappingFieldsCanBeMerged": "fieldConflict",
	"PossibleFragmentSpreads":      "cannotSpreadFragment",
	"ProvidedRequiredArguments":    "missingRequiredArguments",
	"ScalarLeafs":                  "selectionMismatch",
	"SingleFieldSubscriptions":     "subscriptionTooManyFields",
	"UniqueArgumentNames":          "argumentNotUnique",
	"UniqueDirectivesPerLocation":  "directiveNotUniqueForLocation",
	"UniqueFragmentNames":          "fragmentNotUnique",
	"UniqueInputFieldNames":        "inputFieldNotUnique",
	"UniqueOperationNames":         "operationNotUnique",
	"UniqueVariableNames":          "variableNotUnique",
	"ValuesOfCorrectType":          "argumentLiteralsIncompatible",
	"VariablesAreInputTypes":       "variableRequiresValidType",
	"VariablesInAllowedPosition":   "variableMismatch",
}

func convertValidationErrors(list gqlerror.List) []gqlError {
	out := make([]gqlError, 0, len(list))
	for _, e := range list {
		code := ruleCodes[e.Rule]
		if code == "" {
			if e.Rule == "" {
				code = "parseError"
			} else {
				code = "invalidQuery"
			}
		}
		ge := gqlError{Message: e.Message, Extensions: map[string]any{"code": code}}
		for _, l := range e.Locations {
			ge.Locations = append(ge.Locations, errLocation{Line: l.Line, Column: l.Column})
		}
		out = append(out, ge)
	}
	return out
}

// docCache memoises validation by query text.
type docCache struct {
	mu  sync.RWMutex
	max int
	m   map[string]*docEntry
}

type docEntry struct {
	doc  *ast.QueryDocument
	errs []gqlError
}

func (c *docCache) init(max int) {
	c.max = max
	c.m = make(map[string]*docEntry, max)
}

func (c *docCache) get(query string) *docEntry {
	c.mu.RLock()
	e := c.m[query]
	c.mu.RUnlock()
	if e != nil {
		return e
	}
	doc, errs := shopifyschema.Validate(query)
	e = &docEntry{doc: doc}
	if len(errs) > 0 {
		e.doc = nil
		e.errs = convertValidationErrors(errs)
	}
	c.mu.Lock()
	if len(c.m) >= c.max {
		for k := range c.m { // evict an arbitrary entry
			delete(c.m, k)
			break
		}
	}
	c.m[query] = e
	c.mu.Unlock()
	return e
}

type gqlRequest struct {
	Query         string         `json:"query"`
	Variables     map[string]any `json:"variables"`
	OperationName string         `json:"operationName"`
}

type costExt struct {
	RequestedQueryCost int            `json:"requestedQueryCost"`
	ActualQueryCost    *int           `json:"actualQueryCost"`
	ThrottleStatus     throttleStatus `json:"throttleStatus"`
}

func (s *Server) serveGraphQL(w http.ResponseWriter, r *http.Request) {
	s.ctr.requests.Add(1)
	if r.Method != http.MethodPost {
		methodNotAllowed(w, "POST")
		return
	}
	tok := r.Header.Get("X-Shopify-Access-Token")
	if tok == "" || subtle.ConstantTimeCompare([]byte(tok), []byte(s.cfg.AccessToken)) != 1 {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"errors": invalidTokenMessage})
		return
	}
	f := s.Faults()
	if s.roll(f.HTTP429Rate) {
		s.ctr.injected429.Add(1)
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusTooManyRequests, map[string]any{"errors": "Exceeded the rate limit for this shop. Reduce request rates to resume uninterrupted service."})
		return
	}
	if s.roll(f.HTTP5xxRate) {
		s.ctr.injected5xx.Add(1)
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"errors": "Service Unavailable: injected by the crossdock Shopify simulator"})
		return
	}
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("shopifysim: panic while serving GraphQL", "panic", p)
			writeJSON(w, http.StatusInternalServerError, map[string]any{"errors": "Internal error"})
		}
	}()
	req, err := decodeRequest(r)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"errors": err.Error()})
		return
	}
	status, body := s.handleGraphQL(req)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Request-Id", s.uuid())
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func decodeRequest(r *http.Request) (*gqlRequest, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("could not read request body: %v", err)
	}
	if len(body) > maxBodyBytes {
		return nil, errors.New("request body too large")
	}
	req := &gqlRequest{}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/graphql" {
		req.Query = string(body)
		return req, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(req); err != nil {
		return nil, fmt.Errorf("invalid JSON in request body: %v", err)
	}
	if dec.More() {
		return nil, errors.New("invalid JSON in request body: trailing data")
	}
	return req, nil
}

// handleGraphQL runs one decoded request and returns the HTTP status and
// JSON body.
func (s *Server) handleGraphQL(req *gqlRequest) (int, []byte) {
	if strings.TrimSpace(req.Query) == "" {
		return s.errorResponse([]gqlError{{Message: "No query string was present", Extensions: map[string]any{"code": "missingQuery"}}}, nil)
	}
	entry := s.docs.get(req.Query)
	if entry.errs != nil {
		return s.errorResponse(entry.errs, nil)
	}
	op, gerr := selectOperation(entry.doc, req.OperationName)
	if gerr != nil {
		return s.errorResponse([]gqlError{*gerr}, nil)
	}
	if req.Variables == nil {
		req.Variables = map[string]any{}
	}
	vars, verrs := s.coerceVariables(op, req.Variables)
	if verrs != nil {
		return s.errorResponse(verrs, nil)
	}
	if errs := s.checkInputs(op, vars); len(errs) > 0 {
		return s.errorResponse(errs, nil)
	}
	requested := s.requestedCost(op, vars)
	if requested > s.cfg.MaxQueryCost {
		s.ctr.maxCost.Add(1)
		_, ts := s.takeFromBucket(0)
		return s.errorResponse([]gqlError{{
			Message: fmt.Sprintf("Query cost is %d, which exceeds the single query max cost limit (%d).\n\n"+
				"See https://shopify.dev/concepts/about-apis/rate-limits for more information on how the\n"+
				"cost of a query is calculated.\n\nTo query larger amounts of data with fewer limits, bulk operations should be used instead.\n"+
				"See https://shopify.dev/tutorials/perform-bulk-operations-with-admin-api for usage details.\n", requested, s.cfg.MaxQueryCost),
			Extensions: map[string]any{"code": "MAX_COST_EXCEEDED", "cost": requested, "maxCost": s.cfg.MaxQueryCost},
		}}, &costExt{RequestedQueryCost: requested, ThrottleStatus: ts})
	}
	ok, ts := s.takeFromBucket(requested)
	if !ok {
		s.ctr.throttled.Add(1)
		return s.errorResponse([]gqlError{{
			Message:    "Throttled",
			Extensions: map[string]any{"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"},
		}}, &costExt{RequestedQueryCost: requested, ThrottleStatus: ts})
	}

	x := s.newExec(entry.doc, op, vars)
	data := s.run(x)
	actual := min(x.actual, requested)
	ts = s.refund(requested - actual)
	s.ctr.pointsCharged.Add(int64(actual))
	s.emit(x.events)

	var buf bytes.Buffer
	buf.Grow(512)
	buf.WriteString(`{"data":`)
	writeValue(&buf, data)
	if len(x.errs) > 0 {
		eb, _ := json.Marshal(x.errs)
		buf.WriteString(`,"errors":`)
		buf.Write(eb)
	}
	cb, _ := json.Marshal(map[string]any{"cost": costExt{RequestedQueryCost: requested, ActualQueryCost: &actual, ThrottleStatus: ts}})
	buf.WriteString(`,"extensions":`)
	buf.Write(cb)
	buf.WriteByte('}')
	return http.StatusOK, buf.Bytes()
}

// errorResponse renders a request-level failure (nothing executed).
func (s *Server) errorResponse(errs []gqlError, cost *costExt) (int, []byte) {
	if cost == nil {
		_, ts := s.takeFromBucket(0)
		zero := 0
		cost = &costExt{ActualQueryCost: &zero, ThrottleStatus: ts}
	}
	b, _ := json.Marshal(map[string]any{"errors": errs, "extensions": map[string]any{"cost": cost}})
	return http.StatusOK, b
}

func selectOperation(doc *ast.QueryDocument, name string) (*ast.OperationDefinition, *gqlError) {
	if name != "" {
		op := doc.Operations.ForName(name)
		if op == nil {
			return nil, &gqlError{Message: fmt.Sprintf("No operation named %q", name), Extensions: map[string]any{"code": "operationNotFound"}}
		}
		return op, nil
	}
	if len(doc.Operations) != 1 {
		return nil, &gqlError{Message: "An operation name is required when sending multiple operations.", Extensions: map[string]any{"code": "operationNameRequired"}}
	}
	return doc.Operations[0], nil
}

// coerceVariables applies gqlparser's variable coercion and reports
// failures the way Shopify does (code INVALID_VARIABLE).
func (s *Server) coerceVariables(op *ast.OperationDefinition, raw map[string]any) (map[string]any, []gqlError) {
	vars, err := validator.VariableValues(s.schema, op, raw)
	if err == nil {
		return vars, nil
	}
	var ge *gqlerror.Error
	if !errors.As(err, &ge) {
		return nil, []gqlError{{Message: err.Error(), Extensions: map[string]any{"code": "INVALID_VARIABLE"}}}
	}
	// Path: variable, <name>, sub-path...
	var name string
	var sub []string
	var problemPath []any
	for i, p := range ge.Path {
		switch v := p.(type) {
		case ast.PathName:
			if i == 1 {
				name = string(v)
				continue
			}
			if i > 1 {
				sub = append(sub, string(v))
				problemPath = append(problemPath, string(v))
			}
		case ast.PathIndex:
			sub = append(sub, strconv.Itoa(int(v)))
			problemPath = append(problemPath, int(v))
		}
	}
	def := op.VariableDefinitions.ForName(name)
	typ := "?"
	var loc []errLocation
	if def != nil {
		typ = def.Type.String()
		loc = locOf(def.Position)
	}
	msg := fmt.Sprintf("Variable $%s of type %s was provided invalid value", name, typ)
	if len(sub) > 0 {
		msg += " for " + strings.Join(sub, ".")
	}
	msg += " (" + ge.Message + ")"
	if problemPath == nil {
		problemPath = []any{}
	}
	return nil, []gqlError{{
		Message:   msg,
		Locations: loc,
		Extensions: map[string]any{
			"code":     "INVALID_VARIABLE",
			"value":    raw[name],
			"problems": []any{map[string]any{"path": problemPath, "explanation": ge.Message}},
		},
	}}
}

// checkInputs enforces Shopify's input limits on the resolved arguments of
// every field: arrays of at most 250 items (512 for fulfillment order line
// items) and 32-bit Int values.
func (s *Server) checkInputs(op *ast.OperationDefinition, vars map[string]any) []gqlError {
	var errs []gqlError
	var walkSel func(set ast.SelectionSet, path []any, depth int)
	walkSel = func(set ast.SelectionSet, path []any, depth int) {
		if depth > 64 {
			return
		}
		for _, sel := range set {
			switch sel := sel.(type) {
			case *ast.Field:
				fp := append(append([]any(nil), path...), sel.Alias)
				if sel.Definition != nil && len(sel.Definition.Arguments) > 0 && len(sel.Arguments) > 0 {
					args := sel.ArgumentMap(vars)
					for _, ad := range sel.Definition.Arguments {
						if v, ok := args[ad.Name]; ok {
							s.checkValue(v, ad.Type, "", ad.Name, append(append([]any(nil), fp...), ad.Name), sel.Position, &errs)
						}
					}
				}
				walkSel(sel.SelectionSet, fp, depth+1)
			case *ast.InlineFragment:
				walkSel(sel.SelectionSet, path, depth+1)
			case *ast.FragmentSpread:
				if sel.Definition != nil {
					walkSel(sel.Definition.SelectionSet, path, depth+1)
				}
			}
		}
	}
	walkSel(op.SelectionSet, nil, 0)
	return errs
}

func (s *Server) checkValue(v any, t *ast.Type, parentType, fieldName string, path []any, pos *ast.Position, errs *[]gqlError) {
	if v == nil || len(*errs) > 10 {
		return
	}
	if t.Elem != nil {
		list, ok := v.([]any)
		if !ok {
			s.checkValue(v, t.Elem, parentType, fieldName, path, pos, errs)
			return
		}
		limit := maxInputArray
		if parentType == "FulfillmentOrderLineItemsInput" && fieldName == "fulfillmentOrderLineItems" {
			limit = maxFulfillmentLineItems
		}
		if len(list) > limit {
			*errs = append(*errs, gqlError{
				Message:    fmt.Sprintf("The input array size of %d is greater than the maximum allowed of %d.", len(list), limit),
				Locations:  locOf(pos),
				Path:       path,
				Extensions: map[string]any{"code": "MAX_INPUT_SIZE_EXCEEDED"},
			})
			return
		}
		for i, item := range list {
			s.checkValue(item, t.Elem, parentType, fieldName, append(append([]any(nil), path...), i), pos, errs)
		}
		return
	}
	def := s.schema.Types[t.NamedType]
	if def == nil {
		return
	}
	switch def.Kind {
	case ast.InputObject:
		m, ok := v.(map[string]any)
		if !ok {
			return
		}
		for _, fd := range def.Fields {
			if fv, ok := m[fd.Name]; ok {
				s.checkValue(fv, fd.Type, def.Name, fd.Name, append(append([]any(nil), path...), fd.Name), pos, errs)
			}
		}
	case ast.Enum:
		if sv, ok := v.(string); ok && def.EnumValues.ForName(sv) == nil {
			*errs = append(*errs, gqlError{
				Message:    fmt.Sprintf("Expected %q to be one of: %s", sv, enumNames(def)),
				Locations:  locOf(pos),
				Path:       path,
				Extensions: map[string]any{"code": "INVALID_VARIABLE"},
			})
		}
	case ast.Scalar:
		if _, isString := v.(string); isString && (def.Name == "Int" || def.Name == "Float") {
			*errs = append(*errs, gqlError{
				Message:    fmt.Sprintf("Could not coerce value %q to %s", v, def.Name),
				Locations:  locOf(pos),
				Path:       path,
				Extensions: map[string]any{"code": "INVALID_VARIABLE"},
			})
			return
		}
		if def.Name == "Int" {
			if n, ok := toInt64(v); ok && (n > math.MaxInt32 || n < math.MinInt32) {
				*errs = append(*errs, gqlError{
					Message:    fmt.Sprintf("Argument value %d is out of range for Int (32-bit signed integer)", n),
					Locations:  locOf(pos),
					Path:       path,
					Extensions: map[string]any{"code": "INVALID_VARIABLE"},
				})
			}
		}
	}
}

func enumNames(def *ast.Definition) string {
	names := make([]string, 0, len(def.EnumValues))
	for _, v := range def.EnumValues {
		names = append(names, v.Name)
	}
	if len(names) > 20 {
		names = append(names[:20], "…")
	}
	return strings.Join(names, ", ")
}
