package payload_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/idsync/idsync/bench/payload"
	"github.com/idsync/idsync/pkg/consolehook"
)

var secrets = payload.Secrets{Okta: "okta-secret-0123456789", Console: "console-secret-0123456789"}

const id = "r1s2-00000000042" // 16 characters, as the harness makes them

func TestOktaSizes(t *testing.T) {
	t.Parallel()
	for _, size := range []int{1 << 10, 16 << 10, 256 << 10} {
		t.Run(payload.Size(size), func(t *testing.T) {
			t.Parallel()
			d, err := payload.OktaSingle(secrets, size)
			if err != nil {
				t.Fatal(err)
			}
			body := d.Append(nil, id, 0)
			if len(body) != size {
				t.Errorf("body is %d bytes, want %d", len(body), size)
			}
			uuids := oktaUUIDs(t, body)
			if len(uuids) != 1 || uuids[0] != id+"-0" {
				t.Errorf("uuids %v", uuids)
			}
		})
	}
	if _, err := payload.OktaSingle(secrets, 100); err == nil {
		t.Error("a 100-byte delivery: no error")
	}
}

func TestOktaBatchAndSample(t *testing.T) {
	t.Parallel()
	d, err := payload.OktaBatch(secrets, 20)
	if err != nil {
		t.Fatal(err)
	}
	body := d.Append(nil, id, 0)
	uuids := oktaUUIDs(t, body)
	if len(uuids) != 20 || d.Events != 20 || uuids[19] != id+"-19" {
		t.Errorf("%d events (%d declared), last uuid %v", len(uuids), d.Events, uuids[len(uuids)-1])
	}
	whole, err := payload.OktaSingle(secrets, 0)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(whole.Append(nil, id, 0)); n < 2000 {
		t.Errorf("the whole sample is %d bytes, want the untrimmed ~2 KiB", n)
	}
	if h := d.Header(body); h.Get("Authorization") != secrets.Okta {
		t.Errorf("Okta headers %v", h)
	}
}

func oktaUUIDs(t *testing.T, body []byte) []string {
	t.Helper()
	var doc struct {
		EventID string `json:"eventId"`
		Data    struct {
			Events []struct {
				UUID      string `json:"uuid"`
				EventType string `json:"eventType"`
			} `json:"events"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if doc.EventID != id {
		t.Errorf("eventId %q, want %q", doc.EventID, id)
	}
	var out []string
	for _, e := range doc.Data.Events {
		if e.EventType != "user.lifecycle.create" {
			t.Errorf("event type %q", e.EventType)
		}
		out = append(out, e.UUID)
	}
	return out
}

func TestConsoleEveryType(t *testing.T) {
	t.Parallel()
	names := payload.ConsoleNames()
	if len(names) < 9 {
		t.Fatalf("%d Console types, want every one", len(names))
	}
	for _, name := range names {
		d, err := payload.Console(secrets, name)
		if err != nil {
			t.Fatal(err)
		}
		a, b := d.Append(nil, id, 1700000000001), d.Append(nil, id, 1700000000002)
		if bytes.Equal(a, b) {
			t.Errorf("%s: two timestamps, one body", name)
		}
		var doc struct {
			EventName      string `json:"eventName"`
			EventTimestamp int64  `json:"eventTimestamp"`
		}
		if err := json.Unmarshal(a, &doc); err != nil || doc.EventName != name || doc.EventTimestamp != 1700000000001 {
			t.Errorf("%s: %+v, %v", name, doc, err)
		}
		if got, want := d.Header(a).Get(consolehook.HeaderSignature), consolehook.Sign(a, secrets.Console); got != want {
			t.Errorf("%s: signature %q, want %q", name, got, want)
		}
	}
}

func TestSize(t *testing.T) {
	t.Parallel()
	for n, want := range map[int]string{1024: "1KiB", 256 << 10: "256KiB", 1 << 20: "1MiB", 1000: "1000B"} {
		if got := payload.Size(n); got != want {
			t.Errorf("Size(%d) = %s, want %s", n, got, want)
		}
	}
}
