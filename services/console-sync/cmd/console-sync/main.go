// Command console-sync runs the console-sync consumer as its own service.
package main

import (
	"github.com/idsync/idsync/pkg/service"
	consolesync "github.com/idsync/idsync/services/console-sync"
)

func main() { service.Main("console-sync", consolesync.Run) }
