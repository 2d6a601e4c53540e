package oktalog

import (
	"strconv"
	"strings"
)

// maxFilter bounds the filter sent to Okta: it travels in the URL, and a
// long list of forwarded types is cheaper to filter here than to refuse.
const maxFilter = 4096

// Filter is the System Log filter reading exactly the given event types:
// eventType eq "a" or eventType eq "b" … It is empty — read everything and
// route here — when types is empty or the filter would exceed maxFilter.
// Whatever it reads, the routing decides what is published.
func Filter(types []string) string {
	if len(types) == 0 {
		return ""
	}
	parts := make([]string, len(types))
	for i, t := range types {
		parts[i] = "eventType eq " + strconv.Quote(t)
	}
	f := strings.Join(parts, " or ")
	if len(f) > maxFilter {
		return ""
	}
	return f
}
