package staff

import (
	"context"
	"fmt"

	"github.com/orbitask/portal/fields"
	"github.com/orbitask/portal/sqlitedb"
)

// Record adds an audit entry for something a signed-in staff member did
// outside this package (changing a setting, say). Only the tests use it until
// such a setting exists; action is required.
func (s *Store) Record(ctx context.Context, actor User, action, subject string, detail map[string]string) error {
	if action == "" || len(action) > maxAuditAction {
		return invalid("action", fields.ActionLength, "max", maxAuditAction)
	}
	if actor.ID == 0 {
		return fmt.Errorf("staff: record %q: actor has no id", action)
	}
	err := s.write(ctx, func(tx *sqlitedb.Tx) error {
		return audit(ctx, tx, s.now().UTC(), actor.ID, actor.Email, action, subject, detail)
	})
	if err != nil {
		return fmt.Errorf("staff: record %q: %w", action, err)
	}
	return nil
}
