package config_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/idsync/idsync/pkg/config"
)

// FuzzByteSize: a size is read exactly (its number times its unit), is never
// negative or above 2^62, and what String writes reads back as the same size.
func FuzzByteSize(f *testing.F) {
	for _, s := range []string{"1048576", "64KiB", " 1 MiB ", "4096TiB", "4194305TiB", "-1KiB", "1.5MiB", "9223372036854775807B", "0B", ""} {
		f.Add(s, int64(1<<20))
	}
	f.Add("1B", int64(1<<62))
	f.Fuzz(func(t *testing.T, text string, n int64) {
		var b config.ByteSize
		if err := b.UnmarshalText([]byte(text)); err == nil {
			if b < 0 || b > 1<<62 {
				t.Fatalf("%q read as %d", text, b)
			}
			if want, ok := byteSizeOracle(text); !ok || int64(b) != want {
				t.Fatalf("%q read as %d, want %d (%v)", text, b, want, ok)
			}
			roundTrip(t, b)
		} else if _, ok := byteSizeOracle(text); ok {
			t.Fatalf("%q refused: %v", text, err)
		}
		if n >= 0 && n <= 1<<62 {
			roundTrip(t, config.ByteSize(n))
		}
	})
}

func roundTrip(t *testing.T, b config.ByteSize) {
	t.Helper()
	var back config.ByteSize
	if err := back.UnmarshalText([]byte(b.String())); err != nil || back != b {
		t.Fatalf("%d written as %q reads back as %d (%v)", int64(b), b.String(), int64(back), err)
	}
}

// byteSizeOracle reads a size the plain way: blanks trimmed, an optional
// binary unit (matched as a suffix, longest first), a non-negative decimal.
func byteSizeOracle(text string) (int64, bool) {
	s := strings.TrimSpace(text)
	if s == "" {
		return 0, true
	}
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}} {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = strings.TrimSpace(rest), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, false
	}
	return n * mult, true
}

// FuzzSecretsMatch: Match accepts exactly a candidate equal to one of the
// non-empty secrets (an empty list, or empty secrets, match nothing), and no
// rendering of a Secret or Secrets shows its value.
func FuzzSecretsMatch(f *testing.F) {
	f.Add("current-secret-0123456789", "next-secret-0123456789", "current-secret-0123456789")
	f.Add("", "", "")
	f.Add("a", "", "A")
	f.Add("s3cr3t", "s3cr3t", "s3cr3t\x00")
	f.Fuzz(func(t *testing.T, a, b, candidate string) {
		for _, ss := range []config.Secrets{nil, {config.Secret(a)}, {config.Secret(a), config.Secret(b)}} {
			want := false
			for _, s := range ss {
				want = want || (s != "" && s.Reveal() == candidate)
			}
			if got := ss.Match([]byte(candidate)); got != want {
				t.Fatalf("%d secrets, candidate %q: Match = %v, want %v", len(ss), candidate, got, want)
			}
		}
		checkRedacted(t, config.Secret(a), a != "")
		checkRedacted(t, config.Secrets{config.Secret(a), config.Secret(b)}, true)
	})
}

// checkRedacted renders v every way a configuration gets printed and wants
// "[redacted]" (or nothing, for an empty value) each time.
func checkRedacted(t *testing.T, v any, nonEmpty bool) {
	t.Helper()
	want := ""
	if nonEmpty {
		want = "[redacted]"
	}
	for _, verb := range []string{"%v", "%+v", "%s"} {
		if got := fmt.Sprintf(verb, v); got != want {
			t.Fatalf("%s of %T: %q, want %q", verb, v, got, want)
		}
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("m", "v", v)
	var line struct{ V string }
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil || line.V != want {
		t.Fatalf("slog of %T: %s", v, buf.Bytes())
	}
}

type fuzzConfig struct {
	D   time.Duration   `env:"IDSYNC_FZ_D" default:"5s"`
	I   int64           `env:"IDSYNC_FZ_I" default:"3"`
	B   bool            `env:"IDSYNC_FZ_B" default:"true"`
	L   []string        `env:"IDSYNC_FZ_L" default:"a,b"`
	Sz  config.ByteSize `env:"IDSYNC_FZ_SZ" default:"1MiB"`
	Sec config.Secret   `env:"IDSYNC_FZ_SEC"`
	Ss  config.Secrets  `env:"IDSYNC_FZ_SS"`
}

// FuzzLoad: every environment value is read as its type reads it (or the
// default when empty), a bad one is an error naming its variable, and the
// error never depends on a secret's value (so it cannot leak it).
func FuzzLoad(f *testing.F) {
	f.Add("1m30s", "-3", "1", " a, b ,,c ", "64KiB", "hunter2", "new, old")
	f.Add("5", "1.5", "yes", ",,,", "1XB", "", ",")
	f.Add("", "", "", "", "", "s", "")
	f.Add("-9223372036854775808ns", "9223372036854775808", "FALSE", "\x00", "4194304TiB", "\xff", " \t ")
	f.Fuzz(func(t *testing.T, d, i, b, l, sz, sec, ss string) {
		env := map[string]string{"IDSYNC_FZ_D": d, "IDSYNC_FZ_I": i, "IDSYNC_FZ_B": b, "IDSYNC_FZ_L": l, "IDSYNC_FZ_SZ": sz, "IDSYNC_FZ_SEC": sec, "IDSYNC_FZ_SS": ss}
		var cfg fuzzConfig
		_, err := config.Load(&cfg, "fuzz", nil, func(k string) string { return env[k] }, io.Discard)

		or := func(v, def string) string {
			if v != "" {
				return v
			}
			return def
		}
		bad := map[string]bool{}
		if want, perr := time.ParseDuration(or(d, "5s")); perr != nil {
			bad["IDSYNC_FZ_D"] = true
		} else if cfg.D != want {
			t.Fatalf("D = %s, want %s", cfg.D, want)
		}
		if want, perr := strconv.ParseInt(or(i, "3"), 10, 64); perr != nil {
			bad["IDSYNC_FZ_I"] = true
		} else if cfg.I != want {
			t.Fatalf("I = %d, want %d", cfg.I, want)
		}
		if want, perr := strconv.ParseBool(or(b, "true")); perr != nil {
			bad["IDSYNC_FZ_B"] = true
		} else if cfg.B != want {
			t.Fatalf("B = %v, want %v", cfg.B, want)
		}
		if want, ok := byteSizeOracle(or(sz, "1MiB")); !ok {
			bad["IDSYNC_FZ_SZ"] = true
		} else if int64(cfg.Sz) != want {
			t.Fatalf("Sz = %d, want %d", cfg.Sz, want)
		}
		if got, want := cfg.L, listOracle(or(l, "a,b")); !slices.Equal(got, want) {
			t.Fatalf("L = %q, want %q", got, want)
		}
		var gotSs []string
		for _, s := range cfg.Ss {
			gotSs = append(gotSs, s.Reveal())
		}
		if want := listOracle(ss); !slices.Equal(gotSs, want) {
			t.Fatalf("Ss = %q, want %q", gotSs, want)
		}
		if cfg.Sec.Reveal() != sec {
			t.Fatalf("Sec = %q, want %q", cfg.Sec.Reveal(), sec)
		}
		if (err != nil) != (len(bad) > 0) {
			t.Fatalf("error %v, want one for %v", err, bad)
		}
		for v := range bad {
			if !strings.Contains(err.Error(), v) {
				t.Fatalf("error %q does not name %s", err, v)
			}
		}
		// The same load with other secrets fails the same way, word for word.
		env["IDSYNC_FZ_SEC"], env["IDSYNC_FZ_SS"] = "other", "other,values"
		var again fuzzConfig
		_, err2 := config.Load(&again, "fuzz", nil, func(k string) string { return env[k] }, io.Discard)
		if fmt.Sprint(err) != fmt.Sprint(err2) {
			t.Fatalf("the error depends on the secrets:\n%v\n%v", err, err2)
		}
	})
}

func listOracle(raw string) []string {
	var out []string
	for p := range strings.SplitSeq(raw, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
