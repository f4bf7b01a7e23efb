package langtag

import (
	"slices"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"en", "en", true},
		{" DE ", "de", true},
		{"pt_BR", "pt-BR", true},
		{"PT-br", "pt-BR", true},
		{"pt_br", "pt-BR", true},
		{"cs-CZ", "cs-CZ", true},
		{"es-419", "es-419", true},
		{"zh-hant", "zh-Hant", true},
		{"sr-latn-rs", "sr-Latn-RS", true},
		{"tl", "tl", true}, // not turned into fil
		{"bh", "bh", true},
		{"no", "no", true},
		{"", "", false},
		{"   ", "", false},
		{"xx", "xx", false},
		{"english", "english", false},
		{"account", "account", false},
		{"deu", "deu", false}, // ISO 639-2, not 639-1
		{"iw", "iw", false},   // deprecated: he
		{"und", "und", false},
		{"x-foo", "x-foo", false},
		{"en-x-foo", "en-x-foo", false},
		{"en-US-u-ca-buddhist", "en-US-u-ca-buddhist", false},
		{"de-CH-1901", "de-CH-1901", false},
		{"de-99", "de-99", false},
		{"de_", "de-", false},
		{"*", "*", false},
	}
	for _, tt := range tests {
		got, ok := Normalize(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Normalize(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestBase(t *testing.T) {
	tests := []struct{ in, want string }{
		{"pt-BR", "pt"},
		{"de", "de"},
		{"zh-Hant-TW", "zh"},
		{"pt_br", "pt"},
		{"xx-YY", "xx"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Base(tt.in); got != tt.want {
			t.Errorf("Base(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestOfficial(t *testing.T) {
	if got, want := Official(), []string{"en", "fr", "de", "cs"}; !slices.Equal(got, want) {
		t.Fatalf("Official() = %v, want %v", got, want)
	}
	Official()[0] = "xx"
	if Official()[0] != Default {
		t.Fatal("Official() shares its slice")
	}
	tests := []struct {
		code string
		want bool
	}{
		{"en", true}, {"fr", true}, {"de", true}, {"cs", true},
		{"de-CH", false}, {"es", false}, {"pt-BR", false}, {"", false},
	}
	for _, tt := range tests {
		if got := IsOfficial(tt.code); got != tt.want {
			t.Errorf("IsOfficial(%q) = %v, want %v", tt.code, got, tt.want)
		}
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		supported    []string
		header, want string
	}{
		{Official(), "", ""},
		{Official(), "de", "de"},
		{Official(), "de-AT", "de"},
		{Official(), "de-CH", "de"}, // region fallback
		{Official(), "FR-ca", "fr"},
		{Official(), "en-US,en;q=0.9", "en"},
		{Official(), "fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5", "fr"},
		{Official(), "ja, fr;q=0.9", "fr"},           // the first supported one
		{Official(), "fr;q=0.1, de;q=0.5", "de"},     // q-values, not order
		{Official(), "cs;q=0.5, de;q=0.5, fr", "fr"}, // fr has q=1
		{Official(), "cs;q=0.5, de;q=0.5", "cs"},     // equal q: order
		{Official(), "de;q=0, en", "en"},             // q=0 excludes
		{Official(), "de;q=0", ""},
		{Official(), "*", ""}, // a wildcard alone names no language
		{Official(), "*, cs;q=0.5", "cs"},
		{Official(), "ja", ""},
		{Official(), "pt-BR, es", ""},
		{Official(), "zz", ""},
		{Official(), "not a language!!, cs", "cs"}, // a malformed range is skipped
		{Official(), "en;q=abc, de;q=0.3", "de"},
		{Official(), ";;;,,", ""},
		{[]string{"en", "de", "pt-BR"}, "pt", "pt-BR"},
		{[]string{"en", "de", "pt-BR"}, "pt-br", "pt-BR"},
		{[]string{"en", "de", "pt-BR"}, "fr, de;q=0.5, en;q=0.7", "en"},
		{[]string{"en", "de", "pt-BR"}, "ja, zz", ""},
		{[]string{"de-CH"}, "de", "de-CH"},
		{nil, "en", ""},
	}
	for _, tt := range tests {
		if got := NewMatcher(tt.supported).Match(tt.header); got != tt.want {
			t.Errorf("NewMatcher(%v).Match(%q) = %q, want %q", tt.supported, tt.header, got, tt.want)
		}
	}
}

func TestName(t *testing.T) {
	tests := []struct{ code, want string }{
		{"en", "English"},
		{"fr", "Français"},
		{"de", "Deutsch"},
		{"cs", "Čeština"},
		{"es", "Español"},
		{"pt-PT", "Português europeu"},
		{"de-CH", "Schweizer Hochdeutsch"},
		{"ja", "日本語"},
		{"bh", "bh"}, // no name in x/text
		{"xx", "xx"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Name(tt.code); got != tt.want {
			t.Errorf("Name(%q) = %q, want %q", tt.code, got, tt.want)
		}
	}
}
