package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestResourceVerifiesTheDemo runs the demo server (the real binary, built
// here) with an asymmetric signing key and the resource server beside it:
// the resource server finds the keys through discovery, holding no secret,
// and answers as the demo does. Then the demo rolls its key over (restarted
// with a new signing key and the old one as a previous key): the resource
// server, not restarted, accepts the tokens of both keys.
func TestResourceVerifiesTheDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the demo server")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the demo with")
	}
	dir := t.TempDir()
	demo := filepath.Join(dir, "demo")
	build := exec.Command(goBin, "build", "-o", demo, "../server")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "building the demo: %s", out)

	_, ed, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	first := writeKey(t, dir, "first.pem", ed)
	second := writeKey(t, dir, "second.pem", ec)
	secrets := []string{
		"ACCESS_TOKEN_SECRET=", // no access secret: the signing key alone
		"REFRESH_TOKEN_SECRET=resource-test refresh secret, 32+ bytes",
		"DATABASE_URL=" + filepath.Join(dir, "demo.db"),
	}

	// The demo on a fixed free port, so that its issuer survives a restart.
	addr := freeAddr(t)
	issuer := "http://" + addr
	stopDemo := startDemo(t, demo, append(secrets, "ADDR="+addr, "ACCESS_TOKEN_SIGNING_KEY="+first))

	t.Setenv("ISSUER_URL", issuer)
	t.Setenv("ADDR", "127.0.0.1:0")
	t.Setenv("AUDIENCE", "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrc, done := make(chan string, 1), make(chan error, 1)
	go func() { done <- run(ctx, slog.New(slog.DiscardHandler), func(a string) { addrc <- a }) }()
	var resource string
	select {
	case a := <-addrc:
		resource = "http://" + a
	case err := <-done:
		t.Fatalf("the resource server stopped: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("the resource server did not start")
	}

	tokenMe := login(t, issuer, "")
	tokenItems := login(t, issuer, "items")
	status, body, challenge := getMe(t, resource, tokenMe)
	assert.Empty(t, challenge, "no challenge on success")
	assert.Equal(t, http.StatusOK, status)
	assert.JSONEq(t, `{"username":"johndoe"}`, body)
	status, _, challenge = getMe(t, resource, "")
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Equal(t, "Bearer", challenge)
	status, _, challenge = getMe(t, resource, tokenItems)
	assert.Equal(t, http.StatusForbidden, status)
	assert.Contains(t, challenge, `error="insufficient_scope"`)
	status, _, challenge = getMe(t, resource, tokenMe+"x")
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Contains(t, challenge, `error="invalid_token"`)

	// Rollover: the second key signs, the first still verifies.
	stopDemo()
	startDemo(t, demo, append(secrets, "ADDR="+addr, "ACCESS_TOKEN_SIGNING_KEY="+second, "ACCESS_TOKEN_PREVIOUS_KEYS="+first))
	tokenNew := login(t, issuer, "")
	for name, tok := range map[string]string{"the first key's token": tokenMe, "the second key's token": tokenNew} {
		status, body, _ := getMe(t, resource, tok)
		assert.Equal(t, http.StatusOK, status, name)
		assert.JSONEq(t, `{"username":"johndoe"}`, body, name)
	}
	cancel()
	require.NoError(t, <-done)
}

// writeKey writes key as a PKCS#8 PEM file and returns its path.
func writeKey(t *testing.T, dir, name string, key any) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600))
	return path
}

// freeAddr returns a loopback address nobody listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

var listening = regexp.MustCompile(`msg=listening addr=http://(\S+)`)

// startDemo starts the demo binary with env and waits until it listens. The
// returned func stops it; it is stopped when the test ends in any case.
func startDemo(t *testing.T, demo string, env []string) func() {
	t.Helper()
	cmd := exec.Command(demo)
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	stop := func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	}
	t.Cleanup(stop)
	found := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if listening.MatchString(sc.Text()) {
				close(found)
				break
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	select {
	case <-found:
	case <-time.After(time.Minute):
		t.Fatal("the demo did not start")
	}
	return stop
}

// login gets an access token from the demo for johndoe with scope.
func login(t *testing.T, issuer, scope string) string {
	t.Helper()
	form := url.Values{"username": {"johndoe"}, "password": {"secret"}}
	if scope != "" {
		form.Set("scope", scope)
	}
	resp, err := http.PostForm(issuer+"/api/auth/login", form)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var pair struct {
		AccessToken string `json:"access_token"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&pair))
	require.True(t, strings.HasPrefix(pair.AccessToken, "eyJ"))
	return pair.AccessToken
}

// getMe calls the resource server's /api/users/me with token ("" for none).
func getMe(t *testing.T, base, token string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/api/users/me", nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b), resp.Header.Get("WWW-Authenticate")
}
