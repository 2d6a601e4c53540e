package gobench_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/idsync/idsync/bench/gobench"
)

const output = `goos: linux
goarch: amd64
pkg: github.com/idsync/idsync/services/gitlab-sync
cpu: AMD EPYC
BenchmarkThroughput/latency=0s-2         	    1000	    812345 ns/op	      1231 events/s
BenchmarkThroughput/latency=50ms-2       	    1000	   2564102 ns/op	       390.0 events/s
BenchmarkThroughput/latency=0s-2         	    1000	    790000 ns/op	      1266 events/s
    bench_test.go:40: a log line
BenchmarkThroughput/latency=50ms-2       	    1000	   2600000 ns/op	       384.6 events/s
BenchmarkOktaSingleEvent-2   	    2000	    165000 ns/op	   55296 B/op	     607 allocs/op
BenchmarkConsoleEvents
BenchmarkConsoleEvents/user_added-2      	    2000	     90000 ns/op	   30000 B/op	     300 allocs/op
BenchmarkEndToEnd/rate=50/s-2            	     400	  20000000 ns/op	         1.9 p50-ms	         4.7 p99-ms
PASS
ok  	github.com/idsync/idsync/services/gitlab-sync	12.3s
`

func TestParse(t *testing.T) {
	t.Parallel()
	bs, err := gobench.Parse(strings.NewReader(output))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, b := range bs {
		names = append(names, b.Name)
	}
	want := []string{"BenchmarkThroughput/latency=0s", "BenchmarkThroughput/latency=50ms", "BenchmarkOktaSingleEvent", "BenchmarkConsoleEvents/user_added", "BenchmarkEndToEnd/rate=50/s"}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("names %q, want %q", names, want)
	}
	for _, tc := range []struct {
		bench int
		unit  string
		want  []float64
	}{
		{0, "events/s", []float64{1231, 1266}},
		{1, "events/s", []float64{390, 384.6}},
		{2, "allocs/op", []float64{607}},
		{2, "B/op", []float64{55296}},
		{4, "p99-ms", []float64{4.7}},
	} {
		if got := bs[tc.bench].Metrics[tc.unit]; !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s %s = %v, want %v", bs[tc.bench].Name, tc.unit, got, tc.want)
		}
	}
	if got := bs[2].Units; !reflect.DeepEqual(got, []string{"ns/op", "B/op", "allocs/op"}) {
		t.Errorf("units %v", got)
	}
}
