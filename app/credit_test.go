package app

import (
	"context"
	"testing"
)

// The credit store opens with the portal and its ledger outlives a restart.
func TestOpenCredit(t *testing.T) {
	k, dir := content(t), t.TempDir()
	a, err := Open(Config{Data: dir, Content: k, HashMemoryKiB: 64, HashTime: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := a.Credit.TopUp(ctx, "Acme Ltd", 480, "INV-1", "cli:ops"); err != nil {
		t.Fatal(err)
	}
	a.Close()
	again, err := Open(Config{Data: dir, Content: k, HashMemoryKiB: 64, HashTime: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if b, err := again.Credit.Balance(ctx, "Acme Ltd"); err != nil || b.Balance != 480 {
		t.Fatalf("balance after reopening: %+v, %v", b, err)
	}
}
