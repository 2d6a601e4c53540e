// Command okta-sync runs the okta-sync consumer as its own service.
package main

import (
	"github.com/idsync/idsync/pkg/service"
	oktasync "github.com/idsync/idsync/services/okta-sync"
)

func main() { service.Main("okta-sync", oktasync.Run) }
