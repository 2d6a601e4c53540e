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

// Machine is the CPU time of every core since boot, from /proc/stat.
type Machine struct {
	// Busy is the time spent running anything (user, nice, system, irq,
	// softirq, steal); Total adds idle and iowait.
	Busy, Total time.Duration
}

// ReadMachine returns the machine's CPU times now.
func ReadMachine() (Machine, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return Machine{}, fmt.Errorf("procstat.ReadMachine: %w", err)
	}
	m, err := parseMachine(b)
	if err != nil {
		return Machine{}, fmt.Errorf("procstat.ReadMachine: %w", err)
	}
	return m, nil
}

// parseMachine reads the aggregate "cpu" line: user nice system idle iowait
// irq softirq steal (guest time is already inside user and nice).
func parseMachine(stat []byte) (Machine, error) {
	sc := bufio.NewScanner(bytes.NewReader(stat))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || f[0] != "cpu" {
			continue
		}
		if len(f) < 9 {
			return Machine{}, fmt.Errorf("cpu line has %d fields, want 9 or more", len(f))
		}
		var v [8]int64
		for i := range v {
			n, err := strconv.ParseInt(f[i+1], 10, 64)
			if err != nil {
				return Machine{}, err
			}
			v[i] = n
		}
		idle := v[3] + v[4]
		busy := v[0] + v[1] + v[2] + v[5] + v[6] + v[7]
		return Machine{Busy: time.Duration(busy) * clockTick, Total: time.Duration(busy+idle) * clockTick}, nil
	}
	return Machine{}, errors.New("no cpu line")
}
