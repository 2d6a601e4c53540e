// Command okta-backfill runs idsync's Okta System Log backfill as its own
// service.
package main

import (
	"github.com/idsync/idsync/pkg/service"
	oktabackfill "github.com/idsync/idsync/services/okta-backfill"
)

func main() { service.Main("okta-backfill", oktabackfill.Run) }
