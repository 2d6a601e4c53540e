// Package procstat reads what a process and the machine used from Linux's
// /proc: a process's CPU time (utime + stime of /proc/<pid>/stat, all its
// threads), its resident and peak resident memory (VmRSS and VmHWM of
// /proc/<pid>/status), and the machine's busy CPU time (/proc/stat).
package procstat

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTick is USER_HZ, the unit of /proc's CPU times: 100 on every Linux
// architecture Go supports (the kernel fixes it for user space), which
// gives 10 ms resolution.
const clockTick = 10 * time.Millisecond

// Usage is a process's consumption at one instant.
type Usage struct {
	// CPU is the user plus system time of all its threads since it started.
	CPU time.Duration
	// RSS is its resident memory now; PeakRSS the largest it has been since
	// it started or since ResetPeak, in bytes.
	RSS, PeakRSS int64
}

// Read returns the usage of process pid.
func Read(pid int) (Usage, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return Usage{}, fmt.Errorf("procstat.Read: %w", err)
	}
	cpu, err := parseStat(stat)
	if err != nil {
		return Usage{}, fmt.Errorf("procstat.Read %d: %w", pid, err)
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Usage{}, fmt.Errorf("procstat.Read: %w", err)
	}
	u := Usage{CPU: cpu}
	if u.RSS, err = statusKiB(status, "VmRSS:"); err == nil {
		u.PeakRSS, err = statusKiB(status, "VmHWM:")
	}
	if err != nil {
		return Usage{}, fmt.Errorf("procstat.Read %d: %w", pid, err)
	}
	return u, nil
}

// ResetPeak sets process pid's peak resident memory back to its current
// resident memory (writing 5 to /proc/<pid>/clear_refs, Linux 4.0+), so that
// the next PeakRSS covers only what follows. It needs the right to write
// there: the process's owner.
func ResetPeak(pid int) error {
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0); err != nil {
		return fmt.Errorf("procstat.ResetPeak: %w", err)
	}
	return nil
}

// parseStat returns utime + stime from the contents of /proc/<pid>/stat.
// The second field, the command name in parentheses, may itself hold spaces
// and parentheses, so the fields are counted from the last ')'.
func parseStat(stat []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("no command name in stat")
	}
	// Fields from the third (state) on; utime and stime are the 14th and 15th.
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("stat has %d fields after the name, want 13 or more", len(f))
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("stat: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * clockTick, nil
}

// statusKiB returns the value of a "<key> <n> kB" line of /proc/<pid>/status
// in bytes.
func statusKiB(status []byte, key string) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), key)
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s %w", key, err)
		}
		return n << 10, nil
	}
	return 0, fmt.Errorf("no %s line", key)
}
