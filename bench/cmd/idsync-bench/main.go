// Command idsync-bench is idsync's benchmark harness; see bench/README.md.
package main

import (
	"github.com/idsync/idsync/bench/harness"
	"github.com/idsync/idsync/pkg/service"
)

func main() { service.Main("idsync-bench", harness.Run) }
