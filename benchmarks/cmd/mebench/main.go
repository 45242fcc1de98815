// Command mebench serves the demo's GET /api/users/me several ways side by
// side, each on its own loopback port, for benchmarks/wrk.sh to load one
// after the other:
//
//	bare                a plain net/http handler writing what /me writes
//	passauth            iss.Authenticate(passauth.RequireScope("me")(me)),
//	                    Config.CheckRevoked with a passauth.MemoryStore, no
//	                    verified-token cache (the demo's defaults)
//	passauth-cache      the same with Config.VerifyCacheSize set
//	passauth-cache-norevoke
//	                    the cache without CheckRevoked: what the denylist
//	                    lookup costs on a cache hit
//	sqlite              passauth with CheckRevoked on a sqlstore over a
//	                    SQLite file, opened as the demo opens its default
//	                    database (WAL, synchronous NORMAL), no cache
//	sqlite-cache        the same with the cache: the demo's wiring with
//	                    VERIFY_CACHE_SIZE set
//
// Every case answers {"username":"johndoe"} and a newline, with
// Content-Type application/json and Cache-Control no-store, written the
// way the demo's writeJSON writes it (benchmarks.Me and benchmarks.BareMe),
// behind the demo's http.Server timeouts. The passauth cases share one MemoryStore and one
// pair of random secrets (the sqlite cases their own store, in a temporary
// directory removed at exit), so the one access token mebench mints at start
// (subject johndoe, scope me, a day's life) is valid on all of them; it is
// written to -token-file, never printed. Before it says it is ready,
// mebench checks each case: 200 and the body above with the token, and
// 401 without it on the passauth cases.
//
// mebench prints "CASE URL" for each case, then "ready", on stdout. It
// exits on SIGINT or SIGTERM, or after -max-life at the latest, writing
// the CPU profile -cpuprofile names, if any.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"

	"database/sql"
	"net/url"
	"path/filepath"

	"github.com/passauth/passauth"
	"github.com/passauth/passauth/benchmarks"
	"github.com/passauth/passauth/sqlstore"
	_ "modernc.org/sqlite" // the demo's SQLite driver
)

const subject = "johndoe"

func main() {
	tokenFile := flag.String("token-file", "", "write the access token to this file (mode 0600); required")
	cacheSize := flag.Int("cache", 10000, "Config.VerifyCacheSize of the cached cases")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	maxLife := flag.Duration("max-life", 30*time.Minute, "exit after this long at the latest")
	flag.Parse()
	if *tokenFile == "" || *cacheSize <= 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*tokenFile, *cacheSize, *cpuProfile, *maxLife); err != nil {
		log.Fatalf("mebench: %v", err)
	}
}

// benchCase is one way of serving /api/users/me.
type benchCase struct {
	name      string
	handler   http.Handler
	protected bool // answers 401 without a token
}

func run(tokenFile string, cacheSize int, cpuProfile string, maxLife time.Duration) error {
	store := passauth.NewMemoryStore()
	base := passauth.Config{
		AccessSecret:  randomSecret(),
		RefreshSecret: randomSecret(),
		AccessTTL:     24 * time.Hour,
		RefreshTTL:    48 * time.Hour,
		Store:         store,
	}
	issuer := func(cacheSize int, checkRevoked bool) (*passauth.TokenIssuer, error) {
		cfg := base
		cfg.VerifyCacheSize = cacheSize
		cfg.CheckRevoked = checkRevoked
		return passauth.NewTokenIssuer(cfg)
	}
	sqliteStore, closeDB, err := openSQLite()
	if err != nil {
		return err
	}
	defer closeDB()
	sqliteIssuer := func(cacheSize int) (*passauth.TokenIssuer, error) {
		cfg := base
		cfg.Store = sqliteStore
		cfg.VerifyCacheSize = cacheSize
		cfg.CheckRevoked = true
		return passauth.NewTokenIssuer(cfg)
	}
	onSQLite, err := sqliteIssuer(0)
	if err != nil {
		return err
	}
	onSQLiteCached, err := sqliteIssuer(cacheSize)
	if err != nil {
		return err
	}
	plain, err := issuer(0, true)
	if err != nil {
		return err
	}
	cached, err := issuer(cacheSize, true)
	if err != nil {
		return err
	}
	cachedNoRevoke, err := issuer(cacheSize, false)
	if err != nil {
		return err
	}
	pair, err := plain.IssuePair(context.Background(), subject, passauth.WithScope("me"))
	if err != nil {
		return err
	}
	if err := os.WriteFile(tokenFile, []byte(pair.AccessToken), 0o600); err != nil {
		return err
	}

	cases := []benchCase{
		{"bare", benchmarks.BareMe(subject), false},
		{"passauth", benchmarks.ProtectedMe(plain), true},
		{"passauth-cache", benchmarks.ProtectedMe(cached), true},
		{"passauth-cache-norevoke", benchmarks.ProtectedMe(cachedNoRevoke), true},
		{"sqlite", benchmarks.ProtectedMe(onSQLite), true},
		{"sqlite-cache", benchmarks.ProtectedMe(onSQLiteCached), true},
	}

	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer func() {
			pprof.StopCPUProfile()
			_ = f.Close()
		}()
	}

	served := make(chan error, len(cases))
	var servers []*http.Server
	for _, c := range cases {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		mux := http.NewServeMux()
		mux.Handle("GET /api/users/me", c.handler)
		// The demo's server settings (examples/server/main.go).
		srv := &http.Server{
			Handler:           mux,
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       10 * time.Second,
			WriteTimeout:      10 * time.Second,
			IdleTimeout:       60 * time.Second,
			MaxHeaderBytes:    16 << 10,
		}
		servers = append(servers, srv)
		go func() { served <- srv.Serve(ln) }()
		url := "http://" + ln.Addr().String() + "/api/users/me"
		if err := check(url, pair.AccessToken, c.protected); err != nil {
			return fmt.Errorf("case %s: %w", c.name, err)
		}
		fmt.Printf("%s %s\n", c.name, url)
	}
	fmt.Println("ready")

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	select {
	case <-stop:
	case <-time.After(maxLife):
		log.Printf("mebench: stopping after -max-life %v", maxLife)
	case err := <-served:
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, srv := range servers {
		_ = srv.Shutdown(ctx)
	}
	return nil
}

// check makes sure url answers as /me does, with token and, when
// protected, 401 without it.
func check(url, token string, protected bool) error {
	client := &http.Client{Timeout: 5 * time.Second}
	get := func(token string) (*http.Response, string, error) {
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			return nil, "", err
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, "", err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		return resp, string(body), err
	}
	resp, body, err := get(token)
	switch {
	case err != nil:
		return err
	case resp.StatusCode != http.StatusOK || body != benchmarks.MeBody:
		return fmt.Errorf("answered %d %q with the token", resp.StatusCode, body)
	case resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("Cache-Control") != "no-store":
		return errors.New("answered without the headers /me writes")
	}
	if !protected {
		return nil
	}
	resp, _, err = get("")
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusUnauthorized {
		return fmt.Errorf("answered %d without a token", resp.StatusCode)
	}
	return nil
}

// openSQLite opens a sqlstore on a new SQLite file in a temporary
// directory, with the demo's settings (examples/server/database.go), and
// returns it with the function that closes it and removes the directory.
func openSQLite() (passauth.Store, func(), error) {
	dir, err := os.MkdirTemp("", "mebench-")
	if err != nil {
		return nil, nil, err
	}
	q := url.Values{"_pragma": {"busy_timeout(5000)", "journal_mode(WAL)", "synchronous(NORMAL)"}, "_txlock": {"immediate"}}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "sessions.db")+"?"+q.Encode())
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, nil, err
	}
	closeDB := func() {
		_ = db.Close()
		_ = os.RemoveAll(dir)
	}
	store, err := sqlstore.New(db, sqlstore.SQLite)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = store.Migrate(ctx)
		cancel()
	}
	if err != nil {
		closeDB()
		return nil, nil, err
	}
	return store, closeDB, nil
}

// randomSecret returns a fresh 32-byte secret: the tokens live only as long
// as the process.
func randomSecret() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return b
}
