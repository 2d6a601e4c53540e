package load

import (
	"fmt"
	"sort"
	"strings"
)

// Stats sums up what the gateway answered.
type Stats struct {
	Deliveries, Events, Delivered, Attempts int
	// Status counts answers by HTTP status; Rejected counts 503s by code.
	Status   map[int]int
	Rejected map[string]int
	// Transport counts requests that got no answer, by class.
	Transport map[string]int
	// Unexpected lists answers a sender could not act on: a status other
	// than 2xx and 503, a 503 without Retry-After or with an unknown code.
	Unexpected []string
	// Broken lists requests whose connection died under them.
	Broken []string
}

// retryable are the codes of the 503s the gateway documents.
var retryable = map[string]bool{"bus_unavailable": true, "bus_timeout": true, "bus_full": true}

// Summarize counts results.
func Summarize(results []*Result) Stats {
	st := Stats{Status: map[int]int{}, Rejected: map[string]int{}, Transport: map[string]int{}}
	for _, r := range results {
		st.Deliveries++
		st.Events += len(r.Delivery.EventIDs)
		if r.OK {
			st.Delivered++
		}
		for _, a := range r.Attempts {
			st.Attempts++
			switch {
			case a.Status == 0:
				class, _, _ := strings.Cut(a.Err, ":")
				st.Transport[class]++
				if class == ErrBroken {
					st.Broken = append(st.Broken, fmt.Sprintf("%s: %s", r.Delivery.Items[0], a.Err))
				}
				if class == ErrTimeout {
					st.Unexpected = append(st.Unexpected, fmt.Sprintf("%s: no answer within the client timeout", r.Delivery.Items[0]))
				}
			case a.Status >= 200 && a.Status < 300:
				st.Status[a.Status]++
			case a.Status == 503:
				st.Status[a.Status]++
				st.Rejected[a.Code]++
				if a.RetryAfter == "" || !retryable[a.Code] {
					st.Unexpected = append(st.Unexpected, fmt.Sprintf("%s: 503 code %q Retry-After %q", r.Delivery.Items[0], a.Code, a.RetryAfter))
				}
			default:
				st.Status[a.Status]++
				st.Unexpected = append(st.Unexpected, fmt.Sprintf("%s: %d %s", r.Delivery.Items[0], a.Status, a.Code))
			}
		}
	}
	sort.Strings(st.Unexpected)
	return st
}

// OKEventIDs lists the events of deliveries answered 2xx.
func OKEventIDs(results []*Result) []string {
	var out []string
	for _, r := range results {
		if r.OK {
			out = append(out, r.Delivery.EventIDs...)
		}
	}
	return out
}

func (st Stats) String() string {
	return fmt.Sprintf("%d deliveries (%d events), %d delivered, %d attempts, status %v, 503 codes %v, no answer %v",
		st.Deliveries, st.Events, st.Delivered, st.Attempts, st.Status, st.Rejected, st.Transport)
}
