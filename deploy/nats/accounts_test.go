package natsconf_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/config"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/logging"
)

// TestAccounts boots nats-server with the shipped accounts.conf and, for
// each service's user, runs what the service really does through the code
// it runs (it must succeed with no permissions violation at all), then
// tries what belongs to others (each must be refused by the server).
func TestAccounts(t *testing.T) {
	h := start(t)
	tests := []struct {
		user string
		// does is what the service does; it fails the test on any error.
		does func(t *testing.T, h *harness, c *client)
		// denyCall is a real client call the user must not make; it must fail
		// with a permissions violation on denySubject.
		denyCall    func(ctx context.Context, c *client) error
		denySubject string
		denyPublish []string
		denySub     []string
	}{
		{
			user: "provisioner",
			does: func(t *testing.T, h *harness, c *client) { h.provision(t, c) },
			denyPublish: []string{
				"idsync.events.okta.delete.user", "idsync.outcomes.gitlab.okta.delete.user", "idsync.dlq.gitlab-sync",
				"$JS.API.STREAM.DELETE.IDSYNC_EVENTS", "$JS.API.STREAM.CREATE.OTHER", "$JS.API.STREAM.PURGE.IDSYNC_EVENTS",
				"$JS.API.STREAM.MSG.GET.IDSYNC_EVENTS", "$JS.API.DIRECT.GET.IDSYNC_EVENTS", "$JS.API.STREAM.MSG.DELETE.IDSYNC_EVENTS",
				"$JS.API.CONSUMER.MSG.NEXT.IDSYNC_EVENTS.gitlab-sync", "$KV.IDSYNC_GRANTS.gitlab.x",
			},
			denySub: []string{"idsync.>", ">"},
		},
		{
			user: "gateway",
			does: gatewayDoes,
			denyCall: func(ctx context.Context, c *client) error {
				return c.conn.JS.DeleteStream(ctx, ns.Stream(bus.StreamEvents))
			},
			denySubject: "$JS.API.STREAM.DELETE.IDSYNC_EVENTS",
			denyPublish: []string{
				"idsync.outcomes.gitlab.okta.delete.user", "idsync.dlq.gitlab-sync", "idsync.events.other.x",
				"$JS.API.STREAM.CREATE.OTHER", "$JS.API.STREAM.UPDATE.IDSYNC_EVENTS", "$JS.API.STREAM.MSG.GET.IDSYNC_EVENTS",
				"$JS.API.CONSUMER.CREATE.IDSYNC_EVENTS.gateway", "$JS.API.CONSUMER.MSG.NEXT.IDSYNC_EVENTS.gitlab-sync",
				"$KV.IDSYNC_GUARD.gitlab-sync",
			},
			denySub: []string{"idsync.events.>", ">"},
		},
		{
			user: "publisher",
			does: publisherDoes,
			denyPublish: []string{
				"idsync.outcomes.gitlab.okta.delete.user", "idsync.dlq.gitlab-sync", "$JS.API.STREAM.DELETE.IDSYNC_EVENTS",
				"$JS.API.STREAM.INFO.IDSYNC_DLQ", "$JS.API.DIRECT.GET.IDSYNC_EVENTS", "$JS.API.CONSUMER.CREATE.IDSYNC_EVENTS.mine",
				"$JS.API.CONSUMER.MSG.NEXT.IDSYNC_EVENTS.eventlog",
			},
			denySub: []string{"idsync.events.>"},
		},
		syncCase("okta", "gitlab"),
		syncCase("gitlab", "github"),
		syncCase("github", "console"),
		syncCase("console", "okta"),
		{
			user: "eventlog",
			does: eventlogDoes,
			denyCall: func(ctx context.Context, c *client) error {
				_, err := c.conn.JS.Consumer(ctx, ns.Stream(bus.StreamEvents), "gitlab-sync")
				return err
			},
			denySubject: "$JS.API.CONSUMER.INFO.IDSYNC_EVENTS.gitlab-sync",
			denyPublish: []string{
				"idsync.events.okta.delete.user", "idsync.outcomes.gitlab.okta.delete.user", "idsync.dlq.eventlog",
				"$JS.API.CONSUMER.MSG.NEXT.IDSYNC_EVENTS.gitlab-sync", "$JS.ACK.IDSYNC_EVENTS.gitlab-sync.1.1.1.1.1.0",
				// its own durable, but with other filters, or another durable
				"$JS.API.CONSUMER.CREATE.IDSYNC_EVENTS.eventlog", "$JS.API.CONSUMER.CREATE.IDSYNC_EVENTS.eventlog.idsync.outcomes.x",
				"$JS.API.CONSUMER.CREATE.IDSYNC_EVENTS.other.idsync.events.>",
				"$JS.API.STREAM.MSG.DELETE.IDSYNC_EVENTS", "$JS.API.STREAM.DELETE.IDSYNC_DLQ", "$JS.API.STREAM.CREATE.OTHER",
				"$KV.IDSYNC_GRANTS.gitlab.x",
			},
			denySub: []string{"idsync.>"},
		},
		{
			user: "operator",
			does: operatorDoes,
			denyCall: func(ctx context.Context, c *client) error {
				_, err := c.conn.JS.CreateStream(ctx, jetstream.StreamConfig{Name: "OTHER", Subjects: []string{"other.>"}})
				return err
			},
			denySubject: "$JS.API.STREAM.CREATE.OTHER",
			denyPublish: []string{
				"idsync.outcomes.gitlab.okta.delete.user", "idsync.dlq.gitlab-sync",
				"$JS.API.STREAM.DELETE.IDSYNC_EVENTS", "$JS.API.STREAM.UPDATE.IDSYNC_EVENTS", "$JS.API.STREAM.PURGE.IDSYNC_EVENTS",
				"$JS.API.CONSUMER.CREATE.IDSYNC_EVENTS.gitlab-sync", "$JS.API.CONSUMER.DELETE.IDSYNC_EVENTS.gitlab-sync",
				"$JS.API.CONSUMER.MSG.NEXT.IDSYNC_EVENTS.gitlab-sync", "$JS.ACK.IDSYNC_EVENTS.gitlab-sync.1.1.1.1.1.0",
				"$KV.IDSYNC_GRANTS.gitlab.x", "$KV.IDSYNC_SERVICES.gitlab-sync", "$JS.API.STREAM.UPDATE.KV_IDSYNC_GUARD",
			},
			denySub: []string{"idsync.>"},
		},
		backfillCase(),
	}
	var tested []string
	for _, tc := range tests {
		tested = append(tested, tc.user)
		t.Run(tc.user, func(t *testing.T) {
			c := h.connect(t, tc.user)
			tc.does(t, h, c)
			c.noViolations(t)
			if tc.denyCall != nil {
				ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
				err := tc.denyCall(ctx, c)
				cancel()
				if err == nil {
					t.Errorf("%s: a call on %s succeeded", tc.user, tc.denySubject)
				}
				c.expectDenied(t, "publish", tc.denySubject)
			}
			for _, s := range tc.denyPublish {
				c.denyPublish(t, s)
			}
			for _, s := range tc.denySub {
				c.denySubscribe(t, s)
			}
			// Replies are private: not the shared inbox, not another user's.
			other := "gateway"
			if tc.user == other {
				other = "eventlog"
			}
			c.denySubscribe(t, "_INBOX.>")
			c.denySubscribe(t, bus.InboxPrefix(other)+".>")
		})
	}
	if !slices.Equal(tested, users) {
		t.Errorf("tested users %v, accounts.conf has %v", tested, users)
	}
}

// TestUnknownUsers: without a known user and its password there is no
// connection at all.
func TestUnknownUsers(t *testing.T) {
	h := start(t)
	for _, tc := range []struct{ user, password string }{
		{"gateway", "wrong"},
		{"nobody", h.passwords["gateway"]},
		{"", ""},
	} {
		cfg := bus.ConnConfig{URL: h.srv.ClientURL(), User: tc.user}
		if tc.password != "" {
			cfg.Password = config.Secret(tc.password)
		}
		conn, err := bus.Connect(cfg, "test", logging.Discard(), prometheus.NewRegistry())
		if err != nil {
			t.Fatal(err)
		}
		// The server's answer to the connect attempt, not a pause, decides.
		for deadline := time.Now().Add(5 * time.Second); !isAuthError(conn.NC.LastError()); time.Sleep(10 * time.Millisecond) {
			if conn.NC.IsConnected() {
				t.Fatalf("user %q with password %q connected", tc.user, tc.password)
			}
			if time.Now().After(deadline) {
				t.Fatalf("user %q: no authorization error (last error %v)", tc.user, conn.NC.LastError())
			}
		}
		if conn.NC.IsConnected() {
			t.Errorf("user %q with password %q connected", tc.user, tc.password)
		}
		conn.NC.Close()
	}
}

// publishEvents stores evs on the events stream through bus.Publisher, as
// the gateway, idsync send and other publishers do.
func publishEvents(t *testing.T, c *client, evs ...events.Event) {
	t.Helper()
	pub := bus.NewPublisher(c.conn, ns.Stream(bus.StreamEvents), 5*time.Second, prometheus.NewRegistry())
	for _, ev := range evs {
		m, err := events.Encode(ns, ev)
		if err != nil {
			t.Fatal(err)
		}
		ack, err := pub.Publish(context.Background(), m)
		if err != nil {
			t.Fatalf("%s: publish %s: %v", c.user, m.Subject, err)
		}
		if ack.Sequence == 0 {
			t.Fatalf("%s: publish %s: no sequence", c.user, m.Subject)
		}
	}
}

func gatewayDoes(t *testing.T, _ *harness, c *client) {
	publishEvents(t, c,
		eventFor(t, events.OktaDeleteUser, "gw-1"),
		eventFor(t, events.ConsoleUpdateUserPermission, "gw-2"),
		eventFor(t, events.OktaVerifyEmail, "gw-3"),
	)
	// Readiness.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := bus.StreamsPresent(ctx, c.conn.JS, ns); err != nil {
		t.Fatal(err)
	}
}

func publisherDoes(t *testing.T, _ *harness, c *client) {
	publishEvents(t, c, eventFor(t, "console.tag_created", "pub-1"))
}

// eventFor builds an event of the catalog type name; the payload is left
// empty: only where it goes matters here.
func eventFor(t *testing.T, name, id string) events.Event {
	t.Helper()
	typ, ok := events.Default().Lookup(name)
	if !ok {
		t.Fatalf("no event type %s", name)
	}
	return events.Event{
		ID: id, Type: typ, Source: "urn:idsync:test", Subject: "00u" + id, Time: time.Now(),
		Payload: typ.Payload.New().Interface(),
	}
}

// isAuthError reports the server's refusal of a connection's credentials.
func isAuthError(err error) bool {
	return err != nil && (errors.Is(err, nats.ErrAuthorization) || strings.Contains(strings.ToLower(err.Error()), "authorization violation"))
}
