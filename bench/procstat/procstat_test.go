package procstat_test

import (
	"crypto/sha256"
	"os"
	"testing"
	"time"

	"github.com/idsync/idsync/bench/procstat"
)

func TestParseStat(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, stat string
		want       time.Duration
		bad        bool
	}{
		{"plain", "1234 (gateway) S 1 1234 1234 0 -1 4194560 1 0 0 0 150 50 0 0 20 0 9 0 100 0 0", 2 * time.Second, false},
		{"name with spaces and parentheses", "99 (a b) (c)) R 1 99 99 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 5 0 0", 100 * time.Millisecond, false},
		{"truncated", "99 (x) R 1 2 3", 0, true},
		{"no name", "garbage", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := procstat.ParseStat([]byte(tc.stat))
			if (err != nil) != tc.bad || got != tc.want {
				t.Errorf("= %v, %v; want %v, error %v", got, err, tc.want, tc.bad)
			}
		})
	}
}

func TestStatusKiB(t *testing.T) {
	t.Parallel()
	status := []byte("Name:\tgateway\nVmHWM:\t   40960 kB\nVmRSS:\t   30720 kB\n")
	if got, err := procstat.StatusKiB(status, "VmHWM:"); err != nil || got != 40<<20 {
		t.Errorf("VmHWM = %d, %v; want 40 MiB", got, err)
	}
	if _, err := procstat.StatusKiB(status, "VmSwap:"); err == nil {
		t.Error("missing key: no error")
	}
}

func TestParseMachine(t *testing.T) {
	t.Parallel()
	m, err := procstat.ParseMachine([]byte("cpu  100 10 50 800 40 5 5 0 0 0\ncpu0 50 5 25 400 20 2 3 0 0 0\n"))
	if err != nil {
		t.Fatal(err)
	}
	if want := (procstat.Machine{Busy: 1700 * time.Millisecond, Total: 10100 * time.Millisecond}); m != want {
		t.Errorf("= %+v, want %+v", m, want)
	}
}

// The test's own process: it burns some CPU and touches memory, and the
// meter must see time and memory go up, never down.
func TestReadOwnProcess(t *testing.T) {
	before, err := procstat.Read(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if before.RSS <= 0 || before.PeakRSS < before.RSS {
		t.Fatalf("RSS %d, peak %d: want 0 < RSS <= peak", before.RSS, before.PeakRSS)
	}
	sum := sha256.Sum256(nil)
	for deadline := time.Now().Add(50 * time.Millisecond); time.Now().Before(deadline); {
		sum = sha256.Sum256(sum[:])
	}
	big := make([]byte, 32<<20)
	for i := range big {
		big[i] = byte(i)
	}
	after, err := procstat.Read(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if after.CPU < before.CPU {
		t.Errorf("CPU went from %v to %v", before.CPU, after.CPU)
	}
	if after.PeakRSS < before.PeakRSS || after.PeakRSS < 32<<20 {
		t.Errorf("peak RSS %d after touching 32 MiB (before: %d)", after.PeakRSS, before.PeakRSS)
	}
	if err := procstat.ResetPeak(os.Getpid()); err != nil {
		t.Skipf("cannot reset the peak here (visible skip): %v", err)
	}
	reset, err := procstat.Read(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if reset.PeakRSS < reset.RSS {
		t.Errorf("after reset: peak %d below RSS %d", reset.PeakRSS, reset.RSS)
	}
}

func TestReadMachine(t *testing.T) {
	t.Parallel()
	m, err := procstat.ReadMachine()
	if err != nil {
		t.Fatal(err)
	}
	if m.Busy <= 0 || m.Total < m.Busy {
		t.Errorf("%+v: want 0 < busy <= total", m)
	}
}

func TestReadMissingProcess(t *testing.T) {
	t.Parallel()
	if _, err := procstat.Read(1 << 30); err == nil {
		t.Error("no error for a process that does not exist")
	}
}
