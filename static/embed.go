// Package static holds the portal's stylesheets, script and icons. The web
// package serves them under fingerprinted names.
package static

import (
	"embed"
	"io/fs"
)

//go:embed *.css *.js *.svg
var files embed.FS

// FS returns the set of static files, by name (e.g. "app.css").
func FS() fs.FS { return files }
