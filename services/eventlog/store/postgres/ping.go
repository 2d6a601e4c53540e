package postgres

import "context"

// Ping checks that the database answers (readiness).
func (s *Store) Ping(ctx context.Context) error {
	if err := s.errClosed("Ping"); err != nil {
		return err
	}
	if err := s.pool.Ping(ctx); err != nil {
		return s.fail("Ping", err)
	}
	return nil
}
