package idsync_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"

	"github.com/idsync/idsync/pkg/consolehook"
	"github.com/idsync/idsync/pkg/testdata"
)

// The operations kit lives in deploy/: Grafana dashboards and provisioning,
// Prometheus alert rules and the runbook they point to.
const (
	dashboardsDir = "../../deploy/grafana/dashboards"
	provisionDir  = "../../deploy/grafana/provisioning"
	alertsFile    = "../../deploy/prometheus/alerts.yml"
	runbookFile   = "../../deploy/RUNBOOK.md"
)

// natsExporterMetrics are the only metrics not exported by idsync that the
// dashboards and alerts may use: the official NATS Prometheus exporter's
// (run with -varz -jsz=all against the server's monitoring port). They are
// checked against this list, not against a scrape, since the exporter is
// not part of the process under test.
var natsExporterMetrics = map[string]bool{
	"gnatsd_varz_connections":              true,
	"gnatsd_varz_slow_consumers":           true,
	"gnatsd_varz_mem":                      true,
	"jetstream_server_total_streams":       true,
	"jetstream_server_total_consumers":     true,
	"jetstream_server_total_message_bytes": true,
	"jetstream_server_max_storage":         true,
}

// query is one PromQL expression of the operations kit and where it is.
type query struct{ where, expr string }

// TestDashboardsAndAlertsUseExportedMetrics runs the all-in-one in demo
// mode, drives deliveries through every path a panel or an alert looks at
// (a deprovisioning that reaches the provider fakes, a Console grant that
// reaches Okta, refused and ignored requests, the inline hook, a poison
// message that is dead-lettered), scrapes /metrics and requires every idsync
// metric any dashboard panel or alert rule queries to be in the scrape.
func TestDashboardsAndAlertsUseExportedMetrics(t *testing.T) {
	queries := append(dashboardQueries(t), alertQueries(t)...)
	if len(queries) == 0 {
		t.Fatal("no dashboard or alert queries found")
	}
	exported, families := scrapeDrivenDemo(t)
	t.Run("README metrics table", func(t *testing.T) { readmeDocumentsMetrics(t, families) })
	for _, q := range queries {
		t.Run(q.where, func(t *testing.T) {
			names, err := metricNames(q.expr)
			if err != nil {
				t.Fatalf("%s: %v\nexpr: %s", q.where, err, q.expr)
			}
			if len(names) == 0 {
				t.Errorf("%s: queries no metric: %s", q.where, q.expr)
			}
			for _, n := range names {
				switch {
				case strings.HasPrefix(n, "idsync_"):
					if !exported[n] {
						t.Errorf("%s: %s is not exported by the all-in-one (expr %s)", q.where, n, q.expr)
					}
				case !natsExporterMetrics[n]:
					t.Errorf("%s: %s is neither an idsync metric nor an allowed NATS exporter metric", q.where, n)
				}
			}
		})
	}
}

// metricNames parses a PromQL expression (after replacing Grafana's
// interval variables) and returns the metric names its selectors use.
func metricNames(expr string) ([]string, error) {
	r := strings.NewReplacer("$__rate_interval", "5m", "${__rate_interval}", "5m", "$__interval", "1m", "${__interval}", "1m", "$__range", "1h", "${__range}", "1h")
	e, err := parser.NewParser(parser.Options{}).ParseExpr(r.Replace(expr))
	if err != nil {
		return nil, err
	}
	var names []string
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		name := vs.Name
		for _, m := range vs.LabelMatchers {
			if m.Name == "__name__" {
				name = m.Value
			}
		}
		if name != "" && !slices.Contains(names, name) {
			names = append(names, name)
		}
		return nil
	})
	return names, nil
}

func TestDashboardMetricNamesParsing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		expr string
		want []string
	}{
		{`sum by (route) (rate(idsync_gateway_requests_total{status=~"5.."}[$__rate_interval]))`, []string{"idsync_gateway_requests_total"}},
		{`histogram_quantile(0.99, sum by (le) (rate(idsync_gateway_request_duration_seconds_bucket[5m])))`, []string{"idsync_gateway_request_duration_seconds_bucket"}},
		{`idsync_consumer_pending_messages{consumer=~"$consumer"} > 0 and delta(idsync_consumer_pending_messages[10m]) > 0`, []string{"idsync_consumer_pending_messages"}},
		{`{__name__="idsync_guard_paused"} == 1`, []string{"idsync_guard_paused"}},
		{`a / on(x) group_left b`, []string{"a", "b"}},
	}
	for _, tc := range tests {
		got, err := metricNames(tc.expr)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("metricNames(%s) = %v, %v; want %v", tc.expr, got, err, tc.want)
		}
	}
	if _, err := metricNames(`rate(idsync_x[5m]`); err == nil {
		t.Error("an unbalanced expression parsed")
	}
}

// scrapeDrivenDemo starts the demo, drives traffic and returns the sample
// names (histograms as _bucket, _sum, _count) and the metric families of
// /metrics.
func scrapeDrivenDemo(t *testing.T) (samples, families map[string]bool) {
	t.Helper()
	p := start(t, map[string]string{
		"IDSYNC_DATA_DIR": t.TempDir(), "IDSYNC_HTTP_ADDR": "127.0.0.1:0", "IDSYNC_NATS_LISTEN": "127.0.0.1:0",
		"IDSYNC_OKTA_HOOK_SECRET": oktaSecret, "IDSYNC_CONSOLE_WEBHOOK_SECRET": consoleSecret, "IDSYNC_DEMO": "true",
		"IDSYNC_CONSUMER_LAG_INTERVAL": "1s",
	})
	waitReady(t, p.httpURL)
	okta := http.Header{"Authorization": {oktaSecret}, "Content-Type": {"application/json"}}

	// A deprovisioning: Console, GitLab and GitHub fakes are called.
	del := []byte(`{"eventType":"com.okta.event_hook","source":"https://example.okta.com/api/v1/eventHooks/who1","eventId":"m-1",
	 "data":{"events":[{"uuid":"metrics-del-bob","published":"2026-11-23T10:00:00.000Z","eventType":"user.lifecycle.delete.initiated",
	  "actor":{"id":"00uadmin","type":"User","alternateId":"admin@example.com","displayName":"Admin"},
	  "target":[{"id":"00ubob","type":"User","alternateId":"bob@example.com","displayName":"Bob"}]}]}}`)
	if st, body := post(t, p.httpURL+"/okta/events", okta, del); st != 200 {
		t.Fatalf("okta hook: %d %s", st, body)
	}
	// A Console grant: okta-sync calls the Okta fake.
	grant := []byte(`{"eventName":"company_user_added","eventTimestamp":1718611200000,
	 "payload":{"userId":"carol","email":"carol@example.com","roleId":"developer","resource":{"companyId":"acme"}}}`)
	if st, body := post(t, p.httpURL+"/console/events", consoleHeader(grant), grant); st != 200 {
		t.Fatalf("console webhook: %d %s", st, body)
	}
	// Refused (bad credentials) and ignored (a create on the delete endpoint).
	if st, _ := post(t, p.httpURL+"/okta/events", http.Header{"Authorization": {"wrong"}, "Content-Type": {"application/json"}}, del); st != 401 {
		t.Fatalf("bad credentials answered %d, want 401", st)
	}
	create := bytes.ReplaceAll(bytes.ReplaceAll(del, []byte("user.lifecycle.delete.initiated"), []byte("user.lifecycle.create")), []byte("metrics-del-bob"), []byte("metrics-create"))
	if st, body := post(t, p.httpURL+"/okta/delete/user", okta, create); st != 200 {
		t.Fatalf("create on the delete endpoint: %d %s", st, body)
	}
	// The registration inline hook.
	if st, body := post(t, p.httpURL+"/okta/verify/email", okta, testdata.Okta("registration-hook-ssr-request")); st != 200 {
		t.Fatalf("inline hook: %d %s", st, body)
	}
	// A poison message straight on the bus: every consumer of the subject
	// dead-letters it.
	nc, err := nats.Connect(p.natsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if err := nc.Publish("idsync.events.okta.delete.user", []byte("not an event")); err != nil {
		t.Fatal(err)
	}
	_ = nc.Flush()

	// Wait until the slowest paths have reported: provider calls of every
	// provider, outcomes, the dead letters counted in the DLQ gauge.
	want := []*regexp.Regexp{
		regexp.MustCompile(`(?m)^idsync_provider_requests_total\{.*provider="okta".*\} [1-9]`),
		regexp.MustCompile(`(?m)^idsync_provider_requests_total\{.*provider="gitlab".*\} [1-9]`),
		regexp.MustCompile(`(?m)^idsync_provider_requests_total\{.*provider="github".*\} [1-9]`),
		regexp.MustCompile(`(?m)^idsync_provider_requests_total\{.*provider="console".*\} [1-9]`),
		regexp.MustCompile(`(?m)^idsync_consumer_dlq_messages\{consumer="gitlab-sync"\} [1-9]`),
		regexp.MustCompile(`(?m)^idsync_consumer_dead_lettered_total\{`),
		regexp.MustCompile(`(?m)^idsync_sync_outcomes_total\{`),
		regexp.MustCompile(`(?m)^idsync_eventlog_records_total\{`),
	}
	var text string
	deadline := time.Now().Add(30 * time.Second)
	for {
		text = scrape(t, p.httpURL+"/metrics")
		missing := slices.DeleteFunc(slices.Clone(want), func(re *regexp.Regexp) bool { return re.MatchString(text) })
		if len(missing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after driving the demo, /metrics still lacks %v", missing)
		}
		time.Sleep(100 * time.Millisecond)
	}
	names, families := map[string]bool{}, map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if f, ok := strings.CutPrefix(line, "# TYPE "); ok {
			families[strings.Fields(f)[0]] = true
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if i := strings.IndexAny(line, "{ "); i > 0 {
			names[line[:i]] = true
		}
	}
	if os.Getenv("IDSYNC_DUMP_METRICS") != "" {
		var all []string
		for n := range names {
			all = append(all, n)
		}
		sort.Strings(all)
		t.Logf("exported:\n%s", strings.Join(all, "\n"))
	}
	return names, families
}

// readmeDocumentsMetrics checks the README's Metrics section against the
// scrape both ways: every idsync family exported is documented, every
// metric documented is exported. A cell may abbreviate names of the same
// row as `…_dropped_total`: the part before the suffix is then a prefix of
// the row's first name.
func readmeDocumentsMetrics(t *testing.T, families map[string]bool) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(raw), "\n## Metrics\n")
	section, _, _ = strings.Cut(section, "\n## ")
	type row struct {
		first string
		short []string
	}
	var rows []row
	documented := map[string]bool{}
	nameRe := regexp.MustCompile("`(idsync_[a-z_]+|…_[a-z_]+)`")
	proseRe := regexp.MustCompile("`(idsync_[a-z_]+)[`{]")
	for line := range strings.SplitSeq(section, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 3 {
			// Prose of the section (build info is described there).
			for _, m := range proseRe.FindAllStringSubmatch(line, -1) {
				documented[m[1]] = true
			}
			continue
		}
		var r row
		for _, m := range nameRe.FindAllStringSubmatch(cells[1], -1) {
			if suffix, ok := strings.CutPrefix(m[1], "…"); ok {
				r.short = append(r.short, suffix)
				continue
			}
			documented[m[1]] = true
			if r.first == "" {
				r.first = m[1]
			}
		}
		rows = append(rows, r)
	}
	if len(documented) < 20 {
		t.Fatalf("the README's Metrics table lists only %d metrics", len(documented))
	}
	for name := range families {
		if !strings.HasPrefix(name, "idsync_") || documented[name] {
			continue
		}
		found := false
		for _, r := range rows {
			for _, suffix := range r.short {
				if prefix, ok := strings.CutSuffix(name, suffix); ok && strings.HasPrefix(r.first, prefix) {
					found = true
				}
			}
		}
		if !found {
			t.Errorf("%s is exported but not in the README's Metrics table", name)
		}
	}
	for name := range documented {
		if !families[name] {
			t.Errorf("the README's Metrics table lists %s, which the all-in-one does not export", name)
		}
	}
}

func consoleHeader(body []byte) http.Header {
	return http.Header{consolehook.HeaderSignature: {consolehook.Sign(body, consoleSecret)}, "Content-Type": {"application/json"}}
}

func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	return string(b)
}

// dashboard mirrors the parts of a Grafana dashboard JSON the tests read.
type dashboard struct {
	UID        string  `json:"uid"`
	Title      string  `json:"title"`
	Panels     []panel `json:"panels"`
	Templating struct {
		List []struct {
			Name       string          `json:"name"`
			Type       string          `json:"type"`
			Query      json.RawMessage `json:"query"`
			Datasource *datasource     `json:"datasource"`
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID         int         `json:"id"`
	Title      string      `json:"title"`
	Type       string      `json:"type"`
	Datasource *datasource `json:"datasource"`
	Targets    []struct {
		RefID      string      `json:"refId"`
		Expr       string      `json:"expr"`
		Datasource *datasource `json:"datasource"`
	} `json:"targets"`
	Panels []panel `json:"panels"` // a collapsed row's panels
}

type datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

func loadDashboards(t *testing.T) map[string]dashboard {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dashboardsDir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no dashboards in %s (%v)", dashboardsDir, err)
	}
	out := map[string]dashboard{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d dashboard
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[filepath.Base(f)] = d
	}
	return out
}

// walkPanels calls f on every panel, the panels of rows included.
func walkPanels(ps []panel, f func(panel)) {
	for _, p := range ps {
		f(p)
		walkPanels(p.Panels, f)
	}
}

var labelValuesRe = regexp.MustCompile(`^label_values\((.*),\s*\w+\)$`)

func dashboardQueries(t *testing.T) []query {
	t.Helper()
	var qs []query
	for file, d := range loadDashboards(t) {
		walkPanels(d.Panels, func(p panel) {
			for _, tg := range p.Targets {
				qs = append(qs, query{where: fmt.Sprintf("%s/%s/%s", file, p.Title, tg.RefID), expr: tg.Expr})
			}
		})
		for _, v := range d.Templating.List {
			if v.Type != "query" {
				continue
			}
			var q string
			if json.Unmarshal(v.Query, &q) != nil {
				var obj struct {
					Query string `json:"query"`
				}
				_ = json.Unmarshal(v.Query, &obj)
				q = obj.Query
			}
			if m := labelValuesRe.FindStringSubmatch(q); m != nil {
				q = m[1]
			}
			qs = append(qs, query{where: fmt.Sprintf("%s/variable %s", file, v.Name), expr: q})
		}
	}
	sort.Slice(qs, func(i, j int) bool { return qs[i].where < qs[j].where })
	return qs
}

// TestDashboardFilesAreWellFormed: unique uids and panel ids, every query
// panel on the provisioned data source by uid, every target with an
// expression.
func TestDashboardFilesAreWellFormed(t *testing.T) {
	t.Parallel()
	uids := map[string]string{}
	want := []string{"idsync-overview", "idsync-consumers", "idsync-providers", "idsync-gateway"}
	for file, d := range loadDashboards(t) {
		t.Run(file, func(t *testing.T) {
			if d.UID == "" || d.Title == "" {
				t.Errorf("uid %q, title %q: both required", d.UID, d.Title)
			}
			if other, dup := uids[d.UID]; dup {
				t.Errorf("uid %s also used by %s", d.UID, other)
			}
			uids[d.UID] = file
			ids := map[int]bool{}
			n := 0
			walkPanels(d.Panels, func(p panel) {
				if ids[p.ID] {
					t.Errorf("panel %q: duplicate id %d", p.Title, p.ID)
				}
				ids[p.ID] = true
				if p.Type == "row" || p.Type == "text" {
					return
				}
				n++
				if p.Datasource == nil || p.Datasource.UID != "prometheus" || p.Datasource.Type != "prometheus" {
					t.Errorf("panel %q: datasource %+v, want the provisioned prometheus uid", p.Title, p.Datasource)
				}
				if len(p.Targets) == 0 {
					t.Errorf("panel %q has no targets", p.Title)
				}
				for _, tg := range p.Targets {
					if strings.TrimSpace(tg.Expr) == "" || tg.RefID == "" {
						t.Errorf("panel %q: target %q without expr or refId", p.Title, tg.RefID)
					}
					if tg.Datasource != nil && tg.Datasource.UID != "prometheus" {
						t.Errorf("panel %q: target datasource %+v", p.Title, tg.Datasource)
					}
				}
			})
			if n == 0 {
				t.Error("no query panels")
			}
		})
	}
	for _, u := range want {
		if _, ok := uids[u]; !ok {
			t.Errorf("no dashboard with uid %s", u)
		}
	}
}

// ruleFile mirrors a Prometheus rule file; decoding is strict, so a
// misspelt key fails.
type ruleFile struct {
	Groups []struct {
		Name     string `yaml:"name"`
		Interval string `yaml:"interval"`
		Rules    []struct {
			Alert       string            `yaml:"alert"`
			Record      string            `yaml:"record"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

func loadRules(t *testing.T) ruleFile {
	t.Helper()
	raw, err := os.ReadFile(alertsFile)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	var rf ruleFile
	if err := dec.Decode(&rf); err != nil {
		t.Fatalf("%s: %v", alertsFile, err)
	}
	return rf
}

func alertQueries(t *testing.T) []query {
	t.Helper()
	var qs []query
	for _, g := range loadRules(t).Groups {
		for _, r := range g.Rules {
			qs = append(qs, query{where: fmt.Sprintf("alerts.yml/%s/%s", g.Name, r.Alert+r.Record), expr: r.Expr})
		}
	}
	return qs
}

var (
	durationRe = regexp.MustCompile(`^[0-9]+(ms|s|m|h|d)$`)
	runbookRe  = regexp.MustCompile(`^RUNBOOK\.md#([a-z0-9-]+)$`)
)

// TestDashboardAlertRulesAreWellFormed: the rule file decodes strictly;
// every alert has an expression that parses, a duration, a severity and a
// runbook annotation pointing to a heading of deploy/RUNBOOK.md.
func TestDashboardAlertRulesAreWellFormed(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(runbookFile)
	if err != nil {
		t.Fatal(err)
	}
	anchors := map[string]bool{}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if strings.HasPrefix(line, "#") {
			anchors[githubAnchor(strings.TrimLeft(line, "# "))] = true
		}
	}
	rf := loadRules(t)
	if len(rf.Groups) == 0 {
		t.Fatal("no rule groups")
	}
	seen := map[string]bool{}
	for _, g := range rf.Groups {
		if g.Name == "" || len(g.Rules) == 0 {
			t.Errorf("group %q: a name and rules are required", g.Name)
		}
		for _, r := range g.Rules {
			t.Run(g.Name+"/"+r.Alert, func(t *testing.T) {
				if r.Alert == "" || r.Record != "" {
					t.Fatalf("only alerting rules belong in alerts.yml (alert %q, record %q)", r.Alert, r.Record)
				}
				if seen[r.Alert] {
					t.Errorf("alert %s defined twice", r.Alert)
				}
				seen[r.Alert] = true
				if _, err := metricNames(r.Expr); err != nil {
					t.Errorf("expr does not parse: %v", err)
				}
				if r.For != "" && !durationRe.MatchString(r.For) {
					t.Errorf("for %q is not a duration", r.For)
				}
				if s := r.Labels["severity"]; s != "critical" && s != "warning" && s != "info" {
					t.Errorf("severity %q, want critical, warning or info", s)
				}
				if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
					t.Error("summary and description annotations are required")
				}
				m := runbookRe.FindStringSubmatch(r.Annotations["runbook"])
				if m == nil {
					t.Fatalf("runbook annotation %q, want RUNBOOK.md#<anchor>", r.Annotations["runbook"])
				}
				if !anchors[m[1]] {
					t.Errorf("runbook anchor #%s is not a heading of %s", m[1], runbookFile)
				}
			})
		}
	}
}

// githubAnchor is the anchor GitHub gives a Markdown heading.
func githubAnchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	return b.String()
}

// TestDashboardProvisioningParses: the data source and dashboard providers
// decode strictly and agree with the dashboards (uid prometheus, the folder
// compose mounts).
func TestDashboardProvisioningParses(t *testing.T) {
	t.Parallel()
	var ds struct {
		APIVersion  int `yaml:"apiVersion"`
		Datasources []struct {
			Name      string         `yaml:"name"`
			Type      string         `yaml:"type"`
			UID       string         `yaml:"uid"`
			Access    string         `yaml:"access"`
			URL       string         `yaml:"url"`
			IsDefault bool           `yaml:"isDefault"`
			Editable  bool           `yaml:"editable"`
			JSONData  map[string]any `yaml:"jsonData"`
		} `yaml:"datasources"`
	}
	var dp struct {
		APIVersion int `yaml:"apiVersion"`
		Providers  []struct {
			Name                  string `yaml:"name"`
			OrgID                 int    `yaml:"orgId"`
			Folder                string `yaml:"folder"`
			Type                  string `yaml:"type"`
			DisableDeletion       bool   `yaml:"disableDeletion"`
			AllowUIUpdates        bool   `yaml:"allowUiUpdates"`
			UpdateIntervalSeconds int    `yaml:"updateIntervalSeconds"`
			Options               struct {
				Path                      string `yaml:"path"`
				FoldersFromFilesStructure bool   `yaml:"foldersFromFilesStructure"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	for _, tc := range []struct {
		file string
		into any
	}{
		{"datasources/prometheus.yml", &ds},
		{"dashboards/idsync.yml", &dp},
	} {
		raw, err := os.ReadFile(filepath.Join(provisionDir, tc.file))
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(raw))
		dec.KnownFields(true)
		if err := dec.Decode(tc.into); err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
	}
	if ds.APIVersion != 1 || len(ds.Datasources) != 1 || ds.Datasources[0].UID != "prometheus" || ds.Datasources[0].Type != "prometheus" || ds.Datasources[0].URL != "http://prometheus:9090" {
		t.Errorf("datasource provisioning: %+v, want one prometheus source, uid prometheus, at http://prometheus:9090", ds)
	}
	if dp.APIVersion != 1 || len(dp.Providers) != 1 || dp.Providers[0].Type != "file" || dp.Providers[0].Options.Path != "/var/lib/grafana/dashboards" {
		t.Errorf("dashboard provisioning: %+v, want one file provider reading /var/lib/grafana/dashboards", dp)
	}
}
