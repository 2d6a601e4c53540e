package harness

import (
	"bufio"
	"context"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/idsync/idsync/bench/procstat"
	"github.com/idsync/idsync/bench/report"
)

// meter measures, over a window, the CPU time of the processes of the
// system under test, of the harness and of the machine, the peak memory of
// the server being driven, and the heap allocations of the gateway.
type meter struct {
	pids map[string]int // report.Proc* → pid
	// metrics is the /metrics URL of the process whose allocations count.
	metrics string
	// sut is the process whose peak RSS is reported (gateway or relay).
	sut string

	startCPU, stopCPU         map[string]time.Duration
	startMachine, stopMachine time.Duration
	startAlloc, stopAlloc     memstats
	resetOK                   bool
}

type memstats struct{ mallocs, bytes float64 }

func (s *system) meter(sut string) *meter {
	m := &meter{pids: map[string]int{report.ProcLoadgen: os.Getpid(), report.ProcNATS: s.nats.pid()}, sut: sut}
	switch sut {
	case report.ProcGateway:
		m.pids[sut] = s.gateway.pid()
		m.metrics = s.gatewayURL + "/metrics"
	case report.ProcRelay:
		m.pids[sut] = s.relay.pid()
	}
	return m
}

// reset starts a new peak-memory period for the server being driven.
func (m *meter) reset() {
	if pid, ok := m.pids[m.sut]; ok {
		m.resetOK = procstat.ResetPeak(pid) == nil
	}
}

func (m *meter) snapshot() (map[string]time.Duration, time.Duration, memstats) {
	cpu := map[string]time.Duration{}
	for name, pid := range m.pids {
		if u, err := procstat.Read(pid); err == nil {
			cpu[name] = u.CPU
		}
	}
	var machine time.Duration
	if mc, err := procstat.ReadMachine(); err == nil {
		machine = mc.Busy
	}
	return cpu, machine, scrape(m.metrics)
}

func (m *meter) start() { m.startCPU, m.startMachine, m.startAlloc = m.snapshot() }
func (m *meter) stop()  { m.stopCPU, m.stopMachine, m.stopAlloc = m.snapshot() }

// fill adds to sample the figures per operation, ops being the successful
// operations of the window.
func (m *meter) fill(sample *report.Sample, ops int64) {
	if ops <= 0 {
		return
	}
	per := func(d time.Duration) time.Duration { return d / time.Duration(ops) }
	sample.CPU = map[string]time.Duration{}
	for name, v := range m.stopCPU {
		if b, ok := m.startCPU[name]; ok {
			sample.CPU[name] = per(v - b)
		}
	}
	if m.stopMachine > 0 {
		sample.CPU[report.ProcMachine] = per(m.stopMachine - m.startMachine)
	}
	if pid, ok := m.pids[m.sut]; ok && m.sut != report.ProcLoadgen {
		if u, err := procstat.Read(pid); err == nil {
			sample.PeakRSS = map[string]int64{m.sut: u.PeakRSS}
		}
	}
	if m.metrics != "" && m.stopAlloc.mallocs > 0 {
		sample.Allocs = (m.stopAlloc.mallocs - m.startAlloc.mallocs) / float64(ops)
		sample.AllocBytes = (m.stopAlloc.bytes - m.startAlloc.bytes) / float64(ops)
	}
}

// scrape reads the Go runtime's allocation counters from a Prometheus
// endpoint; zeros when there is none.
func scrape(url string) memstats {
	if url == "" {
		return memstats{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return memstats{}
	}
	defer resp.Body.Close()
	var ms memstats
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		switch name {
		case "go_memstats_mallocs_total":
			ms.mallocs, _ = strconv.ParseFloat(value, 64)
		case "go_memstats_alloc_bytes_total":
			ms.bytes, _ = strconv.ParseFloat(value, 64)
		}
	}
	return ms
}
