package harness

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/idsync/idsync/bench/jsprobe"
	"github.com/idsync/idsync/bench/natsd"
	"github.com/idsync/idsync/bench/report"
)

// header describes the machine, the toolchain and the invocation.
func header(ctx context.Context, cfg Config, args []string) report.Header {
	h := report.Header{
		Date: time.Now(), Cores: runtime.NumCPU(), CPUModel: cpuModel(), Memory: memory(), Kernel: kernel(),
		GoVersion: runtime.Version(), NATSVersion: natsd.Version + " (embedded in `idsync-bench nats`)",
		Commit: commit(ctx, cfg.Repo), Command: command(args), Runs: cfg.Runs, Duration: cfg.Duration, Warmup: cfg.Warmup,
		ProcessNote: "three child processes on loopback — the NATS server (JetStream file store in a temporary directory, default `sync_interval`), the gateway and the naive relay; the load generator and the raw probes run in the harness process, all on the same cores",
		StreamNote: fmt.Sprintf("the gateway's events stream and the probes' and relay's copy `%s` both come from pkg/bus's definition: file storage, %d replica, limits retention, DiscardNew, MaxAge %dh, MaxBytes 8 GiB, duplicate window %dh; both purged before every scenario",
			jsprobe.Stream(streams).Name, streams.Replicas, int(streams.MaxAge.Hours()), int(streams.Duplicates.Hours())),
	}
	if cfg.Only[GroupGateway] || cfg.Only[GroupSizes] {
		how := "built with `go build ./services/gateway/cmd/gateway`"
		switch cfg.GatewayBin {
		case "self":
			how = "linked into idsync-bench (`idsync-bench gateway`, the same gateway.Run)"
		case "":
		default:
			how = "the binary `" + cfg.GatewayBin + "`"
		}
		h.GatewayNote = how + "; default configuration but its two secrets, IDSYNC_MAX_BODY_BYTES = 1MiB (the default, stated) and the stream size above; log level info (no line per accepted request), tracing off"
	}
	if v := goEnv(ctx, cfg.Repo, "GOVERSION"); v != "" && v != h.GoVersion {
		h.GoVersion += " (harness); " + v + " (go build of the gateway)"
	}
	return h
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

func memory() string {
	b, _ := os.ReadFile("/proc/meminfo")
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			if err == nil {
				return fmt.Sprintf("%.1f GiB", kb/(1<<20))
			}
		}
	}
	return "unknown"
}

func kernel() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}

// commit is HEAD's hash, marked when tracked files differ from it.
func commit(ctx context.Context, repo string) string {
	if repo == "" {
		return "unknown"
	}
	out, err := exec.CommandContext(ctx, "git", "-C", repo, "rev-parse", "--short=12", "HEAD").Output()
	if err != nil {
		return "unknown (not a git checkout)"
	}
	c := strings.TrimSpace(string(out))
	if st, err := exec.CommandContext(ctx, "git", "-C", repo, "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(bytes.TrimSpace(st)) > 0 {
		c += " with uncommitted changes"
	}
	return c
}

func goEnv(ctx context.Context, dir, name string) string {
	cmd := exec.CommandContext(ctx, "go", "env", name)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

func command(args []string) string {
	parts := []string{"idsync-bench"}
	for _, a := range args {
		if a == "" || strings.ContainsAny(a, " '\"$*^|&;<>()") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}

// findRepo returns the nearest directory at or above dir holding go.work.
func findRepo(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.work")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", errors.New("no go.work above the working directory: give -repo")
		}
	}
}
