package ledger

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"
)

// Summary is one scenario's figures, for the test log and RELIABILITY.md.
type Summary struct {
	Scenario string `json:"scenario"`
	// Load describes the deliveries (how many, how fast, which kinds).
	Load string `json:"load"`
	// Faults lists what was injected, in order.
	Faults []string `json:"faults"`

	Deliveries int            `json:"deliveries"`
	Events     int            `json:"events"`
	Attempts   int            `json:"attempts"`
	Answers    map[string]int `json:"answers"`
	NoAnswer   map[string]int `json:"no_answer,omitempty"`

	Stored           int `json:"stored"`
	StoredDuplicates int `json:"stored_duplicates"`
	StoredMissing    int `json:"stored_missing"`
	Replays          int `json:"replays"`

	Effects         int            `json:"effects"`
	EffectsMissing  int            `json:"effects_missing"`
	Writes          int            `json:"writes"`
	WriteViolations int            `json:"write_violations"`
	Outcomes        map[string]int `json:"outcomes"`
	OutcomesMissing int            `json:"outcomes_missing"`

	DeadLetters map[string]int `json:"dead_letters,omitempty"`
	Replayed    int            `json:"replayed,omitempty"`

	EventLogRows       int `json:"eventlog_rows"`
	EventLogMissing    int `json:"eventlog_missing"`
	EventLogDuplicates int `json:"eventlog_duplicates"`

	// Converged is the time from the end of the last fault (or of the
	// load, whichever is later) to every effect in place and recorded.
	Converged time.Duration `json:"converged_ns"`
	Wall      time.Duration `json:"wall_ns"`
	Passed    bool          `json:"passed"`
	// Notes carry scenario-specific figures (exit codes, 503 windows…).
	Notes []string `json:"notes,omitempty"`
}

// Lines formats the summary for the test log.
func (s Summary) Lines() string {
	var b strings.Builder
	fmt.Fprintf(&b, "scenario  %s\n", s.Scenario)
	fmt.Fprintf(&b, "load      %s\n", s.Load)
	fmt.Fprintf(&b, "faults    %s\n", strings.Join(s.Faults, "; "))
	fmt.Fprintf(&b, "requests  %d deliveries, %d events, %d attempts; answers %s", s.Deliveries, s.Events, s.Attempts, counts(s.Answers))
	if len(s.NoAnswer) > 0 {
		fmt.Fprintf(&b, "; no answer %s", counts(s.NoAnswer))
	}
	fmt.Fprintf(&b, "\nstream    %d stored (%d replays), %d missing, %d duplicates\n", s.Stored, s.Replays, s.StoredMissing, s.StoredDuplicates)
	fmt.Fprintf(&b, "effects   %d checked, %d missing; %d provider writes, %d not exactly once\n", s.Effects, s.EffectsMissing, s.Writes, s.WriteViolations)
	fmt.Fprintf(&b, "outcomes  %s; %d event→provider pairs without one\n", counts(s.Outcomes), s.OutcomesMissing)
	fmt.Fprintf(&b, "dlq       %s; %d replayed\n", counts(s.DeadLetters), s.Replayed)
	fmt.Fprintf(&b, "eventlog  %d rows, %d missing, %d duplicated\n", s.EventLogRows, s.EventLogMissing, s.EventLogDuplicates)
	fmt.Fprintf(&b, "time      converged %s after the last fault; wall %s\n", s.Converged.Round(10*time.Millisecond), s.Wall.Round(100*time.Millisecond))
	for _, n := range s.Notes {
		fmt.Fprintf(&b, "note      %s\n", n)
	}
	fmt.Fprintf(&b, "result    %s", map[bool]string{true: "PASS", false: "FAIL"}[s.Passed])
	return b.String()
}

func counts(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

// Append adds the summary as one JSON line to path (the report `make
// faults` collects); an empty path does nothing.
func (s Summary) Append(path string) error {
	if path == "" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	_, err = f.Write(append(b, '\n'))
	return err
}
