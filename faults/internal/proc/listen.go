package proc

import (
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"time"
)

// Listening waits until the process logs its "listening" line (every idsync
// service does, with the address it bound) and returns that address.
func (p *Proc) Listening(timeout time.Duration) (string, error) {
	deadline := time.Now().Add(timeout)
	for {
		for _, line := range strings.Split(p.Log(), "\n") {
			var rec struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "listening" && rec.Addr != "" {
				return rec.Addr, nil
			}
		}
		if !p.Running() {
			return "", fmt.Errorf("%s exited (code %d) before listening", p.Name, p.ExitCode())
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("%s not listening after %s", p.Name, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// WaitLog waits until the process's log contains s.
func (p *Proc) WaitLog(s string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for !strings.Contains(p.Log(), s) {
		if !p.Running() {
			return fmt.Errorf("%s exited (code %d) before logging %q", p.Name, p.ExitCode(), s)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not log %q within %s", p.Name, s, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// FreePort returns a loopback TCP port nothing listens on now. Servers that
// must come back on the same port after a restart (NATS, the gateway) are
// given one; everything else listens on port 0.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
