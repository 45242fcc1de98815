package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// walkThroughMarker precedes the README's curl walk-through.
const walkThroughMarker = "<!-- walk-through: examples/server/readme_test.go runs the next sh block -->"

// restartLine is the walk-through's line at which the reader restarts the
// demo; the test restarts it there.
const restartLine = "# Restart the server (Ctrl-C, then go run ./examples/server again): users are kept in passauth-demo.db."

// TestReadmeWalkThrough runs the README's curl walk-through, as a newcomer
// pasting it would, against the demo as `go run ./examples/server` starts
// it (embedded defaults: random secrets, the SQLite file), and checks each
// answer against the "#=> " line that follows its command, where "…" stands
// for any text. Where the walk-through restarts the server, the script asks
// the test to (on fd 3) and waits for the new address (on fd 4).
func TestReadmeWalkThrough(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed (scripts/test.sh installs it)")
	}
	script, want := walkThrough(t, "../../README.md")
	require.NotEmpty(t, want, "the walk-through shows no answers")
	require.Equal(t, 1, strings.Count(script, restartLine+"\n"), "the walk-through restarts the server once")
	script = strings.Replace(script, restartLine+"\n", "echo restart >&3; read -r BASE <&4\n", 1)

	env := map[string]string{"ADDR": "127.0.0.1:0", "DATABASE_URL": filepath.Join(t.TempDir(), "passauth-demo.db")}
	r := startRun(t, env)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	asks, asked, err := os.Pipe()
	require.NoError(t, err)
	answer, answers, err := os.Pipe()
	require.NoError(t, err)
	cmd := exec.CommandContext(ctx, "bash", "-e", "-o", "pipefail", "-c", script)
	cmd.Env = append(os.Environ(), "BASE=http://"+r.addr)
	cmd.ExtraFiles = []*os.File{asked, answer} // fds 3 and 4
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Start())
	asked.Close()
	answer.Close()
	// The script holds fd 3 until it ends: reading it waits for the ask,
	// or for the end of a script that never asks.
	line, err := bufio.NewReader(asks).ReadString('\n')
	if err == nil {
		require.Equal(t, "restart\n", line)
		require.NoError(t, r.stop())
		r = startRun(t, env)
		_, err = fmt.Fprintf(answers, "http://%s\n", r.addr)
		require.NoError(t, err)
	}
	answers.Close()
	runErr := cmd.Wait()
	asks.Close()
	require.NoError(t, runErr, "the walk-through failed; its stderr:\n%s", stderr.String())

	got := strings.Split(strings.TrimRight(stdout.String(), "\n"), "\n")
	require.Len(t, got, len(want), "the walk-through printed %d lines for %d answers:\n%s", len(got), len(want), stdout.String())
	for i := range want {
		assert.True(t, matches(want[i], got[i]), "answer %d:\n got  %q\n want %q", i+1, got[i], want[i])
	}
	require.NoError(t, r.stop())
}

// walkThrough returns the sh block after walkThroughMarker in the README at
// path, and the answers it shows: its "#=> " lines, in order.
func walkThrough(t *testing.T, path string) (script string, answers []string) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var b strings.Builder
	state := 0 // 0: before the marker, 1: before the block, 2: in it
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case state == 0 && line == walkThroughMarker:
			state = 1
		case state == 1 && line == "```sh":
			state = 2
		case state == 1:
			t.Fatalf("README: %q is not directly followed by a sh block", walkThroughMarker)
		case state == 2 && line == "```":
			return b.String(), answers
		case state == 2:
			b.WriteString(line)
			b.WriteByte('\n')
			if a, ok := strings.CutPrefix(line, "#=> "); ok {
				answers = append(answers, a)
			}
		}
	}
	require.NoError(t, sc.Err())
	t.Fatalf("README: no complete walk-through block after %q", walkThroughMarker)
	return "", nil
}

// matches reports whether got is want, each "…" in want standing for any
// text, possibly empty.
func matches(want, got string) bool {
	parts := strings.Split(want, "…")
	if len(parts) == 1 {
		return got == want
	}
	last := parts[len(parts)-1]
	if !strings.HasPrefix(got, parts[0]) || len(got) < len(parts[0])+len(last) {
		return false
	}
	got = got[len(parts[0]):]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(got, p)
		if i < 0 {
			return false
		}
		got = got[i+len(p):]
	}
	return strings.HasSuffix(got, last)
}

func TestMatches(t *testing.T) {
	tests := []struct {
		want, got string
		ok        bool
	}{
		{"200", "200", true},
		{"200", "2000", false},
		{`{"a":"eyJ…","b":1}`, `{"a":"eyJxyz","b":1}`, true},
		{`{"a":"eyJ…","b":1}`, `{"a":"eyJxyz","b":2}`, false},
		{`x…y…z`, `xAyBz`, true},
		{`x…y…z`, `xAzBy`, false},
		{`…`, ``, true},
		{`a…a`, `a`, false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.ok, matches(tt.want, tt.got), "matches(%q, %q)", tt.want, tt.got)
	}
}
