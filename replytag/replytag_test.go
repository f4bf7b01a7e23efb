package replytag

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAddressesRoundTripAndRefuseForgeries(t *testing.T) {
	key := bytes.Repeat([]byte{7}, KeySize)
	tags, err := New(key, "Orbitask Support <support@Help.Example>")
	if err != nil {
		t.Fatal(err)
	}
	a := tags.Address(1001)
	if !strings.HasPrefix(a, "support+1001.") || !strings.HasSuffix(a, "@help.example") {
		t.Fatalf("address %q", a)
	}
	for _, in := range []string{a, strings.ToUpper(a), "Jana <" + a + ">"} {
		if k, n := tags.Parse(in); k != Reply || n != 1001 {
			t.Errorf("Parse(%q) = %v, %d; want Reply 1001", in, k, n)
		}
	}
	tag := strings.TrimSuffix(strings.TrimPrefix(a, "support+1001."), "@help.example")
	other, _ := New(bytes.Repeat([]byte{8}, KeySize), "support@help.example")
	cases := map[string]Kind{
		"support@help.example":                       Question,
		"SUPPORT@help.example":                       Question,
		"support+1002." + tag + "@help.example":      Forged, // another ticket's number with this one's tag
		"support+1001@help.example":                  Forged,
		"support+01001." + tag + "@help.example":     Forged,
		"support+1001." + tag[:15] + "@help.example": Forged,
		other.Address(1001):                          Forged, // another key
		"sales@help.example":                         Other,
		"support@elsewhere.example":                  Other,
		"not an address":                             Other,
	}
	for in, want := range cases {
		if k, _ := tags.Parse(in); k != want {
			t.Errorf("Parse(%q) = %v, want %v", in, k, want)
		}
	}
	if tags.Base() != "support@help.example" {
		t.Errorf("Base = %q", tags.Base())
	}
	for _, bad := range []string{"support+x@help.example", "nodomain", ""} {
		if _, err := New(key, bad); err == nil {
			t.Errorf("New(%q) accepted", bad)
		}
	}
	if _, err := New(key[:8], "support@help.example"); err == nil {
		t.Error("a short key was accepted")
	}
}

func TestLoadKeyCreatesOnceAndKeeps(t *testing.T) {
	path := filepath.Join(t.TempDir(), "reply.key")
	k1, err := LoadKey(path)
	if err != nil || len(k1) != KeySize {
		t.Fatalf("%x, %v", k1, err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v; want 0600", st.Mode(), err)
	}
	k2, err := LoadKey(path)
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatalf("a second load gave another key: %v", err)
	}
	if err := os.WriteFile(path, []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKey(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("a damaged key file: %v; want an error naming it", err)
	}
}
