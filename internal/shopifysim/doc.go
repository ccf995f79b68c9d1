// Package shopifysim is an in-memory Shopify shop that speaks the Admin
// GraphQL API 2026-07, for tests, demos and integrators' rehearsals.
//
// # Endpoint
//
// POST /admin/api/2026-07/graphql.json with X-Shopify-Access-Token (else
// 401 with Shopify's message; other API versions 404). Bodies are
// {"query","variables","operationName"} JSON (or application/graphql);
// malformed JSON is a 400.
//
// Every request is validated against the embedded 2026-07 schema
// (internal/shopifyschema; validated documents are cached by query text)
// and its variables are coerced with gqlparser. Invalid requests get HTTP
// 200 and Shopify-shaped errors {message, locations, extensions.code} with
// graphql-ruby style codes (undefinedField, missingRequiredArguments,
// argumentLiteralsIncompatible, variableMismatch, INVALID_VARIABLE, …);
// nothing runs. Input arrays over 250 items (512 for
// FulfillmentOrderLineItemsInput.fulfillmentOrderLineItems) fail with
// MAX_INPUT_SIZE_EXCEEDED.
//
// A small executor walks the selection set: aliases, fragments, inline
// fragments, @skip/@include, __typename, variables, several root fields and
// several (aliased) mutations per document, run in order, non-null
// propagation. Connections support first/after/last/before/reverse, nodes,
// edges {cursor node} and pageInfo with opaque base64 cursors (first/last
// at most 250). A field the schema has but the simulator does not resolve
// answers null with the error "<Type>.<field> is not implemented by the
// crossdock Shopify simulator" (code NOT_IMPLEMENTED) at its path;
// introspection (__schema, __type) is not implemented.
//
// # Cost and throttling
//
// requestedQueryCost is computed statically: scalars and enums 0, objects 1,
// connections 2 + first×(one node), lists with first first×(one element),
// 10 per mutation field (payload selections are free). Shopify prices some
// mutations by their input (productSet from 2025-10); the simulator's model
// of that is inventorySetQuantities and inventoryAdjustQuantities at 10 + 1
// per entry of input.quantities / input.changes, so a 250-entry batch
// requests 260 points. Clients must read the real cost from
// extensions.cost rather than assume this model. A leaky bucket per
// shop (Config.BucketSize, Config.RestoreRate, clock Config.Now) is charged
// the requested cost up front and refunded down to the actual cost, which
// counts the objects really returned. When requested > currentlyAvailable
// the answer is HTTP 200 THROTTLED with actualQueryCost null; above
// Config.MaxQueryCost (1000) it is MAX_COST_EXCEEDED. Every answer carries
// extensions.cost {requestedQueryCost, actualQueryCost, throttleStatus}.
//
// # Implemented operations
//
// Queries: shop, order, orders (query search syntax: updated_at,
// created_at, processed_at with > >= < <= and quoted or bare timestamps;
// name, email, id, sku, status, fulfillment_status; sortKey ID, UPDATED_AT,
// CREATED_AT, PROCESSED_AT, ORDER_NUMBER; reverse), fulfillment,
// fulfillmentOrder,
// fulfillmentOrders, assignedFulfillmentOrders, location, locations,
// product, products, productVariant, productVariants (query sku:, barcode:,
// product_id:, id:, title:), inventoryItem, inventoryLevel,
// fulfillmentService, webhookSubscription, webhookSubscriptions, node, nodes,
// bulkOperation, bulkOperations (newest first; query status:,
// operation_type:), currentBulkOperation (type QUERY).
//
// Mutations (docs/shopify-operations.md is the contract):
//   - orderCreate: variant lines (or custom lines with title/sku/priceSet),
//     shippingAddress, email, shippingLines; order routing creates one
//     fulfillment order at the first fulfillment-service location (in
//     creation order) with available ≥ quantity for every tracked line, else
//     the first fulfillment-service location, else the shop location.
//     inventoryBehaviour BYPASS (default) leaves stock alone; DECREMENT_*
//     moves available → committed at the assigned location;
//     DECREMENT_OBEYING_POLICY fails with INVENTORY_CLAIM_FAILED when the
//     location lacks stock.
//   - orderCancel (refused while a fulfillment request is accepted; restock
//     returns committed units to available).
//   - fulfillmentServiceCreate (service + location named after it),
//     webhookSubscriptionCreate (http/https uri, JSON only),
//     webhookSubscriptionDelete.
//   - fulfillmentOrderSubmitFulfillmentRequest (partial requests split the
//     fulfillment order), …AcceptFulfillmentRequest, …RejectFulfillmentRequest,
//     …SubmitCancellationRequest, …AcceptCancellationRequest,
//     …RejectCancellationRequest, fulfillmentOrderMove (UNSUBMITTED or
//     REJECTED only; moves committed stock), fulfillmentOrderHold (≤ 10
//     holds, unique handles, partial holds split), fulfillmentOrderReleaseHold,
//     fulfillmentOrderSplit (the listed line items and quantities move to a
//     new fulfillment order at the same location, the
//     remainingFulfillmentOrder; only OPEN fulfillment orders not submitted,
//     else a userError where Shopify would create a replacement; splitting
//     every remaining unit out is INVALID_LINE_ITEM_QUANTITY).
//   - fulfillmentCreate: one order and one location per call, quantities ≤
//     remaining (else a userError; such attempts and attempts on fully
//     fulfilled orders count in Stats.RejectedOverfulfillments),
//     empty line list = everything remaining, fulfillment-service orders only
//     once accepted, trackingInfo number/numbers/url/urls (not mixed; known
//     carriers get a tracking URL), committed and on_hand decremented when
//     the order claimed stock, fulfillment order CLOSED when nothing remains,
//     order displayFulfillmentStatus FULFILLED / PARTIALLY_FULFILLED /
//     UNFULFILLED. fulfillmentTrackingInfoUpdate replaces tracking
//     (numbers/urls/company as in fulfillmentCreate; counted in
//     Stats.TrackingUpdates).
//   - fulfillmentOrderReportProgress(id, progressReport: {reasonNotes}):
//     only on a fulfillment order OPEN or IN_PROGRESS whose request is
//     ACCEPTED (else FULFILLMENT_ORDER_STATUS_INVALID; unknown id
//     FULFILLMENT_ORDER_NOT_FOUND); sets status IN_PROGRESS and records the
//     notes and time (FulfillmentOrderState.ProgressReports).
//   - fulfillmentEventCreate(fulfillmentEvent: {fulfillmentId, status,
//     happenedAt (default now), message, address1, city, province, country,
//     zip, latitude, longitude, estimatedDeliveryAt}): unknown fulfillment
//     or unparseable time is a userError; appends the event and emits
//     fulfillment_events/create. Fulfillment.displayStatus is CANCELED for
//     a cancelled fulfillment, else the status of the event that happened
//     last (the later-created on a tie; every FulfillmentEventStatus maps
//     to the FulfillmentDisplayStatus of the same name: IN_TRANSIT,
//     OUT_FOR_DELIVERY, ATTEMPTED_DELIVERY, DELIVERED, FAILURE, DELAYED,
//     CARRIER_PICKED_UP, …), else FULFILLED. inTransitAt is the earliest
//     IN_TRANSIT event's happenedAt, deliveredAt the latest DELIVERED one's,
//     estimatedDeliveryAt that of the latest event carrying one.
//   - inventorySetQuantities and inventoryAdjustQuantities with the 2026-04+
//     rules: @idempotent(key:) required (else a BAD_REQUEST error); the
//     changeFromQuantity key required on every entry (else an
//     INVALID_FIELD_ARGUMENTS error, as Shopify answers; the schema has no
//     user-error code for it), null skips the check, a mismatch is
//     CHANGE_FROM_QUANTITY_STALE; the same key with the same arguments
//     replays the first result without applying again, with other arguments
//     IDEMPOTENCY_KEY_PARAMETER_MISMATCH; set: names available/on_hand,
//     quantities 0..1e9, unique item/location pairs; adjust: ledger document
//     rules. All-or-nothing.
//   - bulkOperationRunQuery(query:) (see Bulk queries; groupObjects is
//     accepted and needs nothing: children always follow their parent).
//   - returnCreate(returnInput: {orderId, returnLineItems:
//     [{fulfillmentLineItemId, quantity, returnReasonNote}]}), returnClose(id) and
//     reverseFulfillmentOrderDispose(dispositionInputs: [...]); query
//     return(id): see returns.go. Server.CreateReturn, CloseReturn and Returns
//     are the Go-side equivalents for tests and scenarios.
//
// Object fields resolved (beyond these, fields answer "not implemented"):
//   - Order: id legacyResourceId name number email phone note tags test
//     confirmed sourceName currencyCode createdAt updatedAt processedAt
//     cancelledAt closed closedAt displayFulfillmentStatus
//     displayFinancialStatus fulfillable requiresShipping shippingAddress
//     billingAddress shippingLine shippingLines lineItems fulfillmentOrders
//     fulfillments subtotalLineItemsQuantity totalPriceSet
//     currentTotalPriceSet subtotalPriceSet totalShippingPriceSet.
//   - MailingAddress: id name firstName lastName company address1 address2
//     city province provinceCode zip country countryCodeV2 phone
//     formattedArea coordinatesValidated.
//   - LineItem: id sku name title variantTitle vendor quantity
//     currentQuantity unfulfilledQuantity requiresShipping isGiftCard taxable
//     variant product originalUnitPriceSet originalTotalSet.
//     ShippingLine: id title code source custom isRemoved carrierIdentifier
//     originalPriceSet discountedPriceSet.
//   - FulfillmentOrder: id status requestStatus createdAt updatedAt order
//     orderId orderName orderProcessedAt fulfillAt fulfillBy assignedLocation
//     {name location countryCode …} destination {id firstName lastName company
//     address1 address2 city province countryCode zip phone email} lineItems
//     {id sku totalQuantity remainingQuantity inventoryItemId variant lineItem
//     productTitle variantTitle vendor requiresShipping warnings}
//     fulfillmentHolds {id reason reasonNotes handle displayReason
//     heldByRequestingApp} merchantRequests {id kind message requestOptions
//     sentAt fulfillmentOrder} fulfillments supportedActions.
//   - Fulfillment: id legacyResourceId name status displayStatus createdAt
//     updatedAt trackingInfo {company number url} fulfillmentLineItems {id
//     quantity lineItem} fulfillmentOrders order location service
//     totalQuantity requiresShipping inTransitAt deliveredAt
//     estimatedDeliveryAt events (sortKey HAPPENED_AT (default) or ID,
//     reverse) {id status happenedAt createdAt message address1 city
//     province country zip latitude longitude estimatedDeliveryAt}.
//   - Location: id legacyResourceId name isActive isPrimary
//     isFulfillmentService fulfillmentService inventoryLevels inventoryLevel
//     createdAt updatedAt and capability flags. FulfillmentService: id
//     serviceName handle callbackUrl inventoryManagement trackingSupport
//     requiresShippingMethod type location.
//   - InventoryLevel: id item location quantities(names) {id name quantity
//     updatedAt} isActive canDeactivate createdAt updatedAt. InventoryItem: id
//     legacyResourceId sku tracked requiresShipping variant duplicateSkuCount
//     inventoryLevels inventoryLevel createdAt updatedAt.
//     InventoryAdjustmentGroup: id createdAt reason referenceDocumentUri
//     changes {name delta quantityAfterChange item location}.
//   - ProductVariant: id legacyResourceId sku barcode title displayName price
//     position product inventoryItem inventoryQuantity availableForSale
//     inventoryPolicy taxable createdAt updatedAt. Product: id
//     legacyResourceId title handle status variants totalInventory createdAt
//     updatedAt.
//   - WebhookSubscription: id legacyResourceId topic uri callbackUrl format
//     name filter includeFields metafieldNamespaces apiVersion createdAt
//     updatedAt. Shop: id name myshopifyDomain url email currencyCode
//     ianaTimezone fulfillmentServices and a few constants.
//   - Every payload's fields and userErrors {field message code} as the
//     schema types them (UserError has no code).
//
// # Bulk queries
//
// bulkOperationRunQuery validates the inner query against the schema and
// Shopify's bulk rules (a query without variables, one top-level field, at
// least one and at most five connections, nested at most two deep); a
// refused query answers a BulkOperationUserError INVALID "Invalid bulk
// query: …" and no operation. At most SetBulkQueryLimit operations (default
// 5, Shopify's limit from 2026-01) may be CREATED or RUNNING at once; beyond
// it the answer is OPERATION_IN_PROGRESS (limit 1, the message names the
// running operation) or LIMIT_REACHED. The operation is answered CREATED,
// then runs in the background under the state's read lock (RUNNING) and
// ends COMPLETED with objectCount, rootObjectCount, fileSize and url (null
// when there is no object), or FAILED with errorCode INTERNAL_SERVER_ERROR
// when a field failed (e.g. one the simulator does not implement) and the
// objects written so far at partialDataUrl. Connections are unbounded:
// first, last, after and before are ignored. Every connection node is one
// JSONL line holding the node's selected fields except its connections; the
// nodes of a nested connection follow their parent's line with
// "__parentId" set to the parent node's id, and the nodes of a connection
// under a top-level object (location(id:) { inventoryLevels … }) carry that
// object's id. Top-level objects are not lines. Results are served at
// GET /_sim/bulk/<id>.jsonl on the origin the GraphQL request used, without
// a token, until Close. Starting a bulk query costs 10 like any mutation;
// downloading costs nothing. HoldBulkQueries keeps new operations CREATED
// until released and FailNextBulkQuery(code) ends the next one FAILED with
// half of its objects, for tests. BulkOperation is also resolved by
// node(id:) and nodes(ids:).
//
// # Large inventories
//
// SeedInventory loads items (one product and variant per SKU) with their
// available quantity at given locations directly, for benchmarks.
//
// # Inventory model
//
// Every inventory item is stocked at every location. Levels hold available,
// committed, reserved, damaged, safety_stock, quality_control and incoming;
// on_hand is derived, so on_hand = available + committed + reserved +
// damaged + safety_stock + quality_control always holds.
//
// # Webhooks
//
// Mutations emit orders/create, orders/updated (any change to an order, its
// fulfillment orders or fulfillments), orders/cancelled, orders/fulfilled,
// orders/partially_fulfilled, fulfillment_orders/order_routing_complete,
// …/fulfillment_request_submitted|accepted|rejected,
// …/cancellation_request_submitted|accepted|rejected, …/moved,
// …/placed_on_hold, …/hold_released, fulfillment_holds/added|released,
// fulfillments/create|update, fulfillment_events/create,
// returns/approve, returns/close, reverse_fulfillment_orders/dispose and
// inventory_levels/update (only
// inventory_item_id, location_id, available, updated_at,
// admin_graphql_api_id, sent when available changes). Payloads are the
// REST-style JSON of Shopify's published examples with int64 ids. Headers:
// X-Shopify-Topic, X-Shopify-Hmac-Sha256 (base64 HMAC-SHA256 of the body
// with Config.WebhookSecret), X-Shopify-Shop-Domain, X-Shopify-API-Version,
// X-Shopify-Webhook-Id (per delivery), X-Shopify-Event-Id (per event),
// X-Shopify-Triggered-At. Delivery is asynchronous over a worker pool (1 s
// connect, 5 s per attempt); non-2xx answers and timeouts are retried 8
// times with exponential backoff from Config.WebhookRetryBaseDelay (1 s:
// about 4 minutes in total, where Shopify spreads 8 retries over 4 hours);
// after the last failure a subscription created through the API is deleted
// (Config.Subscriptions ones are kept). Faults: WebhookDuplicateRate
// (redelivery with the same webhook id, or a fan-out duplicate with a new
// one, always the same event id), WebhookReorderRate (held back 50-500 ms),
// WebhookDropRate (never delivered). Webhook filters are stored, not applied.
//
// # Control endpoints (no token)
//
//   - GET /_sim/faults returns the fault rates; POST /_sim/faults with any
//     of {"http429Rate","http5xxRate","webhookDuplicateRate",
//     "webhookReorderRate","webhookDropRate"} (0..1) updates them.
//   - POST /_sim/products seeds [{"title","status","variants":[{"sku",
//     "barcode","price","title","available","tracked"}]}] (201 with the
//     created GIDs); GET /_sim/products lists them. Server.AddProducts is
//     the same in process, without the API or its rate limit;
//     status (ACTIVE by default) is Product.status, tracked (true by
//     default) InventoryItem.tracked.
//   - GET /_sim/state returns a Snapshot; GET /_sim/stats returns Stats.
//
// Faults HTTP429Rate (429 with Retry-After: 1) and HTTP5xxRate (503) apply
// to authenticated GraphQL requests. All randomness comes from a
// math/rand/v2 PCG source seeded with Config.Seed.
package shopifysim
