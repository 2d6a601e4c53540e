// Command idsync runs the whole idsync system in one process (`idsync run`,
// the default) and is the operator CLI.
package main

import (
	"github.com/idsync/idsync/pkg/service"
	"github.com/idsync/idsync/services/idsync"
)

func main() { service.Main("idsync", idsync.Run) }
