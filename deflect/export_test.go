package deflect

import (
	"context"
	"fmt"
)

// Filed is FiledTx in a transaction of its own: the tests end sessions with
// it; the portal files tickets through TicketFiled.
func (t *Tracker) Filed(ctx context.Context, id string, ticketNumber int) error {
	if ticketNumber <= 0 {
		return fmt.Errorf("deflect: filed: ticket number %d must be positive", ticketNumber)
	}
	if err := t.record(ctx, id, &row{kind: KindFiled, ticket: ticketNumber}, "filed"); err != nil {
		return fmt.Errorf("deflect: filed: %w", err)
	}
	return nil
}
