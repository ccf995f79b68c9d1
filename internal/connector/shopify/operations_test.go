package shopify

import (
	"io/fs"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/crossdock/crossdock/internal/shopifyschema"
)

// wantOperations are the operations the hub needs (see the operations
// contract, docs/shopify-operations.md).
var wantOperations = []string{
	"BulkOperation", "BulkOperationRunQuery", "CatalogVariants", "FulfillmentCreate", "FulfillmentEventCreate", "FulfillmentEvents",
	"FulfillmentOrderAcceptCancellationRequest", "FulfillmentOrderAcceptRequest", "FulfillmentOrderHold",
	"FulfillmentOrderMove", "FulfillmentOrderRejectCancellationRequest", "FulfillmentOrderRejectRequest", "FulfillmentOrderReleaseHold",
	"FulfillmentOrderReportProgress", "FulfillmentOrderSplit", "FulfillmentOrderSubmitCancellationRequest", "FulfillmentOrderSubmitRequest", "FulfillmentServiceCreate",
	"FulfillmentTrackingInfoUpdate", "GetFulfillmentOrder",
	"GetOrder", "GetReturn", "InventorySetQuantities", "LocationInventoryLevels", "Locations",
	"OrderCreate", "OrderFulfillments", "OrdersUpdatedSince", "ProductVariants", "ReverseFulfillmentOrderDispose", "WebhookSubscriptionCreate",
	"WebhookSubscriptions",
}

// TestOperationFilesValidate validates every .graphql file against the
// embedded 2026-07 schema, file by file, and checks that it holds exactly
// one named operation named like the file.
func TestOperationFilesValidate(t *testing.T) {
	t.Parallel()
	files, err := fs.Glob(operationsFS, "operations/*")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, file := range files {
		b, err := fs.ReadFile(operationsFS, file)
		if err != nil {
			t.Fatal(err)
		}
		base := path.Base(file)
		if path.Ext(base) != ".graphql" {
			t.Errorf("%s: only .graphql files belong in operations/", file)
			continue
		}
		doc, errs := shopifyschema.Validate(string(b))
		if errs != nil {
			t.Errorf("%s does not validate against the %s schema: %s", file, shopifyschema.Version, errs.Error())
			continue
		}
		if len(doc.Operations) != 1 {
			t.Errorf("%s: %d operations, want exactly 1", file, len(doc.Operations))
			continue
		}
		op := doc.Operations[0]
		want := strings.TrimSuffix(base, ".graphql")
		if op.Name != want {
			t.Errorf("%s: operation named %q, want %q", file, op.Name, want)
		}
		if !strings.HasPrefix(string(b), "# Shopify Admin GraphQL API "+APIVersion+"\n") {
			t.Errorf("%s: first line does not pin API version %s", file, APIVersion)
		}
		if op.Operation == ast.Mutation && !selectsUserErrors(op) {
			t.Errorf("%s: mutation does not select userErrors { field message }", file)
		}
		names = append(names, op.Name)
	}
	slices.Sort(names)
	if !slices.Equal(names, wantOperations) {
		t.Errorf("operations = %v\nwant %v", names, wantOperations)
	}
	got, err := OperationNames()
	if err != nil {
		t.Fatalf("OperationNames: %v", err)
	}
	if !slices.Equal(got, wantOperations) {
		t.Errorf("OperationNames() = %v", got)
	}
}

// selectsUserErrors reports whether every root field selects userErrors
// with field and message, and code wherever the error type has one.
func selectsUserErrors(op *ast.OperationDefinition) bool {
	for _, sel := range op.SelectionSet {
		root := sel.(*ast.Field)
		ue := fieldNamed(root.SelectionSet, "userErrors")
		if ue == nil || fieldNamed(ue.SelectionSet, "field") == nil || fieldNamed(ue.SelectionSet, "message") == nil {
			return false
		}
		hasCode := false
		if def := ue.Definition; def != nil {
			schema, _ := shopifyschema.Load()
			if typ := schema.Types[def.Type.Name()]; typ != nil && typ.Fields.ForName("code") != nil {
				hasCode = true
			}
		}
		if hasCode && fieldNamed(ue.SelectionSet, "code") == nil {
			return false
		}
	}
	return true
}

func fieldNamed(ss ast.SelectionSet, name string) *ast.Field {
	for _, sel := range ss {
		if f, ok := sel.(*ast.Field); ok && f.Name == name {
			return f
		}
	}
	return nil
}

// TestOperationCostsUnderLimit checks that no operation, with the page
// sizes the helpers send, is estimated above Shopify's single-query limit.
func TestOperationCostsUnderLimit(t *testing.T) {
	t.Parallel()
	all, err := loadOperations()
	if err != nil {
		t.Fatal(err)
	}
	pageSizes := map[string]int{
		"OrdersUpdatedSince":      ordersPageSize,
		"LocationInventoryLevels": inventoryLevelsPageSize,
		"ProductVariants":         variantsPageSize,
		"WebhookSubscriptions":    webhooksPageSize,
		"Locations":               locationsPageSize,
	}
	for name, op := range all {
		vars := map[string]any{}
		if n, ok := pageSizes[name]; ok {
			vars["first"] = n
		}
		c := op.estimateCost(vars)
		if c <= 0 || c > MaxQueryCost {
			t.Errorf("%s: estimated cost %v, want in (0, %d]", name, c, MaxQueryCost)
		}
	}
	// The estimator itself: connections cost 2 + first × node.
	if c := all["ProductVariants"].estimateCost(map[string]any{"first": 10}); c != 2+10*2 {
		t.Errorf("ProductVariants(first: 10) cost = %v, want 22", c)
	}
	// Lists with first count first objects: 1 + 50 × (1 + 10 × 1).
	if c := all["OrderFulfillments"].estimateCost(nil); c != 1+50*(1+10) {
		t.Errorf("OrderFulfillments cost = %v, want 551", c)
	}
	if c := all["FulfillmentOrderReleaseHold"].estimateCost(nil); c != mutationBaseCost+3 {
		t.Errorf("FulfillmentOrderReleaseHold cost = %v, want %d", c, mutationBaseCost+3)
	}
}

// TestFulfillmentOrderSelectionsMatch keeps GetOrder's fulfillment order
// selection and GetFulfillmentOrder's identical: both decode into one type.
func TestFulfillmentOrderSelectionsMatch(t *testing.T) {
	t.Parallel()
	all, err := loadOperations()
	if err != nil {
		t.Fatal(err)
	}
	order := fieldNamed(all["GetOrder"].def.SelectionSet, "order")
	nodes := fieldNamed(fieldNamed(order.SelectionSet, "fulfillmentOrders").SelectionSet, "nodes")
	single := fieldNamed(all["GetFulfillmentOrder"].def.SelectionSet, "fulfillmentOrder")
	if a, b := shape(nodes.SelectionSet), shape(single.SelectionSet); a != b {
		t.Errorf("fulfillment order selections differ:\nGetOrder:            %s\nGetFulfillmentOrder: %s", a, b)
	}
}

// shape renders a selection set's field names, recursively.
func shape(ss ast.SelectionSet) string {
	var parts []string
	for _, sel := range ss {
		f := sel.(*ast.Field)
		s := f.Name
		if len(f.SelectionSet) > 0 {
			s += "{" + shape(f.SelectionSet) + "}"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

func TestParseOperationRejects(t *testing.T) {
	t.Parallel()
	cases := map[string]struct{ file, text, want string }{
		"invalid field": {"Bad.graphql", "# Shopify Admin GraphQL API 2026-07\nquery Bad { shop { nope } }", "nope"},
		"two ops":       {"Two.graphql", "# Shopify Admin GraphQL API 2026-07\nquery Two { shop { name } }\nquery Three { shop { name } }", "2 operations"},
		"wrong name":    {"Name.graphql", "# Shopify Admin GraphQL API 2026-07\nquery Other { shop { name } }", `want "Name"`},
		"no version":    {"V.graphql", "query V { shop { name } }", "version"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := parseOperation(tc.file, tc.text)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.file) {
				t.Errorf("err = %v, want one naming %s and containing %q", err, tc.file, tc.want)
			}
		})
	}
}
