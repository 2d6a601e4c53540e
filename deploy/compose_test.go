package deploy_test

import (
	"context"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"sigs.k8s.io/yaml"

	"github.com/idsync/idsync/deploy/internal/deploytest"
)

// composeEnv is the .env of the tests: every variable docker-compose.yml
// interpolates, each with a value that names it, so that a test can tell
// which secret reached which container.
func composeEnv(t *testing.T, root string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, m := range regexp.MustCompile(`\$\{([A-Z0-9_]+)`).FindAllStringSubmatch(string(data), -1) {
		env[m[1]] = "v" + strings.ToLower(strings.ReplaceAll(m[1], "_", ""))
	}
	env["IDSYNC_LOG_LEVEL"] = "info"
	env["IDSYNC_REMOVAL_THRESHOLD"] = "25"
	env["IDSYNC_DRY_RUN"] = "false"
	env["IDSYNC_OKTA_DEACTIVATE_DELETES"] = "false"
	env["IDSYNC_EVENTLOG_RETENTION"] = "8760h"
	env["IDSYNC_GITHUB_API_URL"] = "https://api.github.com/"
	return env
}

func loadCompose(t *testing.T, root string, env map[string]string) (*types.Project, error) {
	t.Helper()
	list := make([]string, 0, len(env))
	for k, v := range env {
		list = append(list, k+"="+v)
	}
	opts, err := cli.NewProjectOptions([]string{filepath.Join(root, "docker-compose.yml")},
		cli.WithWorkingDirectory(root), cli.WithEnv(list), cli.WithName("idsync"))
	if err != nil {
		t.Fatal(err)
	}
	return opts.LoadProject(context.Background())
}

// idsyncContainers are the services built from the Dockerfile, with the
// program each runs.
func idsyncContainers(t *testing.T, p *types.Project) map[string]deploytest.Service {
	t.Helper()
	out := map[string]deploytest.Service{}
	for name, s := range p.Services {
		if s.Build == nil {
			continue
		}
		prog := deref(s.Build.Args["SERVICE"])
		if slices.Contains(s.Entrypoint, "/usr/local/bin/idsync-provision") {
			prog = deploytest.Provision
		}
		svc, ok := deploytest.Lookup(prog)
		if !ok {
			t.Fatalf("compose service %s runs %q, which is no idsync service", name, prog)
		}
		out[name] = svc
	}
	return out
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func TestComposeFile(t *testing.T) {
	t.Parallel()
	root := deploytest.RepoRoot(t)
	env := composeEnv(t, root)
	p, err := loadCompose(t, root, env)
	if err != nil {
		t.Fatalf("docker-compose.yml does not load: %v", err)
	}
	containers := idsyncContainers(t, p)
	dockerfile, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	accounts, err := os.ReadFile(filepath.Join(root, "deploy", "nats", "accounts.conf"))
	if err != nil {
		t.Fatalf("deploy/nats/accounts.conf: %v", err)
	}
	natsUsers := deploytest.NATSUsers(string(accounts))
	natsNodes := natsNodes(t, root, p)

	t.Run("every service runs in its own container", func(t *testing.T) {
		want := []string{"gateway", "okta-sync", "gitlab-sync", "github-sync", "console-sync", "eventlog", "okta-backfill", deploytest.Provision}
		var got []string
		for _, s := range containers {
			if !slices.Contains(got, s.Name) {
				got = append(got, s.Name)
			}
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("programs run = %v, want %v", got, want)
		}
	})

	t.Run("builds", func(t *testing.T) {
		for name, s := range p.Services {
			if s.Build == nil {
				continue
			}
			df := filepath.Join(s.Build.Context, s.Build.Dockerfile)
			if _, err := os.Stat(df); err != nil {
				t.Errorf("%s: Dockerfile %s: %v", name, df, err)
			}
			svc := deref(s.Build.Args["SERVICE"])
			if !deploytest.HasCmd(root, svc) {
				t.Errorf("%s: build arg SERVICE=%q has no services/%[2]s/cmd/%[2]s", name, svc)
			}
		}
		for _, want := range []string{"ARG SERVICE", "CGO_ENABLED=0", "-trimpath", "pkg/metrics.Version=", "USER 65532", "EXPOSE 8080",
			"/out/healthcheck ./deploy/cmd/healthcheck", "/out/idsync-provision ./deploy/cmd/provision"} {
			if !strings.Contains(string(dockerfile), want) {
				t.Errorf("Dockerfile lacks %q", want)
			}
		}
	})

	t.Run("mounted paths exist", func(t *testing.T) {
		for name, s := range p.Services {
			for _, v := range s.Volumes {
				if v.Type != types.VolumeTypeBind {
					continue
				}
				if !strings.HasPrefix(v.Source, root) {
					t.Errorf("%s mounts %s, outside the repository", name, v.Source)
				}
				if _, err := os.Stat(v.Source); err != nil {
					t.Errorf("%s mounts %s: %v", name, v.Source, err)
				}
			}
		}
	})

	t.Run("environment variables are read by the service", func(t *testing.T) {
		for name, svc := range containers {
			known, err := svc.Env(nil)
			if err != nil {
				t.Fatal(err)
			}
			for k := range p.Services[name].Environment {
				if !known[k] {
					t.Errorf("%s (%s) is given %s, which it does not read", name, svc.Name, k)
				}
			}
		}
	})

	t.Run("secrets come from the env file", func(t *testing.T) {
		for name, svc := range containers {
			secrets, err := svc.Secrets()
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range p.Services[name].Environment {
				if secrets[k] && deref(v) != "" && !strings.Contains(deref(v), "v"+"idsync") {
					t.Errorf("%s: secret %s has an inline value", name, k)
				}
			}
		}
		// Without a required secret compose refuses to start.
		for _, missing := range []string{"IDSYNC_NATS_GATEWAY_PASSWORD", "IDSYNC_OKTA_HOOK_SECRET", "IDSYNC_POSTGRES_PASSWORD", "IDSYNC_API_USERS"} {
			e := map[string]string{}
			for k, v := range env {
				if k != missing {
					e[k] = v
				}
			}
			if _, err := loadCompose(t, root, e); err == nil || !strings.Contains(err.Error(), missing) {
				t.Errorf("without %s: err = %v, want one naming it", missing, err)
			}
		}
	})

	t.Run("ports and healthchecks", func(t *testing.T) {
		for name, svc := range containers {
			s := p.Services[name]
			if svc.Name == deploytest.Provision {
				if s.HealthCheck != nil && !s.HealthCheck.Disable {
					t.Errorf("%s is a one-shot and needs no healthcheck", name)
				}
				continue
			}
			_, port, err := net.SplitHostPort(deref(s.Environment["IDSYNC_HTTP_ADDR"]))
			if err != nil || port != "8080" {
				t.Errorf("%s: IDSYNC_HTTP_ADDR %q, want :8080 (the Dockerfile's EXPOSE)", name, deref(s.Environment["IDSYNC_HTTP_ADDR"]))
			}
			if s.HealthCheck == nil || len(s.HealthCheck.Test) != 3 || s.HealthCheck.Test[1] != "/usr/local/bin/healthcheck" {
				t.Errorf("%s: healthcheck %v, want [CMD /usr/local/bin/healthcheck URL]", name, s.HealthCheck)
				continue
			}
			u, err := url.Parse(s.HealthCheck.Test[2])
			if err != nil || u.Port() != port || u.Path != "/readyz" {
				t.Errorf("%s: healthcheck %s, want /readyz on port %s", name, s.HealthCheck.Test[2], port)
			}
			for _, pc := range s.Ports {
				if pc.Target != 8080 {
					t.Errorf("%s publishes container port %d, want 8080", name, pc.Target)
				}
			}
		}
	})

	t.Run("dependencies", func(t *testing.T) {
		for name, s := range p.Services {
			for dep, d := range s.DependsOn {
				target, ok := p.Services[dep]
				if !ok {
					t.Errorf("%s depends on unknown %s", name, dep)
					continue
				}
				if d.Condition == types.ServiceConditionHealthy && (target.HealthCheck == nil || target.HealthCheck.Disable) {
					t.Errorf("%s waits for %s to be healthy, which has no healthcheck", name, dep)
				}
			}
		}
		for name, svc := range containers {
			deps := p.Services[name].DependsOn
			for node := range natsNodes {
				if deps[node].Condition != types.ServiceConditionHealthy {
					t.Errorf("%s does not wait for %s to be healthy", name, node)
				}
			}
			if svc.Name != deploytest.Provision && deps["nats-provision"].Condition != types.ServiceConditionCompletedSuccessfully {
				t.Errorf("%s does not wait for nats-provision to complete", name)
			}
			if svc.Name == "eventlog" && deps["postgres"].Condition != types.ServiceConditionHealthy {
				t.Errorf("eventlog does not wait for postgres to be healthy")
			}
		}
	})

	t.Run("NATS", func(t *testing.T) {
		if len(natsNodes) != 3 {
			t.Errorf("NATS nodes = %v, want 3", natsNodes)
		}
		shared := map[string]string{}
		for name, svc := range containers {
			s := p.Services[name]
			var hosts []string
			for _, raw := range strings.Split(deref(s.Environment["IDSYNC_NATS_URL"]), ",") {
				u, err := url.Parse(raw)
				if err != nil || u.Scheme != "nats" {
					t.Errorf("%s: NATS URL %q", name, raw)
					continue
				}
				if natsNodes[u.Hostname()] != u.Port() {
					t.Errorf("%s: NATS URL %s is not a cluster node's client port (%v)", name, raw, natsNodes)
				}
				hosts = append(hosts, u.Hostname())
			}
			if len(hosts) != len(natsNodes) {
				t.Errorf("%s: IDSYNC_NATS_URL names %v, want every node", name, hosts)
			}
			// The stream settings must agree: each service opens the
			// KV buckets (and may manage streams) with them.
			for _, k := range []string{"IDSYNC_NAMESPACE", "IDSYNC_STREAM_REPLICAS", "IDSYNC_STREAM_MAX_AGE", "IDSYNC_STREAM_MAX_BYTES", "IDSYNC_STREAM_DUPLICATE_WINDOW", "IDSYNC_DLQ_MAX_AGE"} {
				v := deref(s.Environment[k])
				if prev, ok := shared[k]; ok && prev != v {
					t.Errorf("%s: %s=%q, another service has %q", name, k, v, prev)
				}
				shared[k] = v
			}
			// Its NATS user exists and its password is that user's.
			user := deref(s.Environment["IDSYNC_NATS_USER"])
			pwVar, ok := natsUsers[user]
			if !ok {
				t.Errorf("%s: NATS user %q is not in deploy/nats/accounts.conf (%v)", name, user, natsUsers)
				continue
			}
			if got := deref(s.Environment["IDSYNC_NATS_PASSWORD"]); got != env[pwVar] {
				t.Errorf("%s: IDSYNC_NATS_PASSWORD is not $%s, user %s's password", name, pwVar, user)
			}
			if svc.Name != deploytest.Provision && deref(s.Environment["IDSYNC_NATS_MANAGE_TOPOLOGY"]) != "false" {
				t.Errorf("%s: manages topology, which its NATS user may not", name)
			}
		}
		if shared["IDSYNC_STREAM_REPLICAS"] != "3" {
			t.Errorf("IDSYNC_STREAM_REPLICAS = %q, want 3 on a 3-node cluster", shared["IDSYNC_STREAM_REPLICAS"])
		}
		// Every NATS node has every password accounts.conf reads.
		for node := range natsNodes {
			for user, v := range natsUsers {
				if deref(p.Services[node].Environment[v]) == "" {
					t.Errorf("%s lacks %s (user %s's password)", node, v, user)
				}
			}
		}
	})

	t.Run("prometheus scrapes every service", func(t *testing.T) {
		data, err := os.ReadFile(filepath.Join(root, "deploy", "prometheus", "prometheus.yml"))
		if err != nil {
			t.Fatal(err)
		}
		var cfg struct {
			RuleFiles     []string `json:"rule_files"`
			ScrapeConfigs []struct {
				JobName       string `json:"job_name"`
				MetricsPath   string `json:"metrics_path"`
				StaticConfigs []struct {
					Targets []string          `json:"targets"`
					Labels  map[string]string `json:"labels"`
				} `json:"static_configs"`
			} `json:"scrape_configs"`
		}
		if err := yaml.Unmarshal(data, &cfg); err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(cfg.RuleFiles, "alerts.yml") {
			t.Errorf("rule_files = %v, want alerts.yml", cfg.RuleFiles)
		}
		scraped := map[string]string{}
		for _, sc := range cfg.ScrapeConfigs {
			for _, st := range sc.StaticConfigs {
				for _, target := range st.Targets {
					host, port, err := net.SplitHostPort(target)
					if err != nil {
						t.Errorf("job %s: target %q", sc.JobName, target)
						continue
					}
					scraped[host] = port
				}
			}
		}
		for name, svc := range containers {
			if svc.Name == deploytest.Provision {
				continue
			}
			if scraped[name] != "8080" {
				t.Errorf("Prometheus does not scrape %s:8080", name)
			}
		}
		exporters := 0
		for name, s := range p.Services {
			if !strings.HasPrefix(s.Image, "natsio/prometheus-nats-exporter:") {
				continue
			}
			exporters++
			if scraped[name] != "7777" {
				t.Errorf("Prometheus does not scrape %s:7777", name)
			}
			args := strings.Join(s.Command, " ")
			for _, flag := range []string{"-jsz=all", "-varz", "-connz", "-port=7777"} {
				if !strings.Contains(args, flag) {
					t.Errorf("%s: lacks %s", name, flag)
				}
			}
			u, err := url.Parse(s.Command[len(s.Command)-1])
			if err != nil || u.Port() != "8222" || natsNodes[u.Hostname()] == "" {
				t.Errorf("%s watches %q, want a node's monitoring port 8222", name, s.Command[len(s.Command)-1])
			}
		}
		if exporters != len(natsNodes) {
			t.Errorf("%d NATS exporters, want one per node (%d)", exporters, len(natsNodes))
		}
		for host := range scraped {
			if _, ok := p.Services[host]; !ok && host != "127.0.0.1" && host != "localhost" {
				t.Errorf("Prometheus scrapes %s, which is no compose service", host)
			}
		}
	})

	t.Run("pinned images", func(t *testing.T) {
		for name, s := range p.Services {
			if s.Build != nil {
				continue
			}
			_, tag, ok := strings.Cut(s.Image, ":")
			if !ok || tag == "latest" || !strings.ContainsAny(tag, "0123456789") {
				t.Errorf("%s: image %q is not pinned to a version", name, s.Image)
			}
		}
	})
}

// natsNodes returns the NATS server services, each with the client port its
// configuration file (the -c argument, under the mounted deploy/nats) listens on.
func natsNodes(t *testing.T, root string, p *types.Project) map[string]string {
	t.Helper()
	out := map[string]string{}
	listen := regexp.MustCompile(`(?m)^listen:\s*\S*:(\d+)\s*$`)
	for name, s := range p.Services {
		if !strings.HasPrefix(s.Image, "nats:") {
			continue
		}
		i := slices.Index(s.Command, "-c")
		if i < 0 || i+1 >= len(s.Command) {
			t.Errorf("%s: no -c <config>", name)
			continue
		}
		inContainer := s.Command[i+1]
		var hostPath string
		for _, v := range s.Volumes {
			if v.Type == types.VolumeTypeBind && strings.HasPrefix(inContainer, v.Target+"/") {
				hostPath = filepath.Join(v.Source, strings.TrimPrefix(inContainer, v.Target+"/"))
			}
		}
		data, err := os.ReadFile(hostPath)
		if err != nil {
			t.Errorf("%s: config %s (host %q): %v", name, inContainer, hostPath, err)
			continue
		}
		m := listen.FindStringSubmatch(string(data))
		if m == nil {
			t.Errorf("%s: %s has no listen port", name, hostPath)
			continue
		}
		if !strings.Contains(string(data), "server_name: "+name) {
			t.Errorf("%s: %s is another node's configuration", name, hostPath)
		}
		out[name] = m[1]
	}
	return out
}
