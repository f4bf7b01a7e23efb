package mail

import (
	"context"
	"fmt"

	"github.com/orbitask/portal/sqlitedb"
)

// ThreadTx returns the Message-IDs of the mails written about ticket so
// far, oldest first, inside the caller's write transaction (so a mail
// enqueued earlier in it counts): the In-Reply-To and References of the
// ticket's next mail, which make its mails one conversation in the
// customer's mail client. Failed mails count too; referring to a mail the
// client never saw is harmless.
func ThreadTx(tx *sqlitedb.Tx, ticket int64) ([]string, error) {
	rows, err := tx.QueryContext(context.Background(), `SELECT message_id FROM mail_outbox WHERE ticket = ? ORDER BY id`, ticket)
	if err != nil {
		return nil, fmt.Errorf("mail: thread of ticket %d: %w", ticket, err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("mail: thread of ticket %d: %w", ticket, err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("mail: thread of ticket %d: %w", ticket, err)
	}
	return ids, nil
}
