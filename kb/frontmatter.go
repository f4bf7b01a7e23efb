package kb

import (
	"bytes"
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
				return fmt.Errorf("line %d: expected a list of strings", c.Line)
			}
			if v := strings.TrimSpace(c.Value); v != "" {
				out = append(out, v)
			}
		}
		*s = out
		return nil
	}
	return fmt.Errorf("line %d: expected a string or a list of strings", n.Line)
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
	return fmt.Errorf("line %d: cannot parse date %q (use YYYY-MM-DD or RFC 3339)", n.Line, v)
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
// header, the body, and the 1-based line on which the body starts.
func splitFrontMatter(src []byte) (header, body []byte, bodyLine int, err error) {
	src = bytes.TrimPrefix(src, []byte("\xef\xbb\xbf"))
	if bytes.HasPrefix(src, []byte("+++")) {
		return nil, nil, 0, &lineError{1, "TOML front matter (+++) is not supported; use YAML between --- lines"}
	}
	if !bytes.HasPrefix(src, []byte("---")) {
		return nil, src, 1, nil
	}
	first := bytes.IndexByte(src, '\n')
	if first < 0 || strings.TrimSpace(string(src[:first])) != "---" {
		return nil, src, 1, nil
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
		if t := strings.TrimSpace(string(l)); t == "---" || t == "..." {
			header = rest[:off]
			if end < 0 {
				return header, nil, line + 1, nil
			}
			return header, rest[off+end+1:], line + 1, nil
		}
		if end < 0 {
			break
		}
		off += end + 1
		line++
	}
	return nil, nil, 0, &lineError{1, "front matter starts with --- but is never closed"}
}

// lineError is a problem at a line of the file being loaded.
type lineError struct {
	line int
	msg  string
}

func (e *lineError) Error() string { return e.msg }

func parseFrontMatter(header []byte) (frontMatter, error) {
	var fm frontMatter
	if len(bytes.TrimSpace(header)) == 0 {
		return fm, nil
	}
	if err := yaml.Unmarshal(header, &fm); err != nil {
		line, msg := yamlProblem(err, 1) // the header starts on the file's second line
		return fm, &lineError{line, "front matter: " + msg}
	}
	return fm, nil
}
