package shopify

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrThrottled is in the chain of the error returned when Shopify still
// throttles a request after the client's retries.
var ErrThrottled = errors.New("shopify: throttled")

// UserError is one entry of a mutation's userErrors: input Shopify refused.
type UserError struct {
	// Field is the path to the offending input, e.g.
	// ["input", "quantities", "0", "changeFromQuantity"]; empty when the
	// error is not about one input.
	Field []string `json:"field"`
	// Message is Shopify's human-readable explanation.
	Message string `json:"message"`
	// Code is the machine-readable code where the mutation's error type
	// has one (e.g. CHANGE_FROM_QUANTITY_STALE); empty otherwise.
	Code string `json:"code,omitempty"`
}

// String renders the error as "field.path: message (CODE)".
func (u UserError) String() string {
	var b strings.Builder
	if len(u.Field) > 0 {
		b.WriteString(strings.Join(u.Field, "."))
		b.WriteString(": ")
	}
	b.WriteString(u.Message)
	if u.Code != "" {
		b.WriteString(" (" + u.Code + ")")
	}
	return b.String()
}

// UserErrorsError is returned (wrapped as connector.Permanent) when a
// mutation answers with userErrors. Use errors.As to inspect the list.
type UserErrorsError struct {
	// Operation is the embedded operation's name, e.g. "FulfillmentCreate".
	Operation string
	// Mutation is the mutation field that answered, e.g. "fulfillmentCreate".
	Mutation string
	// Errors is the userErrors list, in Shopify's order.
	Errors []UserError
}

// Error lists the user errors as "field.path: message (CODE)".
func (e *UserErrorsError) Error() string {
	parts := make([]string, len(e.Errors))
	for i, u := range e.Errors {
		parts[i] = u.String()
	}
	return fmt.Sprintf("shopify %s: %s: %s", e.Operation, e.Mutation, strings.Join(parts, "; "))
}

// HasCode reports whether any user error carries code.
func (e *UserErrorsError) HasCode(code string) bool {
	for _, u := range e.Errors {
		if u.Code == code {
			return true
		}
	}
	return false
}

// GraphQLError is one entry of a response's top-level errors.
type GraphQLError struct {
	Message string `json:"message"`
	// Path is where in the response the error applies, if anywhere.
	Path []any `json:"path,omitempty"`
	// Extensions holds extra details; Code is extensions.code when present.
	Extensions struct {
		Code string `json:"code,omitempty"`
	} `json:"extensions"`
}

// ResponseError reports top-level GraphQL errors (other than THROTTLED).
// The client wraps it as connector.Permanent, except for Shopify's internal
// server errors, which are retried and then returned as transient.
type ResponseError struct {
	// Operation is the embedded operation's name.
	Operation string
	// Errors is the errors list as Shopify sent it.
	Errors []GraphQLError
}

// Error lists the GraphQL error messages with their codes.
func (e *ResponseError) Error() string {
	parts := make([]string, len(e.Errors))
	for i, g := range e.Errors {
		parts[i] = g.Message
		if g.Extensions.Code != "" {
			parts[i] += " (" + g.Extensions.Code + ")"
		}
	}
	return fmt.Sprintf("shopify %s: %s", e.Operation, strings.Join(parts, "; "))
}

// HTTPError reports a response status other than 200.
type HTTPError struct {
	// Operation is the embedded operation's name.
	Operation string
	// StatusCode is the HTTP status.
	StatusCode int
	// Body is the start of the response body, for diagnostics.
	Body string
}

// Error gives the status and the start of the body.
func (e *HTTPError) Error() string {
	return fmt.Sprintf("shopify %s: HTTP %d: %s", e.Operation, e.StatusCode, e.Body)
}

// StaleItem is one quantity whose changeFromQuantity no longer matched
// Shopify's current value.
type StaleItem struct {
	// Index is the position in the quantities passed to SetInventory, or -1
	// when Shopify's error did not say which entry it was.
	Index int
	// InventoryItemID and LocationID identify the entry (empty when Index
	// is -1).
	InventoryItemID string
	LocationID      string
	// ChangeFromQuantity is what was sent as the expected current value.
	ChangeFromQuantity *int
	// Message is Shopify's explanation.
	Message string
}

// StaleQuantityError is returned by SetInventory when Shopify refused the
// compare-and-swap (CHANGE_FROM_QUANTITY_STALE): the quantity changed since
// it was read. Retrying the same call cannot succeed; re-read the levels and
// set again under a new idempotency key. It is wrapped as
// connector.Permanent; use errors.As to reach it.
type StaleQuantityError struct {
	// Items lists the stale entries.
	Items []StaleItem
	// UserErrors is the full userErrors answer.
	UserErrors *UserErrorsError
}

// Error lists the stale entries.
func (e *StaleQuantityError) Error() string {
	parts := make([]string, len(e.Items))
	for i, it := range e.Items {
		switch {
		case it.Index < 0:
			parts[i] = it.Message
		case it.ChangeFromQuantity != nil:
			parts[i] = fmt.Sprintf("#%d item %s at %s (expected %d)", it.Index, it.InventoryItemID, it.LocationID, *it.ChangeFromQuantity)
		default:
			parts[i] = fmt.Sprintf("#%d item %s at %s", it.Index, it.InventoryItemID, it.LocationID)
		}
	}
	return "shopify: inventory changed since read (CHANGE_FROM_QUANTITY_STALE): " + strings.Join(parts, "; ")
}

// Unwrap returns the underlying userErrors.
func (e *StaleQuantityError) Unwrap() error { return e.UserErrors }

// fieldIndex returns the number that follows name in a userError field path
// (["input","quantities","3","changeFromQuantity"] → 3 for "quantities").
func fieldIndex(field []string, name string) (int, bool) {
	for i := 0; i+1 < len(field); i++ {
		if field[i] == name {
			n, err := strconv.Atoi(field[i+1])
			if err == nil && n >= 0 {
				return n, true
			}
		}
	}
	return 0, false
}
