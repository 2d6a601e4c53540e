package eventlog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/config"
	"github.com/idsync/idsync/pkg/service"
	"github.com/idsync/idsync/services/eventlog/store"
	"github.com/idsync/idsync/services/eventlog/store/postgres"
	"github.com/idsync/idsync/services/eventlog/store/sqlite"
)

// Config is the eventlog service's configuration; see the README's table.
type Config struct {
	service.Base
	Settings
	DataDir string `env:"IDSYNC_DATA_DIR" default:"./data" help:"where the default SQLite event log is kept (eventlog.db)"`
}

// Settings are the event log's own settings, shared with the all-in-one
// (which has its own IDSYNC_DATA_DIR).
type Settings struct {
	// DSN is a secret because a PostgreSQL URL may carry a password.
	DSN         config.Secret  `env:"IDSYNC_EVENTLOG_DSN" help:"postgres://… or sqlite:///path (default: SQLite eventlog.db in IDSYNC_DATA_DIR)"`
	Users       config.Secrets `env:"IDSYNC_API_USERS" help:"Basic-auth users of the events API: user:bcrypt-hash, comma-separated (htpasswd -nbB user password)"`
	Retention   time.Duration  `env:"IDSYNC_EVENTLOG_RETENTION" default:"8760h" help:"how long records are kept (0 = for ever)"`
	BatchSize   int            `env:"IDSYNC_EVENTLOG_BATCH_SIZE" default:"500" help:"most messages written to the store in one transaction"`
	BatchLinger time.Duration  `env:"IDSYNC_EVENTLOG_BATCH_LINGER" default:"100ms" help:"how long a batch waits to fill before it is written"`
	// AckWait is also how long records held by an event log that died
	// wait before JetStream hands them to the next one: short enough to
	// catch up soon after a crash, long enough for a batch write on a
	// slow database.
	AckWait time.Duration `env:"IDSYNC_EVENTLOG_ACK_WAIT" default:"1m" help:"how long a batch may take to be stored before JetStream redelivers it (and how long a crashed event log's batch waits)"`
}

// DefaultSQLiteFile is the event log's file in the data directory.
const DefaultSQLiteFile = "eventlog.db"

// Validate reports every problem, one error each.
func (c Config) Validate() error {
	errs := []error{c.Base.Validate(), c.Settings.Validate()}
	if c.DSN.Reveal() == "" && strings.TrimSpace(c.DataDir) == "" {
		errs = append(errs, errors.New("IDSYNC_DATA_DIR: required for the default SQLite event log (or set IDSYNC_EVENTLOG_DSN)"))
	}
	return errors.Join(errs...)
}

// Validate reports every problem, one error each.
func (s Settings) Validate() error {
	var errs []error
	if _, _, err := ParseDSN(s.DSN.Reveal(), "."); err != nil {
		errs = append(errs, err)
	}
	if _, err := ParseUsers(s.Users); err != nil {
		errs = append(errs, err)
	}
	if s.Retention != 0 && s.Retention < time.Hour {
		errs = append(errs, fmt.Errorf("IDSYNC_EVENTLOG_RETENTION: %s, want 0 (for ever) or at least 1h", s.Retention))
	}
	if s.BatchSize < 1 || s.BatchSize > 5000 {
		errs = append(errs, fmt.Errorf("IDSYNC_EVENTLOG_BATCH_SIZE: %d, want 1 to 5000", s.BatchSize))
	}
	if s.BatchLinger < time.Millisecond || s.BatchLinger > 10*time.Second {
		errs = append(errs, fmt.Errorf("IDSYNC_EVENTLOG_BATCH_LINGER: %s, want 1ms to 10s", s.BatchLinger))
	}
	if s.AckWait < 5*time.Second || s.AckWait > time.Hour {
		errs = append(errs, fmt.Errorf("IDSYNC_EVENTLOG_ACK_WAIT: %s, want 5s to 1h", s.AckWait))
	}
	return errors.Join(errs...)
}

// Batch is how the ingest consumers pull: the configured size and linger,
// and a redelivery policy that never gives up on a record (MaxDeliver -1):
// while the database is down the event log falls behind, it does not drop.
func (s Settings) Batch() bus.BatchSettings {
	return bus.BatchSettings{
		Size: s.BatchSize, Linger: s.BatchLinger, AckWait: s.AckWait, MaxDeliver: -1,
		BackoffBase: time.Second, BackoffMax: time.Minute, LagInterval: 15 * time.Second,
	}
}

// Store drivers a DSN selects.
const (
	DriverPostgres = "postgres"
	DriverSQLite   = "sqlite"
)

// ParseDSN returns the driver and its data source: the PostgreSQL URL as
// given, or the SQLite file's path. An empty DSN is SQLite in dataDir.
func ParseDSN(dsn, dataDir string) (driver, source string, err error) {
	switch {
	case dsn == "":
		return DriverSQLite, filepath.Join(dataDir, DefaultSQLiteFile), nil
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		if _, err := pgxpool.ParseConfig(dsn); err != nil {
			// The parser's error may repeat the URL: hide the password.
			return "", "", fmt.Errorf("IDSYNC_EVENTLOG_DSN: not a valid PostgreSQL URL: %w", redactErr(err, dsn))
		}
		return DriverPostgres, dsn, nil
	case strings.HasPrefix(dsn, "sqlite://"):
		path := strings.TrimPrefix(dsn, "sqlite://")
		if path == "" || strings.ContainsAny(path, "?#") {
			return "", "", fmt.Errorf("IDSYNC_EVENTLOG_DSN: %q names no file (sqlite:///absolute/path or sqlite://relative/path)", dsn)
		}
		return DriverSQLite, path, nil
	default:
		return "", "", errors.New("IDSYNC_EVENTLOG_DSN: want postgres://… or sqlite:///path")
	}
}

// OpenStore opens the store the DSN names (SQLite in dataDir when empty),
// applying its migrations. The description is safe to log.
func OpenStore(ctx context.Context, dsn, dataDir string) (store.Store, string, error) {
	driver, source, err := ParseDSN(dsn, dataDir)
	if err != nil {
		return nil, "", err
	}
	if driver == DriverSQLite {
		st, err := sqlite.Open(ctx, source)
		if err != nil {
			return nil, "", fmt.Errorf("event log %s: %w", source, err)
		}
		return st, "sqlite " + source, nil
	}
	desc := "postgres " + redactDSN(source)
	st, err := postgres.Open(ctx, source)
	if err != nil {
		return nil, "", fmt.Errorf("event log %s: %w", desc, redactErr(err, source))
	}
	return st, desc, nil
}

// redactDSN keeps a PostgreSQL URL's host and database, never its password.
func redactDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(invalid URL)"
	}
	// A password with an unencoded "/" ends the host early and lands in
	// the path: mask what could be credentials (see redactErr).
	return maskRuns(u.Host+u.Path, password(dsn), 4)
}

// password is whatever lies between the first ":" after "://" and the last
// "@" of dsn: the password, however malformed (the user name before it is
// no secret, and often the database's name too).
func password(dsn string) string {
	if _, rest, ok := strings.Cut(dsn, "://"); ok {
		if i := strings.LastIndexByte(rest, '@'); i > 0 {
			if _, pw, ok := strings.Cut(rest[:i], ":"); ok {
				return pw
			}
		}
	}
	return ""
}

// redactErr hides the password should a driver error quote the DSN. The
// parsed password is not enough: a malformed URL (an unencoded @, / or blank
// in the password) is split differently by each parser, and pgx's messages
// then quote pieces of it ("unexpected spaces found in "ssw0rd@db host"").
// So every run of 4 or more characters of the error that also occurs in the
// DSN's password (see password) is masked.
func redactErr(err error, dsn string) error {
	msg := err.Error()
	if u, perr := url.Parse(dsn); perr == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			msg = strings.ReplaceAll(msg, pw, "xxxxx")
		}
	}
	masked := maskRuns(msg, password(dsn), 4)
	if masked == err.Error() {
		return err
	}
	return errors.New(masked)
}

// maskRuns replaces each longest run of at least min bytes of s that occurs
// in secret with "xxxxx".
func maskRuns(s, secret string, min int) string {
	if len(secret) < min {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		n := 0
		for i+n < len(s) && strings.Contains(secret, s[i:i+n+1]) {
			n++
		}
		if n >= min {
			b.WriteString("xxxxx")
			i += n
			continue
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}

// LogAttrs describe the settings for the start-up log line.
func (s Settings) LogAttrs() []slog.Attr {
	return []slog.Attr{
		slog.Int("api_users", len(s.Users)),
		slog.Duration("retention", s.Retention),
		slog.Int("batch_size", s.BatchSize),
		slog.Duration("batch_linger", s.BatchLinger),
	}
}
