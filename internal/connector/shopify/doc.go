// Package shopify is crossdock's Shopify connector: a client for the Admin
// GraphQL API (version 2026-07) and decoders for the webhook payloads the
// hub subscribes to.
//
// Every GraphQL operation the hub sends is a named operation in its own
// file under operations/, embedded in the binary and validated against the
// embedded 2026-07 schema (package shopifyschema). Client.Do runs one by
// name; typed helpers (GetOrder, SubmitFulfillmentRequest, CreateFulfillment,
// SetInventory, …) wrap them.
//
// The client paces itself by Shopify's cost bucket: it reads
// extensions.cost.throttleStatus from every answer, keeps a local estimate
// shared by all goroutines, and before sending waits until the points the
// operation is expected to request are available, reserving them so that
// concurrent callers never spend the same points. THROTTLED answers, 429,
// 5xx and network errors are retried; mutation userErrors and other
// GraphQL errors are permanent (connector.Permanent), with typed details
// (*UserErrorsError, *StaleQuantityError, *ResponseError).
//
// IDs are GID strings in GraphQL and int64 in webhook payloads; nothing is
// decoded through float64, which corrupts IDs ≥ 2^53.
package shopify
