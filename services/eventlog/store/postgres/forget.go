package postgres

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/idsync/idsync/services/eventlog/store"
)

// errNoUser refuses an empty user id: it would match every record that
// lacks an email, login or actor id.
var errNoUser = errors.New("empty user id")

// Forget pseudonymises a person's records, as the SQLite store does: where
// the person is the subject, the person fields become the pseudonym and
// the client data and payload go; where the person acted, the actor becomes
// the pseudonym and the payload goes; a report whose payload names them
// (mentions) loses its payload and keeps the rest. Erasure records are kept
// as they are. The count is the sum of the three, so a record in which the
// person is both subject and actor counts twice.
func (s *Store) Forget(ctx context.Context, userID, pseudonym string) (int, error) {
	if err := s.errClosed("Forget"); err != nil {
		return 0, err
	}
	if userID == "" {
		return 0, s.fail("Forget", errNoUser)
	}
	var n int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE records SET person_id = $1, person_email = '', person_login = '', client_ip = '', user_agent = '', payload = NULL
			WHERE kind <> '`+store.KindErasure+`' AND (person_id = $2 OR (person_email = $3 AND person_email <> '') OR (person_login = $3 AND person_login <> ''))`,
			text(pseudonym), text(userID), text(strings.ToLower(userID)))
		if err != nil {
			return err
		}
		n = tag.RowsAffected()
		tag, err = tx.Exec(ctx, `UPDATE records SET actor = $1, actor_id = '', payload = NULL
			WHERE kind <> '`+store.KindErasure+`' AND (actor = $2 OR (actor_id = $2 AND actor_id <> ''))`, text(pseudonym), text(userID))
		if err != nil {
			return err
		}
		n += tag.RowsAffected()
		// The reports naming them: only the payload goes (the counts and
		// the rest are no one's). Those already changed above have none left.
		cond, args := mentions(userID, 0)
		if cond == "" {
			return nil
		}
		tag, err = tx.Exec(ctx, `UPDATE records SET payload = NULL WHERE kind <> '`+store.KindErasure+`' AND `+cond, args...)
		n += tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, s.fail("Forget", err)
	}
	return int(n), nil
}
