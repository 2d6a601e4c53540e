// Package pg runs a private PostgreSQL server for one test, from the
// machine's PostgreSQL binaries (initdb, pg_ctl), on a free loopback port
// with its data in a temporary directory, so that the test may stop and
// start it at will without touching any other server. As root it runs the
// server as the postgres user (initdb refuses root).
package pg

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/idsync/idsync/faults/internal/proc"
)

// Server is one private PostgreSQL server.
type Server struct {
	Port int
	// DSN reaches its postgres database as the superuser, without password.
	DSN string

	bin, dir, data, log string
	runAs               *user.User
}

// binDir finds the directory of initdb and pg_ctl: the newest
// /usr/lib/postgresql/<version>/bin, or PATH.
func binDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "pg_ctl")); err == nil {
			return d, nil
		}
	}
	p, err := exec.LookPath("pg_ctl")
	if err != nil {
		return "", fmt.Errorf("no PostgreSQL binaries (pg_ctl, initdb) in /usr/lib/postgresql/*/bin or PATH")
	}
	return filepath.Dir(p), nil
}

func version(dir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return v
}

// Start initialises and starts a server, or skips the test (visibly) when
// the binaries are missing — unless IDSYNC_REQUIRE_POSTGRES=1, which makes
// that a failure. The server is stopped and its directory removed when
// the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := binDir()
	if err != nil {
		if os.Getenv("IDSYNC_REQUIRE_POSTGRES") == "1" {
			t.Fatalf("pg: %v; IDSYNC_REQUIRE_POSTGRES=1 requires them", err)
		}
		t.Skipf("pg: %v; skipping (IDSYNC_REQUIRE_POSTGRES=1 makes this a failure)", err)
	}
	s := &Server{bin: bin}
	if os.Geteuid() == 0 {
		// initdb and postgres refuse to run as root.
		for _, name := range []string{"postgres", "nobody"} {
			if u, err := user.Lookup(name); err == nil {
				s.runAs = u
				break
			}
		}
		if s.runAs == nil {
			t.Fatal("pg: running as root and no postgres or nobody user to run the server as")
		}
	}
	// Not t.TempDir: its parents are private to root, and the server runs
	// as another user.
	s.dir, err = os.MkdirTemp("", "idsync-faults-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(s.dir) })
	s.data, s.log = filepath.Join(s.dir, "data"), filepath.Join(s.dir, "server.log")
	if s.runAs != nil {
		uid, _ := strconv.Atoi(s.runAs.Uid)
		gid, _ := strconv.Atoi(s.runAs.Gid)
		if err := os.Chown(s.dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	if s.Port, err = proc.FreePort(); err != nil {
		t.Fatal(err)
	}
	if out, err := s.run("initdb", "-D", s.data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"); err != nil {
		t.Fatalf("pg: initdb: %v\n%s", err, out)
	}
	s.DSN = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.Port)
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(s.log)
			t.Logf("==== postgres (%s) ====\n%s", s.log, b)
		}
		_, _ = s.run("pg_ctl", "-D", s.data, "-m", "immediate", "-w", "stop")
	})
	s.Start(t)
	return s
}

// run runs one of the PostgreSQL binaries, as the server's user.
func (s *Server) run(name string, args ...string) ([]byte, error) {
	cmd := exec.Command(filepath.Join(s.bin, name), args...)
	if s.runAs != nil {
		cmd = exec.Command("runuser", append([]string{"-u", s.runAs.Username, "--", filepath.Join(s.bin, name)}, args...)...)
	}
	cmd.Dir = s.dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "LC_ALL=C"}
	return cmd.CombinedOutput()
}

// Start starts the server and waits until it accepts connections.
func (s *Server) Start(t testing.TB) {
	t.Helper()
	opts := strings.Join([]string{"-p", strconv.Itoa(s.Port), "-k", s.dir, "-c", "listen_addresses=127.0.0.1"}, " ")
	if out, err := s.run("pg_ctl", "-D", s.data, "-l", s.log, "-o", opts, "-w", "-t", "60", "start"); err != nil {
		b, _ := os.ReadFile(s.log)
		t.Fatalf("pg: start: %v\n%s\n%s", err, out, b)
	}
}

// Stop stops the server: mode immediate is a crash (no checkpoint, every
// connection cut), fast a clean shutdown.
func (s *Server) Stop(t testing.TB, mode string) {
	t.Helper()
	if out, err := s.run("pg_ctl", "-D", s.data, "-m", mode, "-w", "stop"); err != nil {
		t.Fatalf("pg: stop -m %s: %v\n%s", mode, err, out)
	}
}
