// Command eventlog runs the event log as its own service.
package main

import (
	"github.com/idsync/idsync/pkg/service"
	"github.com/idsync/idsync/services/eventlog"
)

func main() { service.Main("eventlog", eventlog.Run) }
