// Package natsd runs nats-server as a child process of a test: one server
// with a JetStream file store, or a cluster of them with routes on
// loopback. A server keeps its ports and store across restarts, so that
// clients reconnect to it and find what it had stored.
package natsd

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/idsync/idsync/faults/internal/proc"
)

// Options tune the servers.
type Options struct {
	// MaxFileStore caps the JetStream file store of each server in bytes
	// (0: the server's default, a share of the disk): a "disk full".
	MaxFileStore int64
}

// Server is one nats-server.
type Server struct {
	Name                           string
	Port, ClusterPort, MonitorPort int
	StoreDir                       string
	P                              *proc.Proc
	bin, dir, conf                 string
	routes                         []int
	opts                           Options
	incarnations                   int
}

func newServer(bin, dir, name string, opts Options) (*Server, error) {
	s := &Server{Name: name, bin: bin, dir: dir, opts: opts}
	for _, p := range []*int{&s.Port, &s.ClusterPort, &s.MonitorPort} {
		port, err := proc.FreePort()
		if err != nil {
			return nil, err
		}
		*p = port
	}
	s.StoreDir = filepath.Join(dir, name+"-store")
	s.conf = filepath.Join(dir, name+".conf")
	return s, nil
}

// Standalone starts one server and waits until JetStream is ready.
func Standalone(t testing.TB, bin, dir string, opts Options) *Server {
	t.Helper()
	s, err := newServer(bin, dir, "nats", opts)
	if err != nil {
		t.Fatal(err)
	}
	s.Start(t)
	s.WaitReady(t, 30*time.Second)
	return s
}

// URL is the server's client URL.
func (s *Server) URL() string { return fmt.Sprintf("nats://127.0.0.1:%d", s.Port) }

// URLs joins the servers' client URLs for IDSYNC_NATS_URL.
func URLs(servers []*Server) string {
	urls := make([]string, len(servers))
	for i, s := range servers {
		urls[i] = s.URL()
	}
	return strings.Join(urls, ",")
}

func (s *Server) config() string {
	var b strings.Builder
	fmt.Fprintf(&b, "server_name: %q\nlisten: \"127.0.0.1:%d\"\nhttp: \"127.0.0.1:%d\"\n", s.Name, s.Port, s.MonitorPort)
	fmt.Fprintf(&b, "jetstream {\n  store_dir: %q\n", s.StoreDir)
	if s.opts.MaxFileStore > 0 {
		fmt.Fprintf(&b, "  max_file_store: %d\n", s.opts.MaxFileStore)
	}
	b.WriteString("}\n")
	if len(s.routes) > 0 {
		fmt.Fprintf(&b, "cluster {\n  name: \"faults\"\n  listen: \"127.0.0.1:%d\"\n  routes: [", s.ClusterPort)
		for i, r := range s.routes {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "\"nats://127.0.0.1:%d\"", r)
		}
		b.WriteString("]\n}\n")
	}
	return b.String()
}

// Start (re)starts the server on its ports and store.
func (s *Server) Start(t testing.TB) {
	t.Helper()
	if err := os.WriteFile(s.conf, []byte(s.config()), 0o600); err != nil {
		t.Fatal(err)
	}
	s.incarnations++
	s.P = proc.Start(t, proc.Spec{
		Name: fmt.Sprintf("%s-%d", s.Name, s.incarnations), Bin: s.bin, Dir: s.dir,
		Args: []string{"-c", s.conf}, Env: map[string]string{"PATH": os.Getenv("PATH")},
	})
}

// WaitReady polls the monitoring endpoint's /healthz until the server says
// it is healthy (for JetStream: meta leader known, its streams current).
func (s *Server) WaitReady(t testing.TB, timeout time.Duration) {
	t.Helper()
	if err := s.waitReady(timeout); err != nil {
		t.Fatal(err)
	}
}

func (s *Server) waitReady(timeout time.Duration) error {
	url := fmt.Sprintf("http://127.0.0.1:%d/healthz", s.MonitorPort)
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if !s.P.Running() {
			return fmt.Errorf("%s exited (code %d) before it was ready", s.P.Name, s.P.ExitCode())
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not healthy after %s (last: %v)", s.P.Name, timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// SetOptions changes the options the next Start uses.
func (s *Server) SetOptions(o Options) { s.opts = o }

// Kill ends the server with SIGKILL: no flush, no goodbye to the cluster.
func (s *Server) Kill() { s.P.Kill() }

// Term ends the server with SIGTERM and waits until it has exited.
func (s *Server) Term(t testing.TB) {
	t.Helper()
	if err := s.P.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if _, err := s.P.Wait(30 * time.Second); err != nil {
		t.Fatal(err)
	}
}
