package world

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestChecksCatchMissingAndRepeatedEffects checks the checks: before
// anything happens every effect is missing; an effect applied twice is
// reported as a write not made exactly once.
func TestChecksCatchMissingAndRepeatedEffects(t *testing.T) {
	t.Parallel()
	w := New(t, t.TempDir(), Mix("t", 3))
	if got, want := len(w.Pending()), w.Effects(); got != want || want != 8 {
		t.Fatalf("pending %d of %d effects before anything ran, want 8 of 8", got, want)
	}
	d := w.Items[0]
	if d.Kind != Deprovision {
		t.Fatalf("first item is %s", d.Kind)
	}
	block := func() {
		req, _ := http.NewRequest(http.MethodPost, fmt.Sprintf("%s/api/v4/users/%d/block", w.Env()["IDSYNC_GITLAB_URL"], d.GitLabID), nil)
		req.Header.Set("PRIVATE-TOKEN", gitlabToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("block: %d", resp.StatusCode)
		}
	}
	block()
	if !w.Reached(d, "gitlab") {
		t.Fatal("a blocked user is not seen as offboarded from GitLab")
	}
	block()
	want := fmt.Sprintf("gitlab POST /api/v4/users/%d/block: 2 successful, want 1", d.GitLabID)
	if v := w.WriteViolations(); !strings.Contains(strings.Join(v, "\n"), want) {
		t.Errorf("violations %v lack %q", v, want)
	}
}
