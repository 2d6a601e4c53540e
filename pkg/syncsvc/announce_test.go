package syncsvc_test

import (
	"context"
	"testing"
	"time"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/syncsvc"
	"github.com/idsync/idsync/pkg/syncsvc/synctest"
)

func TestStartAnnouncesTheMode(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name                  string
		configured, dryRun    bool
		wantMode, wantWhyPart string
	}{
		{"live", true, false, syncsvc.ModeLive, ""},
		{"dry-run by configuration", true, true, syncsvc.ModeDryRun, "IDSYNC_DRY_RUN"},
		{"dry-run without credentials", false, false, syncsvc.ModeDryRun, "no gitlab credentials"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			spec := syncsvc.Spec{Name: "gitlab-sync", Provider: events.ProviderGitLab, Configured: tc.configured,
				Build: func(*syncsvc.Deps) (map[string]bus.Handler, error) {
					hs := map[string]bus.Handler{}
					for _, ty := range events.Default().SyncTypesFor(events.ProviderGitLab) {
						hs[ty.Name] = func(context.Context, events.Event) error { return nil }
					}
					return hs, nil
				}}
			before := time.Now().Add(-time.Second)
			h := synctest.Start(t, spec, synctest.Options{DryRun: tc.dryRun})
			got, err := syncsvc.Announcements(context.Background(), h.Conn.JS, h.NS)
			if err != nil {
				t.Fatal(err)
			}
			a, ok := got["gitlab-sync"]
			if !ok || len(got) != 1 {
				t.Fatalf("announcements %+v, want gitlab-sync's", got)
			}
			if a.Mode != tc.wantMode || a.Why != tc.wantWhyPart || a.Provider != events.ProviderGitLab || a.Version == "" || a.Started.Before(before) {
				t.Errorf("announcement %+v, want mode %q why %q", a, tc.wantMode, tc.wantWhyPart)
			}
		})
	}
}

func TestAnnouncementsWithoutBucket(t *testing.T) {
	t.Parallel()
	h := synctest.Start(t, syncsvc.Spec{Name: "okta-sync", Provider: events.ProviderOkta, Configured: true,
		Build: func(*syncsvc.Deps) (map[string]bus.Handler, error) {
			hs := map[string]bus.Handler{}
			for _, ty := range events.Default().SyncTypesFor(events.ProviderOkta) {
				hs[ty.Name] = func(context.Context, events.Event) error { return nil }
			}
			return hs, nil
		}}, synctest.Options{})
	got, err := syncsvc.Announcements(context.Background(), h.Conn.JS, events.Namespace("nobody"))
	if err != nil || len(got) != 0 {
		t.Fatalf("namespace without a bucket: %v %v", got, err)
	}
}
