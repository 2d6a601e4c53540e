// Command github-sync runs the github-sync consumer as its own service.
package main

import (
	"github.com/idsync/idsync/pkg/service"
	githubsync "github.com/idsync/idsync/services/github-sync"
)

func main() { service.Main("github-sync", githubsync.Run) }
