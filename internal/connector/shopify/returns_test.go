package shopify

import (
	"os"
	"testing"
)

// TestDecodeReturnWebhook decodes Shopify's published returns/approve
// example and refuses payloads without a return or an order.
func TestDecodeReturnWebhook(t *testing.T) {
	t.Parallel()
	body, err := os.ReadFile("testdata/webhooks/returns/approve.json")
	if err != nil {
		t.Fatal(err)
	}
	v, err := DecodeWebhook(TopicReturnsApprove, body)
	if err != nil {
		t.Fatal(err)
	}
	w, ok := v.(*ReturnWebhook)
	if !ok {
		t.Fatalf("decoded %T", v)
	}
	if w.GID() != "gid://shopify/Return/123134564567890" || w.OrderGID() != "gid://shopify/Order/4783296544821" || w.Status != "open" {
		t.Errorf("return %s of order %s, status %q", w.GID(), w.OrderGID(), w.Status)
	}
	body, err = os.ReadFile("testdata/webhooks/returns/close.json")
	if err != nil {
		t.Fatal(err)
	}
	v, err = DecodeWebhook(TopicReturnsClose, body)
	if err != nil {
		t.Fatal(err)
	}
	if w := v.(*ReturnWebhook); w.OrderGID() != "gid://shopify/Order/4783296544821" || w.Status != "closed" {
		t.Errorf("returns/close: order %s, status %q", w.OrderGID(), w.Status)
	}
	for _, bad := range []string{`{"order":{"id":1}}`, `{"id":5}`, `{"id":"x"}`, `[`} {
		if _, err := DecodeWebhook("RETURNS_APPROVE", []byte(bad)); err == nil {
			t.Errorf("%s decoded", bad)
		}
	}
}
