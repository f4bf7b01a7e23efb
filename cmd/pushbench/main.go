// Command pushbench measures how long a writer's `git push` takes to make
// changed articles searchable, end to end: a portal serving a content tree
// on a real port, the real git client cloning /content.git, changing N
// articles (each gains a word no article has), committing and pushing;
// then the search API is asked for that word. It reports the push's
// duration, when the word was first found (counted from the push's start),
// and whether searches running meanwhile all succeeded.
//
//	go run ./cmd/pushbench -content /tmp/tldr/docs/en -changes 1,100,1000 -rounds 3
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/orbitask/portal/app"
	"github.com/orbitask/portal/httpkit"
	"github.com/orbitask/portal/server"
	"github.com/orbitask/portal/staff"
)

func main() {
	content := flag.String("content", "", "content tree the portal starts with")
	changes := flag.String("changes", "1,100,1000", "articles changed per push, comma-separated")
	rounds := flag.Int("rounds", 3, "pushes per size")
	searchers := flag.Int("searchers", 4, "clients searching during each push")
	flag.Parse()
	if *content == "" {
		fmt.Fprintln(os.Stderr, "usage: pushbench -content DIR [-changes 1,100,1000] [-rounds 3]")
		os.Exit(2)
	}
	var sizes []int
	for _, s := range strings.Split(*changes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "pushbench: -changes: %q is not a count\n", s)
			os.Exit(2)
		}
		sizes = append(sizes, n)
	}
	if err := run(*content, sizes, *rounds, *searchers); err != nil {
		fmt.Fprintln(os.Stderr, "pushbench:", err)
		os.Exit(1)
	}
}

func run(content string, sizes []int, rounds, searchers int) error {
	work, err := os.MkdirTemp("", "pushbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	data := filepath.Join(work, "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		return err
	}
	fmt.Printf("machine: %d CPUs, %s, %s\n", runtime.NumCPU(), runtime.Version(), gitVersion())
	t0 := time.Now()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := app.Open(app.Config{Data: data, Content: content, Logger: log, HashMemoryKiB: 64, HashTime: 1})
	if err != nil {
		return err
	}
	defer a.Close()
	k := a.Search.KB()
	fmt.Printf("portal: %d articles, started in %s (repository created, index built)\n", len(k.Articles), time.Since(t0).Round(time.Millisecond))
	srv, err := server.New(server.Config{Logger: log, RateLimits: httpkit.RateLimits{Off: true}}, a)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go httpkit.Serve(srv, ln)
	defer srv.Shutdown()
	base := "http://" + ln.Addr().String()

	ctx := context.Background()
	if _, _, err := a.Staff.AddUser(ctx, "writer@bench.example", "Bench Writer", staff.RoleWriter, "pushbench"); err != nil {
		return err
	}
	token, err := a.Staff.CreateToken(ctx, "writer@bench.example", "pushbench", "pushbench")
	if err != nil {
		return err
	}
	u, _ := url.Parse(base + "/content.git")
	u.User = url.UserPassword("writer@bench.example", token)
	clone := filepath.Join(work, "clone")
	g := gitRunner{env: append(os.Environ(), "HOME="+work, "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0")}
	t1 := time.Now()
	if err := g.run(work, "clone", "-q", u.String(), clone); err != nil {
		return err
	}
	fmt.Printf("clone: %s\n", time.Since(t1).Round(time.Millisecond))
	for _, kv := range [][2]string{{"user.name", "Bench Writer"}, {"user.email", "writer@bench.example"}} {
		if err := g.run(clone, "config", kv[0], kv[1]); err != nil {
			return err
		}
	}
	var files []string
	for _, a := range k.Articles {
		files = append(files, a.Path)
	}
	sort.Strings(files)

	fmt.Printf("\n| changed | round | git push | searchable after push start | after push returned | searches during push (failed) |\n|---:|---:|---:|---:|---:|---:|\n")
	next := 0
	for _, n := range sizes {
		if n > len(files) {
			return fmt.Errorf("-changes %d: the content has %d articles", n, len(files))
		}
		for r := 1; r <= rounds; r++ {
			word := fmt.Sprintf("pbq%dx%dz", n, r)
			for i := 0; i < n; i++ {
				p := filepath.Join(clone, filepath.FromSlash(files[(next+i)%len(files)]))
				f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(f, "\n\nSee also %s.\n", word)
				if cerr := f.Close(); err == nil {
					err = cerr
				}
				if err != nil {
					return err
				}
			}
			next += n
			if err := g.run(clone, "commit", "-qam", fmt.Sprintf("Change %d articles", n)); err != nil {
				return err
			}
			stop := make(chan struct{})
			var ok, failed atomic.Int64
			var wg sync.WaitGroup
			for s := 0; s < searchers; s++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						select {
						case <-stop:
							return
						default:
						}
						if _, err := count(base, "install package"); err != nil {
							failed.Add(1)
						} else {
							ok.Add(1)
						}
					}
				}()
			}
			start := time.Now()
			if err := g.run(clone, "push", "-q", "origin", "HEAD:main"); err != nil {
				close(stop)
				return err
			}
			pushed := time.Since(start)
			var found time.Duration
			for {
				c, err := count(base, word)
				if err != nil {
					close(stop)
					return err
				}
				if c > 0 {
					found = time.Since(start)
					break
				}
				if time.Since(start) > time.Minute {
					close(stop)
					return fmt.Errorf("%q not found a minute after the push started", word)
				}
				time.Sleep(5 * time.Millisecond)
			}
			close(stop)
			wg.Wait()
			after := found - pushed
			if after < 0 {
				after = 0
			}
			fmt.Printf("| %d | %d | %s | %s | %s | %d (%d) |\n", n, r, ms(pushed), ms(found), ms(after), ok.Load()+failed.Load(), failed.Load())
		}
	}
	return nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d.Microseconds())/1000) }

// count asks the search API for q and returns how many articles it found.
func count(base, q string) (int, error) {
	res, err := http.Get(base + "/api/search?q=" + url.QueryEscape(q) + "&lang=en")
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("search %q: status %d", q, res.StatusCode)
	}
	var out struct {
		Total int `json:"total"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		return 0, fmt.Errorf("search %q: %w", q, err)
	}
	return out.Total, nil
}

type gitRunner struct{ env []string }

func (g gitRunner) run(dir string, args ...string) error {
	cmd := exec.Command("git", args...)
	cmd.Dir, cmd.Env = dir, g.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("git %s: %w\n%s", args[0], err, out)
	}
	return nil
}

func gitVersion() string {
	out, err := exec.Command("git", "version").Output()
	if err != nil {
		return "git: " + err.Error()
	}
	return strings.TrimSpace(string(out))
}
