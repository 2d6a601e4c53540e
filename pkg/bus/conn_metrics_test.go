package bus_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/bus/bustest"
	"github.com/idsync/idsync/pkg/logging"
)

// TestConnectExportsConnectionMetrics: the connection families exist for
// the client from the start (counters at 0), so alerts on rate() see the
// first reconnect.
func TestConnectExportsConnectionMetrics(t *testing.T) {
	bustest.Each(t, func(t *testing.T, tg bustest.Target) {
		reg := prometheus.NewRegistry()
		conn, err := bus.Connect(bus.ConnConfig{URL: tg.URL}, "probe", logging.Discard(), reg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(conn.NC.Close)
		waitFor(t, "connected", conn.Connected)
		for _, name := range []string{"idsync_bus_connected", "idsync_bus_reconnects_total", "idsync_bus_async_errors_total"} {
			if n, err := testutil.GatherAndCount(reg, name); err != nil || n != 1 {
				t.Errorf("%s: %d series (%v), want 1 for client probe", name, n, err)
			}
		}
	})
}
