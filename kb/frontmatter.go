package kb

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// frontMatter is the YAML header of an article. It accepts the Hugo and
// Jekyll spellings of the same idea (category/categories, summary/description)
// and ignores keys it does not know.
type frontMatter struct {
	Title          string     `yaml:"title"`
	Description    string     `yaml:"description"`
	Summary        string     `yaml:"summary"`
	Slug           string     `yaml:"slug"`
	Tags           stringList `yaml:"tags"`
	Categories     stringList `yaml:"categories"`
	Category       stringList `yaml:"category"`
	Lang           string     `yaml:"lang"`
	Language       string     `yaml:"language"`
	TranslationKey string     `yaml:"translationKey"`
	Aliases        stringList `yaml:"aliases"`
	Draft          bool       `yaml:"draft"`
	Weight         int        `yaml:"weight"`
	Date           flexTime   `yaml:"date"`
	Lastmod        flexTime   `yaml:"lastmod"`
}

// stringList accepts both `tags: a` and `tags: [a, b]`.
type stringList []string

func (s *stringList) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!null" || strings.TrimSpace(n.Value) == "" {
			*s = nil
			return nil
		}
		*s = []string{n.Value}
		return nil
	case yaml.SequenceNode:
		var out []string
		for _, c := range n.Content {
			if c.Kind != yaml.ScalarNode {
				return typeError(c.Line, "expected a list of strings")
			}
			if v := strings.TrimSpace(c.Value); v != "" {
				out = append(out, v)
			}
		}
		*s = out
		return nil
	}
	return typeError(n.Line, "expected a string or a list of strings")
}

// flexTime accepts the date forms Hugo accepts most often.
type flexTime struct{ time.Time }

var timeLayouts = []string{
	time.RFC3339, "2006-01-02T15:04:05", "2006-01-02 15:04:05 -0700", "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02",
}

func (t *flexTime) UnmarshalYAML(n *yaml.Node) error {
	v := strings.TrimSpace(n.Value)
	if v == "" {
		return nil
	}
	for _, l := range timeLayouts {
		if p, err := time.Parse(l, v); err == nil {
			t.Time = p
			return nil
		}
	}
	return typeError(n.Line, fmt.Sprintf("cannot parse date %q (use YYYY-MM-DD or RFC 3339)", v))
}

// typeError is how a field reports a bad value: as a *yaml.TypeError, the
// decoder goes on with the other fields, so every problem is found.
func typeError(line int, msg string) error {
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %s", line, msg)}}
}

var yamlLineRe = regexp.MustCompile(`line (\d+)`)

// yamlProblem turns a YAML error into the line of the file it is about and
// a message without the "yaml: " and "line N: " prefixes. offset is the
// number of lines of the file before the YAML; the line numbers left in the
// message (a repeated key's first line, further unmarshal errors) are
// shifted by it too. An error that names no line is about line 1.
func yamlProblem(err error, offset int) (line int, msg string) {
	msg = strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.TrimPrefix(msg, "unmarshal errors:\n")
	parts := strings.Split(msg, "\n")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	msg = yamlLineRe.ReplaceAllStringFunc(strings.Join(parts, "; "), func(s string) string {
		n, _ := strconv.Atoi(strings.TrimPrefix(s, "line "))
		return "line " + strconv.Itoa(n+offset)
	})
	line = 1
	if m := yamlLineRe.FindStringSubmatchIndex(msg); m != nil {
		line, _ = strconv.Atoi(msg[m[2]:m[3]])
		if m[0] == 0 {
			msg = strings.TrimPrefix(msg[m[1]:], ": ")
		}
	}
	return line, msg
}

// splitFrontMatter separates a `---` YAML header from the body. It returns the
// header, the body, and the 1-based line on which the body starts. With an
// error, the body is still returned when its start is known (bodyLine > 0),
// so that it can be checked too.
func splitFrontMatter(src []byte) (header, body []byte, bodyLine int, err error) {
	src = bytes.TrimPrefix(src, []byte("\xef\xbb\xbf"))
	toml := bytes.HasPrefix(src, []byte("+++"))
	if !toml && !bytes.HasPrefix(src, []byte("---")) {
		return nil, src, 1, nil
	}
	first := bytes.IndexByte(src, '\n')
	if first < 0 || (!toml && strings.TrimSpace(string(src[:first])) != "---") {
		if toml {
			return nil, nil, 0, &lineError{1, "TOML front matter (+++) is not supported; use YAML between --- lines"}
		}
		return nil, src, 1, nil
	}
	closes := func(t string) bool {
		if toml {
			return t == "+++"
		}
		return t == "---" || t == "..."
	}
	rest := src[first+1:]
	line := 2
	for off := 0; off <= len(rest); {
		end := bytes.IndexByte(rest[off:], '\n')
		var l []byte
		if end < 0 {
			l = rest[off:]
		} else {
			l = rest[off : off+end]
		}
		if closes(strings.TrimSpace(string(l))) {
			header = rest[:off]
			if end >= 0 {
				body = rest[off+end+1:]
			}
			if toml {
				return nil, body, line + 1, &lineError{1, "TOML front matter (+++) is not supported; use YAML between --- lines"}
			}
			return header, body, line + 1, nil
		}
		if end < 0 {
			break
		}
		off += end + 1
		line++
	}
	if toml {
		return nil, nil, 0, &lineError{1, "TOML front matter (+++) is not supported; use YAML between --- lines"}
	}
	return nil, nil, 0, &lineError{1, "front matter starts with --- but is never closed"}
}

// lineError is a problem at a line of the file being loaded.
type lineError struct {
	line int
	msg  string
}

func (e *lineError) Error() string { return e.msg }

// parseFrontMatter decodes the header. It returns one error per problem,
// at its line of the file, and whether the values are known: a YAML syntax
// error leaves them unknown, a bad value only that field.
func parseFrontMatter(header []byte) (frontMatter, []*lineError, bool) {
	var fm frontMatter
	if len(bytes.TrimSpace(header)) == 0 {
		return fm, nil, true
	}
	err := yaml.Unmarshal(header, &fm)
	if err == nil {
		return fm, nil, true
	}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		var out []*lineError
		for _, e := range te.Errors {
			line, msg := yamlProblem(errors.New(e), 1) // the header starts on the file's second line
			out = append(out, &lineError{line, "front matter: " + msg})
		}
		return fm, out, true
	}
	line, msg := yamlProblem(err, 1)
	return frontMatter{}, []*lineError{{line, "front matter: " + msg}}, false
}
