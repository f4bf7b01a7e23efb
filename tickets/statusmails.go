package tickets

import (
	"context"
	"fmt"

	"github.com/orbitask/portal/sqlitedb"
)

// SetStatusMails says whether a ticket's customer receives the mails of
// status changes (waiting on you, solved, the reply rule's call); replies
// are mailed either way. The customer chooses it from the link in those
// mails. It is a preference, not a change of the ticket: no event.
func (s *Store) SetStatusMails(ctx context.Context, number int, on bool) error {
	err := s.write(ctx, func(tx *sqlitedb.Tx) error {
		res, err := tx.ExecContext(context.WithoutCancel(ctx), `UPDATE tickets SET status_mails = ? WHERE number = ?`, on, number)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err == nil {
				err = ErrNotFound
			}
			return err
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("tickets: status mails of #%d: %w", number, err)
	}
	return nil
}
