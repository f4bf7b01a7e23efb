package tickets

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// EventsAfter returns the events of one ticket that its customer may see
// with Seq > after, oldest first; ErrNotFound if there is no such ticket.
// Only the tests use it, to check the customer's view of a ticket's feed: a
// reconnecting live page takes what it missed from the History of Get.
func (s *Store) EventsAfter(ctx context.Context, number int, after int64) ([]Event, error) {
	var id int64
	err := s.db.QueryRowContext(ctx, `SELECT id FROM tickets WHERE number = ?`, number).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("tickets: events of #%d: %w", number, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("tickets: events of #%d: %w", number, err)
	}
	evs, err := s.events(ctx, `WHERE e.ticket_id = ? AND e.id > ? AND e.internal = 0 ORDER BY e.id`, id, after)
	if err != nil {
		return nil, fmt.Errorf("tickets: events of #%d: %w", number, err)
	}
	return evs, nil
}
