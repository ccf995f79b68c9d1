package web_test

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"go.yaml.in/yaml/v3"

	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/store/storetest"
	"github.com/crossdock/crossdock/internal/tenant"
	"github.com/crossdock/crossdock/internal/web"
)

// noJobs is a web.Jobs that enables the dead-letter routes and holds no job.
type noJobs struct{}

func (noJobs) JobList(context.Context, *river.JobListParams) (*river.JobListResult, error) {
	return &river.JobListResult{}, nil
}
func (noJobs) JobRetry(context.Context, int64) (*rivertype.JobRow, error) {
	return nil, river.ErrNotFound
}
func (noJobs) JobDelete(context.Context, int64) (*rivertype.JobRow, error) {
	return nil, river.ErrNotFound
}

var _ web.Jobs = noJobs{}

// apiRoutesInSource returns the "METHOD /api/v1/..." patterns the package's
// non-test sources register, wherever they do it.
func apiRoutesInSource(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || (sel.Sel.Name != "HandleFunc" && sel.Sel.Name != "Handle") {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				t.Errorf("%s: a route whose pattern is not a literal cannot be checked against the OpenAPI document", fset.Position(call.Pos()))
				return true
			}
			p, err := strconv.Unquote(lit.Value)
			if err != nil {
				t.Fatal(err)
			}
			if _, path, _ := strings.Cut(p, " "); strings.HasPrefix(path, "/api/v1/") || path == "/api/v1" {
				out = append(out, p)
			}
			return true
		})
	}
	sort.Strings(out)
	return out
}

// documentedRoutes returns the "METHOD path" operations of api/openapi.yaml.
func documentedRoutes(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "api", "openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI string                          `yaml:"openapi"`
		Paths   map[string]map[string]yaml.Node `yaml:"paths"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("api/openapi.yaml: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Errorf("api/openapi.yaml is OpenAPI %q, want 3.1", doc.OpenAPI)
	}
	var out []string
	for path, ops := range doc.Paths {
		for method := range ops {
			switch method {
			case "get", "put", "post", "delete", "patch", "head", "options", "trace":
				out = append(out, strings.ToUpper(method)+" "+path)
			}
		}
	}
	sort.Strings(out)
	return out
}

// TestOpenAPIDocumentsEveryRoute: every /api/v1 route the mux serves is in
// api/openapi.yaml and every operation there is served, by that route.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	t.Parallel()
	src := apiRoutesInSource(t)
	doc := documentedRoutes(t)
	if len(src) == 0 || len(doc) == 0 {
		t.Fatalf("found %d routes in the sources and %d in the document", len(src), len(doc))
	}
	if diff := cmp.Diff(doc, src); diff != "" {
		t.Errorf("api/openapi.yaml (-) and the routes registered in internal/web (+) differ:\n%s", diff)
	}

	// Each pattern is really registered when every dependency is present:
	// a request shaped like it reaches exactly it.
	mux := http.NewServeMux()
	web.Mount(mux, web.Deps{Store: storetest.Open(t, store.SQLite), Jobs: noJobs{}, Tenants: &tenant.Registry{},
		Connectors: fakeConnectors{}, Discrepancies: &fakeDiscrepancies{}})
	param := regexp.MustCompile(`\{[^}]+\}`)
	all := append(append([]string{}, src...), doc...)
	sort.Strings(all)
	for _, p := range slices.Compact(all) {
		method, path, _ := strings.Cut(p, " ")
		req := httptest.NewRequest(method, param.ReplaceAllString(path, "1"), nil)
		if _, got := mux.Handler(req); got != p {
			t.Errorf("%s %s is routed to %q, want %q", method, req.URL.Path, got, p)
		}
	}
}
