package faults

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/idsync/idsync/faults/internal/proc"
)

// spawn starts the next incarnation of a service (name may carry a
// replica suffix); it does not wait for it.
func (s *system) spawn(name string, env map[string]string) *proc.Proc {
	s.runs[name]++
	return proc.Start(s.t, proc.Spec{Name: fmt.Sprintf("%s-%d", name, s.runs[name]), Bin: bins[baseName(name)], Env: env, Dir: s.dir})
}

// baseName strips a replica suffix (gitlab-sync#2 → gitlab-sync).
func baseName(name string) string {
	for i := range name {
		if name[i] == '#' {
			return name[:i]
		}
	}
	return name
}

// spawnGateway starts the gateway on its fixed port (senders come back to
// it after a restart).
func (s *system) spawnGateway() *proc.Proc {
	s.gateway = s.spawn("gateway", s.env(map[string]string{
		"IDSYNC_HTTP_ADDR": "127.0.0.1:" + strconv.Itoa(s.gwPort), "IDSYNC_OKTA_HOOK_SECRET": oktaSecret,
		"IDSYNC_CONSOLE_WEBHOOK_SECRET": consoleSecret, "IDSYNC_RETRY_AFTER": "1s",
	}))
	return s.gateway
}

// consumerEnv: short redelivery and backoff so that a crash or an outage
// resolves in seconds, and no removal threshold (the load removes hundreds
// of people on purpose).
func (s *system) consumerEnv() map[string]string {
	env := map[string]string{
		"IDSYNC_CONSUMER_ACK_WAIT": "3s", "IDSYNC_CONSUMER_BACKOFF_BASE": "100ms", "IDSYNC_CONSUMER_BACKOFF_MAX": "1s",
		"IDSYNC_CONSUMER_WORKERS": "16", "IDSYNC_CONSUMER_MAX_ACK_PENDING": "256", "IDSYNC_REMOVAL_THRESHOLD": "0",
	}
	for k, v := range s.world.Env() {
		env[k] = v
	}
	for k, v := range s.opts.consumer {
		env[k] = v
	}
	return env
}

// spawnConsumer starts replica slot (0, 1, …) of a sync consumer.
func (s *system) spawnConsumer(name string, slot int) *proc.Proc {
	key := name
	if slot > 0 {
		key = fmt.Sprintf("%s#%d", name, slot+1)
	}
	p := s.spawn(key, s.env(s.consumerEnv()))
	for len(s.consumers[name]) <= slot {
		s.consumers[name] = append(s.consumers[name], nil)
	}
	s.consumers[name][slot] = p
	return p
}

// spawnEventlog starts the event log: SQLite in its data directory, or
// the scenario's PostgreSQL.
func (s *system) spawnEventlog() *proc.Proc {
	data := filepath.Join(s.dir, "eventlog")
	if err := os.MkdirAll(data, 0o700); err != nil {
		s.t.Fatal(err)
	}
	env := map[string]string{"IDSYNC_DATA_DIR": data, "IDSYNC_EVENTLOG_BATCH_LINGER": "50ms"}
	if s.opts.eventlogDSN != "" {
		env["IDSYNC_EVENTLOG_DSN"] = s.opts.eventlogDSN
	}
	s.eventlog = s.spawn("eventlog", s.env(env))
	return s.eventlog
}

// waitGateway waits until the gateway is ready (bus connected, streams present).
func (s *system) waitGateway() {
	s.t.Helper()
	s.waitHTTP(s.gateway, "http://127.0.0.1:"+strconv.Itoa(s.gwPort)+"/readyz", time.Minute)
}

// waitConsumer waits until a sync consumer pulls.
func (s *system) waitConsumer(p *proc.Proc) {
	s.t.Helper()
	if err := p.WaitLog(`"consumer running"`, time.Minute); err != nil {
		s.t.Fatal(err)
	}
}

// waitEventlog waits until the event log is ready (bus and store).
func (s *system) waitEventlog() {
	s.t.Helper()
	addr, err := s.eventlog.Listening(time.Minute)
	if err != nil {
		s.t.Fatal(err)
	}
	s.elAddr = addr
	s.waitHTTP(s.eventlog, "http://"+addr+"/readyz", time.Minute)
	if err := s.eventlog.WaitLog(`"batch consumer running"`, time.Minute); err != nil {
		s.t.Fatal(err)
	}
}

// waitHTTP polls url until it answers 200; the process exiting first is
// fatal.
func (s *system) waitHTTP(p *proc.Proc, url string, timeout time.Duration) {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if !p.Running() {
			s.t.Fatalf("%s exited (code %d) before %s answered 200", p.Name, p.ExitCode(), url)
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("%s: %s not 200 within %s", p.Name, url, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startAll starts the gateway, the event log and replicas of every sync
// consumer (after the provision step, if the scenario asks for it), and
// waits until all are ready.
func (s *system) startAll(replicas int) {
	s.t.Helper()
	if s.opts.provision {
		s.provision()
	}
	s.startServices(replicas)
}

// startServices starts the gateway unless it runs, the event log and
// replicas of every sync consumer, and waits until all are ready.
func (s *system) startServices(replicas int) {
	s.t.Helper()
	if s.gateway == nil || !s.gateway.Running() {
		s.spawnGateway()
	}
	s.spawnEventlog()
	var cs []*proc.Proc
	for _, name := range syncServices {
		for slot := range replicas {
			cs = append(cs, s.spawnConsumer(name, slot))
		}
	}
	s.waitGateway()
	s.waitEventlog()
	for _, p := range cs {
		s.waitConsumer(p)
	}
}

// provision runs the provision step to completion and makes the services
// leave the topology to it.
func (s *system) provision() {
	s.t.Helper()
	p := s.spawn("provision", s.env())
	if code, err := p.Wait(5 * time.Minute); err != nil || code != 0 {
		s.t.Fatalf("provision: exit %d %v", code, err)
	}
	if s.opts.env == nil {
		s.opts.env = map[string]string{}
	}
	s.opts.env["IDSYNC_NATS_MANAGE_TOPOLOGY"] = "false"
}

// all lists the running service processes.
func (s *system) all() []*proc.Proc {
	out := []*proc.Proc{s.gateway, s.eventlog}
	for _, name := range syncServices {
		out = append(out, s.consumers[name]...)
	}
	return out
}

// term sends SIGTERM and returns the exit code.
func (s *system) term(p *proc.Proc) int {
	s.t.Helper()
	if err := p.Signal(syscall.SIGTERM); err != nil {
		s.t.Fatal(err)
	}
	code, err := p.Wait(time.Minute)
	if err != nil {
		s.t.Fatal(err)
	}
	return code
}
