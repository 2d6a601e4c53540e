// Package pgtest gives a test an empty schema of its own on the machine's
// PostgreSQL server. Without a server the test is skipped, visibly, unless
// IDSYNC_REQUIRE_POSTGRES=1 (as in CI), which makes it a failure.
package pgtest

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultDSN is the server tests use when IDSYNC_TEST_POSTGRES_DSN is unset.
const DefaultDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// BaseDSN is IDSYNC_TEST_POSTGRES_DSN, or DefaultDSN.
func BaseDSN() string {
	if dsn := os.Getenv("IDSYNC_TEST_POSTGRES_DSN"); dsn != "" {
		return dsn
	}
	return DefaultDSN
}

// DSN creates an empty schema for the test, dropped with everything in it
// when the test ends, and returns BaseDSN with search_path set to it.
func DSN(tb testing.TB) string {
	tb.Helper()
	base := BaseDSN()
	schema := "t_" + strings.ToLower(rand.Text()[:16])
	if err := exec(base, `CREATE SCHEMA `+pgx.Identifier{schema}.Sanitize()); err != nil {
		msg := fmt.Sprintf("pgtest: no PostgreSQL at %s (%v); set IDSYNC_TEST_POSTGRES_DSN to point at one", describe(base), err)
		if os.Getenv("IDSYNC_REQUIRE_POSTGRES") == "1" {
			tb.Fatalf("%s; IDSYNC_REQUIRE_POSTGRES=1 requires it", msg)
		}
		tb.Skipf("%s; skipping (IDSYNC_REQUIRE_POSTGRES=1 makes this a failure)", msg)
	}
	tb.Cleanup(func() {
		if err := exec(base, `DROP SCHEMA `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
			tb.Errorf("pgtest: dropping schema %s: %v", schema, err)
		}
	})
	return withSearchPath(base, schema)
}

// exec runs one statement on a connection of its own.
func exec(dsn, sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// withSearchPath adds search_path to a URL or keyword/value DSN; pgx sends
// parameters it does not know to the server as run-time settings.
func withSearchPath(dsn, schema string) string {
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return dsn + " search_path=" + schema
}

// describe names the server of a DSN without its password.
func describe(dsn string) string {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return "an unparsable IDSYNC_TEST_POSTGRES_DSN"
	}
	return fmt.Sprintf("postgres://%s@%s:%d/%s", cfg.User, cfg.Host, cfg.Port, cfg.Database)
}
