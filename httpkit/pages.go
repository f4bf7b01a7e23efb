package httpkit

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"path"
	"strings"
)

// Pages are one template set per page, each made of a frame (the layout
// and its partials) and the page's own file.
type Pages map[string]*template.Template

// ParsePages parses one template set per page from fsys: the frame
// (layouts) and a page file, which must define "content". A set is keyed by
// the page file's name without ".html". Every template is parsed here, so
// that a broken one fails at start.
func ParsePages(fsys fs.FS, funcs template.FuncMap, layouts, pageGlob string) (Pages, error) {
	base, err := template.New("").Funcs(funcs).ParseFS(fsys, layouts)
	if err != nil {
		return nil, err
	}
	files, err := fs.Glob(fsys, pageGlob)
	if err != nil {
		return nil, err
	}
	pages := Pages{}
	for _, p := range files {
		t, err := base.Clone()
		if err != nil {
			return nil, err
		}
		if _, err := t.ParseFS(fsys, p); err != nil {
			return nil, err
		}
		if t.Lookup("content") == nil {
			return nil, fmt.Errorf("%s: no {{define \"content\"}}", p)
		}
		pages[strings.TrimSuffix(path.Base(p), ".html")] = t
	}
	return pages, nil
}

// Execute runs the template name of page into a buffer, so that a failing
// template becomes a clean 500 rather than half a page.
func (ps Pages) Execute(page, name string, data any) ([]byte, error) {
	t, ok := ps[page]
	if !ok {
		return nil, fmt.Errorf("no template %q", page)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, data); err != nil {
		return nil, fmt.Errorf("render %s: %w", page, err)
	}
	return buf.Bytes(), nil
}
