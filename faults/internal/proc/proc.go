package proc

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Proc is one incarnation of a child process.
type Proc struct {
	Name    string
	LogPath string

	cmd  *exec.Cmd
	done chan struct{}
	mu   sync.Mutex
	code int
}

// Spec says what to run.
type Spec struct {
	// Name labels the process in logs and errors (e.g. gitlab-sync-2).
	Name string
	Bin  string
	Args []string
	// Env is the whole environment: children inherit nothing from the
	// test process, so that a developer's OKTA_* or IDSYNC_* variables
	// cannot change what is tested.
	Env map[string]string
	// Dir is where the log goes (and the working directory). With
	// IDSYNC_FAULTS_LOGS set, logs go to a directory of that name instead
	// (one per test), and stay after the test.
	Dir string
}

// logDir is where t's logs go: IDSYNC_FAULTS_LOGS/<test>, or dir.
func logDir(t testing.TB, dir string) string {
	keep := os.Getenv("IDSYNC_FAULTS_LOGS")
	if keep == "" {
		return dir
	}
	d := filepath.Join(keep, strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()))
	if err := os.MkdirAll(d, 0o755); err != nil {
		return dir
	}
	return d
}

// Start starts the process; its stdout and stderr go to a new log file in
// spec.Dir. The test's cleanup kills it if it still runs, checks its log
// for data races, and attaches the log to the output of a failed test.
func Start(t testing.TB, spec Spec) *Proc {
	t.Helper()
	log, err := os.CreateTemp(logDir(t, spec.Dir), spec.Name+"-*.log")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(spec.Bin, spec.Args...)
	cmd.Dir = spec.Dir
	cmd.Stdout, cmd.Stderr = log, log
	cmd.Env = environ(spec.Env)
	// Its own process group: a signal to the test's group (Ctrl-C) does
	// not reach it twice, and the cleanup reaches only it. Pdeathsig kills
	// it should the test binary die without running its cleanups (a test
	// timeout panics).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		log.Close()
		t.Fatalf("starting %s: %v", spec.Name, err)
	}
	p := &Proc{Name: spec.Name, LogPath: log.Name(), cmd: cmd, done: make(chan struct{}), code: -1}
	go func() {
		err := cmd.Wait()
		log.Close()
		code := cmd.ProcessState.ExitCode()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			code = -1
		}
		p.mu.Lock()
		p.code = code
		p.mu.Unlock()
		close(p.done)
	}()
	t.Cleanup(func() {
		if p.Running() {
			_ = p.cmd.Process.Signal(syscall.SIGKILL)
			<-p.done
		}
		b, _ := os.ReadFile(p.LogPath)
		if bytes.Contains(b, []byte("WARNING: DATA RACE")) {
			t.Errorf("%s: the race detector reported a data race (log %s)", p.Name, p.LogPath)
		}
		if t.Failed() {
			t.Logf("==== %s (%s) ====\n%s", p.Name, filepath.Base(p.LogPath), tail(b, 24<<10))
		}
	})
	return p
}

func environ(env map[string]string) []string {
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

func tail(b []byte, n int) []byte {
	if len(b) <= n {
		return b
	}
	b = b[len(b)-n:]
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[i+1:]
	}
	return append([]byte("…\n"), b...)
}

// Pid is the process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Running reports whether the process has not exited yet.
func (p *Proc) Running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Done is closed when the process has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Signal sends sig to the process.
func (p *Proc) Signal(sig syscall.Signal) error {
	if err := p.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("%s: %w", p.Name, err)
	}
	return nil
}

// Kill sends SIGKILL and waits for the process to be gone.
func (p *Proc) Kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// Wait waits up to timeout for the process to exit and returns its exit
// code (-1 when killed by a signal).
func (p *Proc) Wait(timeout time.Duration) (int, error) {
	select {
	case <-p.done:
		return p.ExitCode(), nil
	case <-time.After(timeout):
		return 0, fmt.Errorf("%s (pid %d) still running after %s", p.Name, p.Pid(), timeout)
	}
}

// ExitCode is the exit code once the process has exited (-1 before, or when
// a signal ended it).
func (p *Proc) ExitCode() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.code
}

// Log returns what the process has written so far.
func (p *Proc) Log() string {
	b, _ := os.ReadFile(p.LogPath)
	return string(b)
}
