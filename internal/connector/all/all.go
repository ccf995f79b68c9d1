// Package all links the built-in WMS connectors; importing it for its side
// effects registers them (Caddy/Benthos style: main chooses what is linked).
package all

import (
	_ "github.com/crossdock/crossdock/internal/connector/csvwms"  // kind "csv"
	_ "github.com/crossdock/crossdock/internal/connector/ediwms"  // kind "edi"
	_ "github.com/crossdock/crossdock/internal/connector/restwms" // kind "rest"
	_ "github.com/crossdock/crossdock/internal/connector/tryton"  // kind "tryton"
)
