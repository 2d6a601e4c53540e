// Command gateway runs the idsync webhook gateway as its own service.
package main

import (
	"github.com/idsync/idsync/pkg/service"
	"github.com/idsync/idsync/services/gateway"
)

func main() { service.Main("gateway", gateway.Run) }
