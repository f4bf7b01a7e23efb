// Package static holds the portal's stylesheets, script and icons. The web
// package serves them under fingerprinted names.
package static

import (
	"embed"
	"io/fs"
)

//go:embed *.css *.js *.svg
var files embed.FS

// FS is the set of static files, by name (e.g. "app.css").
var FS fs.FS = files
