// Package tryton is the connector for Tryton (kind "tryton"), an open-source
// ERP whose stock modules run a real warehouse workflow. For crossdock it is
// a real, stateful peer for end-to-end tests — order in, pick/pack/ship in
// Tryton's own workflow, tracking and stock out — that installs from
// Debian's packages (scripts/tryton-up.sh); it is not a market connector
// for a 3PL. It speaks Tryton's JSON-RPC over HTTP: common.db.login, then
// model.<name>.<method> calls with the session and the user's context
// (Tryton 6.0 LTS, modules stock, stock_package and stock_package_shipping).
//
// # Orders
//
// SubmitOrder creates a customer shipment (stock.shipment.out) in the
// configured warehouse with reference = the order's ExternalRef, addressed
// to one customer party (customer_party) at a delivery address created or
// reused per distinct ship-to, with one outgoing move per line (product
// found by code = SKU; an unknown SKU is a permanent error naming it). The
// line numbers are recorded in an ir.note on the shipment (stock.move has no
// field for them), then the shipment is moved to waiting ("wait"), which
// plans the inventory moves and so reserves the units in the forecast.
// Resubmitting a reference returns the existing shipment with Created
// false (different lines while unpicked: a permanent error).
//
// CancelOrder cancels while the shipment is draft, waiting or assigned, and
// refuses with a reason once it is picked, packed or done.
//
// # Events
//
// Tryton keeps no history of state changes, so the feed is the shipments of
// the warehouse ordered by (write_date, id) after the cursor
// "<write_date>|<id>", one event per shipment for its current state:
//
//	waiting, assigned → acknowledged
//	picked            → picking
//	packed            → packed
//	done              → shipped (order.Shipment: done outgoing moves as
//	                    lines, stock.package as packages with
//	                    shipping_reference as tracking number and
//	                    shipping_tracking_url as tracking URL)
//	cancelled         → cancelled
//
// Event IDs are "<shipment id>:<event type>": stable, so reading again from
// an older cursor, or a shipment written again without a state change,
// yields the same IDs for the hub to skip. A state passed between two polls
// is not reported (progress only moves forward, so the hub loses nothing
// but an intermediate step). Event times and ShippedAt are the write_date
// (Tryton has no time of the "done" transition, only its date). Shipments
// without a reference were not sent by the hub and are not reported.
// Draft shipments are not reported either.
//
// # Stock
//
// Stock lists every goods product with a code (Full: a product missing is
// zero). OnHand is Tryton's quantity at the warehouse's storage location and
// its children (done moves: units on the shelves). Available is the lower of
// quantity and forecast_quantity: forecast subtracts the planned inventory
// moves of waiting and assigned shipments — units already promised to
// orders the hub sent, which quantity still counts until they are picked —
// but it also adds planned receipts, which are not sellable before they
// arrive; the minimum keeps the first and ignores the second.
//
// # Configuration
//
// Keys (strict; any other key is an error):
//
//	url             required, trytond's root, e.g. http://127.0.0.1:8000
//	database        required, the Tryton database
//	user, password  required, the Tryton login
//	warehouse       code of the warehouse location, default "WH"
//	customer_party  name of the party shipments are addressed to, created
//	                if missing, default "Shopify customers"
//	timeout         per-call timeout (Go duration), default "30s"
//
// # Errors
//
// Connection errors, timeouts, 5xx answers, ConcurrencyException and
// unexpected server exceptions are transient. A refused login (401) is a
// permanent error wrapping ErrAuth that names the user and database; an
// expired session is renewed once. 429 (trytond's login rate limit) asks to
// retry after LoginRetryDelay. UserError and UserWarning answers (Tryton
// refused the data) are permanent and wrap an *RPCError.
//
// write_date does not strictly follow commit order: on Tryton's PostgreSQL
// backend it is the transaction's start time, and on its SQLite backend
// (what scripts/tryton-up.sh sets up) trytond's NOW() is fixed at its first
// use in a transaction, which may come before the write lock is taken. A
// shipment committed by a long transaction after the feed read a later one
// would be skipped by a plain cursor, so Events also looks again, on each
// call, at the shipments dated within FeedOverlap (default 2 minutes)
// before the cursor and returns the events it has not returned yet
// (TestLateCommittedShipmentIsReported).
//
// Known limits: Tryton's address has no phone or e-mail field, so neither
// is sent; a country Tryton does not know (see trytond_import_countries) is
// left empty; two concurrent first submissions of one reference can create
// two shipments (the hub submits an order from one job at a time).
package tryton
