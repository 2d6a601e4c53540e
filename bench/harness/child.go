package harness

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// childEnv marks a process started by the harness as one of its children,
// so that a test binary standing in for idsync-bench knows to run the
// subcommand in its arguments instead of the tests.
const childEnv = "IDSYNC_BENCH_CHILD"

// ChildEnv is the variable TestMain checks (see childEnv).
const ChildEnv = childEnv

// child is a process of the system under test.
type child struct {
	name string
	cmd  *exec.Cmd
	// addr is what it printed after "listening" (or logged as the
	// "listening" message's addr): where it serves.
	addr    string
	logPath string
	done    chan struct{}
	waitErr error
}

// startChild starts path with args and env, writing its output to
// <dir>/<name>.log, and waits until it says where it listens.
func startChild(name, path string, args, env []string, dir string) (*child, error) {
	logPath := filepath.Join(dir, name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path, args...)
	cmd.Env = env
	// If the harness dies without stopping it, the kernel stops it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		logf.Close()
		return nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		logf.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	addrs := make(chan string, 2)
	var lw sync.Mutex
	var readers sync.WaitGroup
	for _, r := range []io.Reader{stdout, stderr} {
		readers.Go(func() {
			sc := bufio.NewScanner(r)
			sc.Buffer(make([]byte, 64<<10), 1<<20)
			for sc.Scan() {
				line := sc.Text()
				lw.Lock()
				fmt.Fprintln(logf, line)
				lw.Unlock()
				if a, ok := listening(line); ok {
					select {
					case addrs <- a:
					default:
					}
				}
			}
		})
	}
	go func() {
		readers.Wait()
		c.waitErr = cmd.Wait()
		logf.Close()
		close(c.done)
	}()
	select {
	case c.addr = <-addrs:
		return c, nil
	case <-c.done:
		return nil, fmt.Errorf("%s exited before listening: %v\n%s", name, c.waitErr, c.logTail())
	case <-time.After(60 * time.Second):
		c.stop()
		return nil, fmt.Errorf("%s: not listening after 60s\n%s", name, c.logTail())
	}
}

// listening recognises "listening <addr>" (the harness's own children) and
// a JSON log record {"msg":"listening","addr":…} (the gateway).
func listening(line string) (string, bool) {
	if rest, ok := strings.CutPrefix(line, "listening "); ok {
		return strings.TrimSpace(rest), true
	}
	var rec struct{ Msg, Addr string }
	if strings.HasPrefix(line, "{") && json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "listening" && rec.Addr != "" {
		return rec.Addr, true
	}
	return "", false
}

func (c *child) pid() int { return c.cmd.Process.Pid }

// alive returns an error if the process has exited.
func (c *child) alive() error {
	select {
	case <-c.done:
		return fmt.Errorf("%s exited: %v\n%s", c.name, c.waitErr, c.logTail())
	default:
		return nil
	}
}

// stop asks the process to shut down (SIGTERM) and kills it if it has not
// within 20 s. It returns the process's exit error, if any, except for the
// termination it asked for.
func (c *child) stop() error {
	if c == nil {
		return nil
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(20 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
		return fmt.Errorf("%s: killed after 20s without stopping", c.name)
	}
	var ee *exec.ExitError
	if errors.As(c.waitErr, &ee) && !ee.Exited() {
		return nil // ended by the signal it was sent
	}
	return c.waitErr
}

func (c *child) logTail() string {
	b, _ := os.ReadFile(c.logPath)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}
