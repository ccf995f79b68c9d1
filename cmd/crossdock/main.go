// Command crossdock is the hub between Shopify stores and warehouse systems.
//
//	crossdock demo                 run the hub with a Shopify simulator and two simulated warehouses
//	crossdock serve --config FILE  run the hub against the endpoints in FILE
//	crossdock sim shopify          run the Shopify Admin API simulator
//	crossdock sim wms              run a simulated warehouse (crossdock REST WMS protocol)
//	crossdock migrate --config FILE apply database migrations
//	crossdock version              print the version
package main

import (
	"os"

	"github.com/crossdock/crossdock/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
