// Command gitlab-sync runs the gitlab-sync consumer as its own service.
package main

import (
	"github.com/idsync/idsync/pkg/service"
	gitlabsync "github.com/idsync/idsync/services/gitlab-sync"
)

func main() { service.Main("gitlab-sync", gitlabsync.Run) }
