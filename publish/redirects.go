package publish

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// readRedirects reads the old URLs of renamed articles saved by
// writeRedirects; none if the file does not exist.
func readRedirects(path string) (map[string]string, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("publish: redirects: %w", err)
	}
	var m map[string]string
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("publish: redirects %s: %w", path, err)
	}
	return m, nil
}

// writeRedirects replaces the file atomically: a crash leaves the old list
// or the new one.
func writeRedirects(path string, m map[string]string) error {
	raw, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("publish: redirects: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".redirects-*")
	if err != nil {
		return fmt.Errorf("publish: redirects: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(raw); err != nil {
		tmp.Close()
		return fmt.Errorf("publish: redirects: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("publish: redirects: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("publish: redirects: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("publish: redirects: %w", err)
	}
	return nil
}
