package idsync

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/services/gateway"
)

// banner is what the all-in-one prints on stdout once it is ready: where to
// send webhooks, the secrets it generated (the operator must copy them into
// Okta and the Console), and how to watch the bus.
type banner struct {
	dataDir   string
	httpURL   string
	natsURL   string
	natsNote  string
	external  bool
	stream    string
	gen       generated
	hook      gateway.HookConfig
	readyIn   time.Duration
	consumers []consumerMode
	demo      map[string]string
	eventlog  string
	backfill  string
}

func (b banner) print(w io.Writer) {
	var s strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&s, format+"\n", a...) }
	p("idsync %s — all-in-one, ready in %s", version(), b.readyIn.Round(time.Millisecond))
	p("  data dir      %s", b.dataDir)
	p("  HTTP          %s", b.httpURL)
	p("    Okta event hooks   POST %s/okta/events   (seed endpoints /okta/create/user, /okta/delete/user)", b.httpURL)
	p("    Okta inline hook   POST %s/okta/verify/email", b.httpURL)
	p("    Console webhooks   POST %s/console/events   (seed endpoint /console/update/user/permissions)", b.httpURL)
	p("    health, metrics    %s/healthz  %s/readyz  %s/metrics", b.httpURL, b.httpURL, b.httpURL)
	p("    events API         GET  %s/api/events?userId=…   catalog GET %s/api/event-types (.csv)", b.httpURL, b.httpURL)
	if b.gen.apiPassword != "" {
		p("    events API user    %s / %s   (generated, kept in %s/%s; Basic auth)", apiAdmin, b.gen.apiPassword, b.dataDir, secretsFile)
	} else {
		p("    events API users   from IDSYNC_API_USERS")
	}
	p("  event log     %s", b.eventlog)
	if b.backfill != "" {
		p("  okta backfill %s", b.backfill)
	}
	ns := events.Namespace(b.stream)
	switch {
	case b.external:
		p("  NATS          %s (stream %s)", redact(b.natsURL), ns.Stream(bus.StreamEvents))
	case b.natsURL != "":
		p("  NATS          embedded, %s (stream %s); e.g. nats -s %s stream view %s", b.natsURL, ns.Stream(bus.StreamEvents), b.natsURL, ns.Stream(bus.StreamEvents))
	default:
		p("  NATS          embedded, in-process only (stream %s)", ns.Stream(bus.StreamEvents))
	}
	if b.natsNote != "" {
		p("  note: %s", b.natsNote)
	}
	secret := func(name, env string, gen bool, header string) {
		if gen {
			p("  %-15s %s   (generated, kept in %s/%s; send it %s)", name, firstSecret(b, env), b.dataDir, secretsFile, header)
		} else {
			p("  %-15s from %s", name, env)
		}
	}
	secret("Okta secret", "IDSYNC_OKTA_HOOK_SECRET", b.gen.okta, "as the hooks' "+b.hook.OktaAuthHeader+" header value")
	secret("Console secret", "IDSYNC_CONSOLE_WEBHOOK_SECRET", b.gen.console, "as the Console webhook secret")
	if len(b.hook.AllowedDomains) == 0 {
		p("  registration  no IDSYNC_ALLOWED_EMAIL_DOMAINS: /okta/verify/email denies every registration")
	} else {
		p("  registration  allowed email domains: %s", strings.Join(b.hook.AllowedDomains, ", "))
	}
	if b.demo != nil {
		p("  demo          providers are in-process fakes (company acme, project payments; alice, bob, carol @example.com):")
		for _, name := range []string{"console", "okta", "gitlab", "github"} {
			p("    %-8s %s", name, b.demo[name])
		}
	}
	for i, c := range b.consumers {
		label := ""
		if i == 0 {
			label = "sync"
		}
		mode := "live"
		if c.dryRun {
			mode = "dry-run (" + c.why + "): plans are recorded, nothing is written"
		}
		p("  %-15s %-13s %s", label, c.name, mode)
	}
	_, _ = io.WriteString(w, s.String())
}

func firstSecret(b banner, env string) string {
	if env == "IDSYNC_OKTA_HOOK_SECRET" {
		return b.hook.OktaSecrets[0].Reveal()
	}
	return b.hook.ConsoleSecrets[0].Reveal()
}

// redact drops credentials from a URL list before printing it.
func redact(u string) string {
	if at := strings.LastIndex(u, "@"); at >= 0 {
		if i := strings.Index(u, "://"); i >= 0 && i < at {
			return u[:i+3] + "[redacted]" + u[at:]
		}
	}
	return u
}
