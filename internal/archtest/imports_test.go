// Package archtest checks the import rule of docs/architecture.md: what
// each package of the portal may import from the others.
package archtest

import (
	"go/build"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/orbitask/portal/"

// layer of each package: a package may import only packages of a lower
// layer (web and console share one, and must not import each other).
var layer = map[string]int{
	"sqlitedb": 0, "fields": 0, "langtag": 0, "static": 0, "ratelimit": 0, "telemetry": 0, "svgchart": 0,
	"replytag": 0, "safemd": 0,
	"calendar": 1, "kb": 1, "live": 1, "i18n": 1, "gitrepo": 1, "mail": 1, "inbound": 1,
	"tickets": 2, "deflect": 2, "events": 2, "staff": 2, "search": 2, "insights": 2, "mailin": 2,
	"credit":     2,
	"ticketfeed": 3, "publish": 3, "ticketmail": 3, "mailroute": 3,
	"app": 4, "httpkit": 4,
	"web": 5, "console": 5, "gitweb": 5,
	"server": 6,
}

// forbidden are imports the rule names explicitly, beyond the layers.
var forbidden = map[string][]string{
	"tickets": {"kb", "live", "deflect"},
	"search":  {"tickets", "deflect", "events", "staff"},
	// The figures are SQL over the tables; the normaliser is injected.
	// credit takes organisations as names; it reads no other package.
	"credit":   {"tickets", "kb", "live", "deflect", "events", "staff", "search", "mail", "i18n"},
	"insights": {"tickets", "deflect", "events", "staff", "search", "kb", "gitrepo", "live", "i18n"},
}

// httpLibraries may be imported only by the HTTP packages. (net/http is
// allowed: tickets sniffs attachments' types with http.DetectContentType.)
var httpLibraries = []string{"github.com/gofiber/", "github.com/gorilla/websocket", "github.com/valyala/fasthttp"}

var httpPackages = map[string]bool{"httpkit": true, "web": true, "console": true, "gitweb": true, "server": true}

// The Prometheus library belongs to telemetry alone, and telemetry to the
// packages that wire the portal together: domain packages report through
// function fields of their Config.
const prometheusLibrary = "github.com/prometheus/"

var telemetryUsers = map[string]bool{"telemetry": true, "app": true, "server": true}

func TestImportRule(t *testing.T) {
	root := filepath.Join("..", "..")
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() || strings.HasPrefix(name, ".") || name == "cmd" || name == "internal" || name == "content" || name == "docs" || name == "data" {
			continue
		}
		pkg, err := build.ImportDir(filepath.Join(root, name), 0)
		if err != nil {
			continue // not a Go package
		}
		seen++
		own, ok := layer[name]
		if !ok {
			t.Errorf("package %s has no place in the import rule (docs/architecture.md and this test)", name)
			continue
		}
		var bad []string
		for _, imp := range pkg.Imports {
			if strings.HasPrefix(imp, prometheusLibrary) && name != "telemetry" {
				bad = append(bad, imp+" (the Prometheus library belongs to telemetry)")
			}
			if imp == module+"telemetry" && !telemetryUsers[name] {
				bad = append(bad, "telemetry (report through a function field of the Config; app or server wires it)")
				continue
			}
			if !strings.HasPrefix(imp, module) {
				if !httpPackages[name] {
					for _, lib := range httpLibraries {
						if strings.HasPrefix(imp, lib) {
							bad = append(bad, imp+" (HTTP belongs to httpkit, web, console, server)")
						}
					}
				}
				continue
			}
			dep := strings.TrimPrefix(imp, module)
			if strings.HasPrefix(dep, "internal/") || strings.HasPrefix(dep, "cmd/") {
				bad = append(bad, dep)
				continue
			}
			if l, ok := layer[dep]; ok && l >= own {
				bad = append(bad, dep)
			}
			for _, f := range forbidden[name] {
				if dep == f {
					bad = append(bad, dep)
				}
			}
		}
		sort.Strings(bad)
		if len(bad) > 0 {
			t.Errorf("%s imports %s, against the import rule", name, strings.Join(bad, ", "))
		}
	}
	if seen < len(layer) {
		t.Errorf("found %d packages, the rule names %d", seen, len(layer))
	}
}
