package shopifyschema

import (
	"strings"
	"testing"
)

func TestLoadAndValidate(t *testing.T) {
	t.Parallel()
	s, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if s.Mutation == nil || s.Mutation.Fields.ForName("fulfillmentCreate") == nil {
		t.Fatal("schema has no fulfillmentCreate mutation")
	}
	if _, errs := Validate(`query { shop { name } }`); errs != nil {
		t.Fatalf("valid query rejected: %v", errs)
	}
	_, errs := Validate(`query { order(id: "gid://shopify/Order/1") { totalPriceNope } }`)
	if errs == nil || !strings.Contains(errs.Error(), "totalPriceNope") {
		t.Fatalf("invalid query not rejected with field name: %v", errs)
	}
}
