package eventlog

import (
	"encoding/base64"
	"encoding/hex"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/idsync/idsync/pkg/config"
)

// FuzzParseDSN: IDSYNC_EVENTLOG_DSN is read as the PostgreSQL URL it is,
// a SQLite path, or refused; a refusal never repeats the URL's password,
// however malformed the rest of the URL, and neither does the description
// the start-up log prints.
func FuzzParseDSN(f *testing.F) {
	for _, rest := range []string{"db.internal:5432/idsync?sslmode=require", "db:99999/x", "[::1/x", "db:5432/x?sslmode=bogus", "@db/x", "db/x?password=again", "h%zz/x", "db:5432/x?connect_timeout=-1"} {
		f.Add(uint8(0), "idsync", []byte("s3cr3t-pw"), rest)
	}
	f.Add(uint8(1), "", []byte{}, "/var/lib/idsync/events.db")
	f.Add(uint8(1), "", []byte{}, "a?b")
	f.Add(uint8(2), "", []byte{}, "")
	f.Add(uint8(3), "idsync", []byte("p-ssw0rd-secret"), "db host/x")
	f.Add(uint8(6), "id@sync", []byte("p-ssw0rd-secret"), "db:5432/x?sslmode=bogus")
	f.Fuzz(func(t *testing.T, scheme uint8, user string, pw []byte, rest string) {
		// A password an operator could have: 8 or more hex digits, so that
		// its pieces cannot be words of the error's own text, with at most
		// one character that URLs must encode (and people forget to).
		secret := hex.EncodeToString(pw)
		if odd := scheme / 3 % 6; odd > 0 && len(secret) > 2 {
			at := int(pw[0]) % len(secret)
			secret = secret[:at] + []string{"", "@", "/", " ", ":", "#"}[odd] + secret[at:]
		}
		var dsn string
		switch scheme % 3 {
		case 0:
			if len(secret) < 8 {
				return
			}
			dsn = []string{"postgres://", "postgresql://"}[len(user)%2] + user + ":" + secret + "@" + rest
		case 1:
			dsn = "sqlite://" + rest
		default:
			dsn = rest
		}
		driver, source, err := ParseDSN(dsn, "/data")
		if err != nil {
			if driver != "" || source != "" {
				t.Fatalf("%q: refused but returned %q %q", dsn, driver, source)
			}
			if scheme%3 == 0 {
				leaked(t, "the error", err.Error(), secret, user+rest)
			}
			return
		}
		switch driver {
		case DriverPostgres:
			if source != dsn || !strings.HasPrefix(dsn, "postgres") {
				t.Fatalf("%q: postgres source %q", dsn, source)
			}
			if scheme%3 == 0 {
				leaked(t, "the log description", redactDSN(source), secret, user+rest)
			}
		case DriverSQLite:
			want := strings.TrimPrefix(dsn, "sqlite://")
			if dsn == "" {
				want = filepath.Join("/data", DefaultSQLiteFile)
			}
			if source != want || source == "" || strings.ContainsAny(source, "?#") {
				t.Fatalf("%q: sqlite source %q", dsn, source)
			}
		default:
			t.Fatalf("%q: driver %q", dsn, driver)
		}
	})
}

// leaked fails t when text holds 8 bytes in a row of secret (and not of
// other, the rest of the DSN, which may hold them too).
func leaked(t *testing.T, what, text, secret, other string) {
	t.Helper()
	for i := 0; i+8 <= len(secret); i++ {
		if w := secret[i : i+8]; strings.Contains(text, w) && !strings.Contains(other, w) {
			t.Fatalf("%s shows %q of the password %q: %s", what, w, secret, text)
		}
	}
}

// FuzzParseUsers: IDSYNC_API_USERS entries become accounts only as
// name:bcrypt-hash with a name; every other entry is one error, and the
// errors do not depend on what follows the colon (an operator who pastes a
// password instead of its hash does not see it in the logs).
func FuzzParseUsers(f *testing.F) {
	hash, _ := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	f.Add("auditor:"+string(hash), "ops:hunter2")
	f.Add("no-colon-password", ":"+string(hash))
	f.Add("a:b:c", "auditor:"+string(hash)[:20])
	f.Fuzz(func(t *testing.T, a, b string) {
		entries := config.Secrets{config.Secret(a), config.Secret(b)}
		users, err := ParseUsers(entries)
		valid := 0
		blinded := make(config.Secrets, len(entries))
		for i, e := range entries {
			name, h, ok := strings.Cut(e.Reveal(), ":")
			_, cerr := bcrypt.Cost([]byte(h))
			if ok && name != "" && cerr == nil {
				valid++
				if string(users[name]) == "" {
					t.Fatalf("entry %d (%q) is valid but %q has no account", i, e.Reveal(), name)
				}
				blinded[i] = e
				continue
			}
			blinded[i] = config.Secret(name + ":not-a-hash")
			if !ok {
				blinded[i] = config.Secret(strings.Repeat("x", len(name)))
			}
		}
		if len(users) > valid {
			t.Fatalf("%d accounts from %d valid entries", len(users), valid)
		}
		if (err != nil) != (valid < len(entries)) {
			t.Fatalf("%d of %d entries valid, error %v", valid, len(entries), err)
		}
		_, err2 := ParseUsers(blinded)
		if errText(err) != errText(err2) {
			t.Fatalf("the error depends on the secret part:\n%v\n%v", err, err2)
		}
	})
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// FuzzBasicAuth: the events API lets a request in exactly when its Basic
// credentials are a configured user's name and password, the same on every
// try (the success cache changes the cost, never the answer).
func FuzzBasicAuth(f *testing.F) {
	const name, pass = "auditor", "correct horse"
	hash, err := bcrypt.GenerateFromPassword([]byte(pass), bcrypt.MinCost)
	if err != nil {
		f.Fatal(err)
	}
	auth := newBasicAuth(Users{name: hash})
	f.Add(false, "", pass)
	f.Add(false, "", pass+"\x00")
	f.Add(false, "", "")
	f.Add(true, "Basic "+base64.StdEncoding.EncodeToString([]byte(name+":"+pass)), "")
	f.Add(true, "basic "+base64.StdEncoding.EncodeToString([]byte(name+":"+pass)), "")
	f.Add(true, "Basic "+base64.StdEncoding.EncodeToString([]byte(name+":"+pass+":")), "")
	f.Add(true, "Bearer x", "")
	f.Fuzz(func(t *testing.T, raw bool, header, password string) {
		req := httptest.NewRequest("GET", "/api/events", nil)
		if raw {
			req.Header.Set("Authorization", header)
		} else {
			// Mostly the known user: an unknown one costs a full bcrypt
			// round (DefaultCost) on purpose, which would starve the fuzzer.
			req.SetBasicAuth(name, password)
		}
		u, p, ok := req.BasicAuth()
		want := ok && u == name && p == pass
		for try := range 2 {
			got, allowed := auth.check(req)
			if allowed != want || (allowed && got != name) {
				t.Fatalf("try %d: credentials %q:%q (parsed %v) → %q %v, want %v", try, u, p, ok, got, allowed, want)
			}
		}
	})
}
