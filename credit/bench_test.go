package credit

import (
	"testing"

	"github.com/orbitask/portal/sqlitedb"
)

// BenchmarkBalance100k reads the balance of an organisation with 100,000
// ledger entries, beside another organisation's 100,000.
func BenchmarkBalance100k(b *testing.B) {
	s, _ := open(b, t0)
	err := s.db.Write(ctx, func(tx *sqlitedb.Tx) error {
		for i := range 200000 {
			org := "Acme Ltd"
			if i%2 == 1 {
				org = "Other"
			}
			if err := addEntry(ctx, tx, Entry{Org: org, Kind: kindTopUp, Minutes: 10, By: "bench", At: t0, Ref: "INV"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		bal, err := s.Balance(ctx, "Acme Ltd")
		if err != nil || bal.Balance != 1000000 {
			b.Fatal(bal, err)
		}
	}
}
