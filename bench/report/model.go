// Package report turns the harness's measurements into BENCHMARKS-style
// markdown: every figure the median of the runs with their min–max, ratios
// computed within each run (the gateway against the raw JetStream publish
// and the naive relay measured minutes apart on the same server) and then
// summarised, and the targets checked against the medians.
package report

import (
	"time"

	"github.com/idsync/idsync/bench/gobench"
)

// Targets of a scenario.
const (
	RawSync    = "raw-sync"    // JetStream synchronous publish, one publisher per sender
	RawAsync   = "raw-async"   // JetStream asynchronous publish with a window
	RawConsume = "raw-consume" // a durable pull consumer with explicit acks
	Relay      = "relay"       // the naive net/http relay
	Gateway    = "gateway"     // the idsync gateway, full path
)

// Key names a scenario.
type Key struct {
	Target string
	// Body is the delivery (okta-1, okta-20, console/<event>); Size its
	// padded size in bytes, 0 when sent as is.
	Body string
	Size int
	// Senders is the closed-loop concurrency, or the open-loop connection
	// pool; for the async publish, its window.
	Senders int
	// Open marks the open-loop run at half the gateway's maximum rate.
	Open bool
}

// Process names in Sample.CPU and Sample.PeakRSS.
const (
	ProcGateway = "gateway"
	ProcRelay   = "relay"
	ProcNATS    = "nats"
	ProcLoadgen = "loadgen" // the harness itself: load generator and raw probes
	ProcMachine = "machine" // every core, whatever runs on it (CPU only)
)

// Sample is one run of a scenario.
type Sample struct {
	Run int
	// Rate is successful operations (requests, messages) per second; Events
	// is the events one operation carries.
	Rate   float64
	Events int
	// Latency percentiles of the successful operations; for open-loop runs,
	// from each request's scheduled time.
	P50, P90, P99, Max time.Duration
	OK, Errors, Non2xx int64
	// Unsent counts open-loop requests never sent before the deadline.
	Unsent    int64
	Statuses  map[int]int64
	LastError string
	// Offered is the open-loop rate asked for.
	Offered float64
	// CPU is CPU time per successful operation, by process (Proc*).
	CPU map[string]time.Duration
	// PeakRSS is each process's peak resident memory in the window, bytes.
	PeakRSS map[string]int64
	// Allocs and AllocBytes are heap allocations per operation in the
	// system under test, from its /metrics (go_memstats_*); 0 = unknown.
	Allocs, AllocBytes float64
}

// Header describes the machine and the invocation.
type Header struct {
	Date                                 time.Time
	Cores                                int
	CPUModel, Memory, Kernel             string
	GoVersion, NATSVersion, Commit       string
	Command                              string
	Runs                                 int
	Duration, Warmup                     time.Duration
	StreamNote, GatewayNote, ProcessNote string
}

// GoBench is the output of one `go test -bench` invocation.
type GoBench struct {
	// Title says what it measures; Dir and Command how to run it again.
	Title, Dir, Command string
	Benchmarks          []gobench.Benchmark
	Err                 string
}

// Results is everything one harness invocation measured.
type Results struct {
	Header Header
	// Concurrency and Sizes are the curves' axes; Curve is the concurrency
	// at which sizes, deliveries and targets are compared (64).
	Concurrency []int
	Sizes       []int
	Curve       int
	// MaxBody is the gateway's body limit (sizes above it are refused by
	// design); AsyncWindow the async publish's window.
	MaxBody, AsyncWindow int
	Samples              map[Key][]Sample
	Allocs               *GoBench
	Consumers            []GoBench
	Notes                []string
}
