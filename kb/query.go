package kb

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"sort"
)

// Category is a group of articles in one language.
type Category struct {
	Name  string
	Slug  string
	Lang  string
	Count int
}

// URL is where the category page is served.
func (c Category) URL() string { return CategoryURL(c.Lang, c.Name) }

// Get returns the article with the given language and slug.
func (k *KB) Get(lang, slug string) (*Article, bool) {
	a, ok := k.byID[lang+"/"+slug]
	return a, ok
}

// ByID returns the article with the given ID ("lang/slug").
func (k *KB) ByID(id string) (*Article, bool) {
	a, ok := k.byID[id]
	return a, ok
}

// Alias returns the article that claims an old URL path: by an alias in its
// front matter, else by a redirect left when its file was renamed.
func (k *KB) Alias(urlPath string) (*Article, bool) {
	key := normalizeAlias(urlPath)
	if a, ok := k.aliases[key]; ok {
		return a, true
	}
	if p, ok := k.redirects[key]; ok {
		a, ok := k.served[p]
		return a, ok
	}
	return nil, false
}

// Redirects returns a copy of the redirects left by renamed articles (old
// URL path → content path), to be given back in Options.Redirects after a
// restart.
func (k *KB) Redirects() map[string]string {
	return maps.Clone(k.redirects)
}

// ArticleAt returns the served article whose source is at contentPath.
func (k *KB) ArticleAt(contentPath string) (*Article, bool) {
	a, ok := k.served[contentPath]
	return a, ok
}

// Translations returns the other-language versions of a, by language.
func (k *KB) Translations(a *Article) []*Article {
	var out []*Article
	for _, t := range k.byKey[a.TranslationKey] {
		if t != a && a.TranslationKey != "" {
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Lang < out[j].Lang })
	return out
}

// Languages lists the languages that have articles, most articles first.
func (k *KB) Languages() []string {
	return append([]string(nil), k.langs...)
}

// HasLang reports whether any article is in lang.
func (k *KB) HasLang(lang string) bool {
	return len(k.byLang[lang]) > 0
}

// InLang returns the articles of one language, in the order of Articles.
// The slice is shared: callers must not modify it.
func (k *KB) InLang(lang string) []*Article {
	return k.byLang[lang]
}

// Categories lists the categories of one language with article counts.
func (k *KB) Categories(lang string) []Category {
	idx := map[string]int{}
	var out []Category
	for _, a := range k.byLang[lang] {
		if a.Category == "" {
			continue
		}
		i, ok := idx[a.Category]
		if !ok {
			i = len(out)
			idx[a.Category] = i
			out = append(out, Category{Name: a.Category, Slug: Slugify(a.Category), Lang: lang})
		}
		out[i].Count++
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Category returns a category of lang by slug and its articles, in the
// order writers gave them (weight, then title).
func (k *KB) Category(lang, slug string) (Category, []*Article, bool) {
	var list []*Article
	c := Category{Slug: slug, Lang: lang}
	for _, a := range k.byLang[lang] {
		if a.Category != "" && Slugify(a.Category) == slug {
			c.Name = a.Category
			list = append(list, a)
		}
	}
	c.Count = len(list)
	return c, list, len(list) > 0
}

// Recent returns the n most recently updated articles of lang.
func (k *KB) Recent(lang string, n int) []*Article {
	list := append([]*Article(nil), k.byLang[lang]...)
	sort.SliceStable(list, func(i, j int) bool { return list[i].Updated().After(list[j].Updated()) })
	if len(list) > n {
		list = list[:n]
	}
	return list
}

// Asset reads the file an article serves under key. The error wraps
// ErrNotFound when the article has no such asset or the file is gone.
func (k *KB) Asset(a *Article, key string) ([]byte, error) {
	rel, ok := a.Assets[key]
	if !ok {
		return nil, fmt.Errorf("kb: asset %q: %w", key, ErrNotFound)
	}
	b, err := fs.ReadFile(k.fsys, rel)
	if errors.Is(err, fs.ErrNotExist) {
		// Removed since the knowledge base was loaded.
		return nil, fmt.Errorf("kb: asset %s: %w", rel, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("kb: asset %s: %w", rel, err)
	}
	return b, nil
}
