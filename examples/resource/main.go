// Command resource is a resource server beside the passauth demo: a service
// that verifies the demo's access tokens but holds no secret and cannot mint
// any. It finds the demo's public keys through its RFC 8414 metadata and
// JWKS (passauth.NewVerifier with Discover), so the demo must sign access
// tokens with an asymmetric key (ACCESS_TOKEN_SIGNING_KEY).
//
//	go run ./examples/server     # with ACCESS_TOKEN_SIGNING_KEY set
//	go run ./examples/resource   # verifies its tokens
//
// Variables:
//
//   - ADDR: the listening address (default 127.0.0.1:8001);
//   - ISSUER_URL: the demo's issuer (default http://127.0.0.1:8000), whose
//     /.well-known/oauth-authorization-server names its jwks_uri;
//   - AUDIENCE: when set, required in the tokens' "aud".
//
// Routes:
//
//	GET /api/users/me  {"username": <sub>}; a Bearer access token with scope me,
//	                   with the demo's own 401 and 403 answers
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/passauth/passauth"
	"github.com/passauth/passauth/examples/internal/servers"
)

const (
	defaultAddr      = "127.0.0.1:8001"
	defaultIssuerURL = "http://127.0.0.1:8000"
	startupFetch     = 5 * time.Second
)

func main() { servers.Main("resource server", run) }

// run serves until ctx is done; ready, when not nil, gets the address once
// the server listens.
func run(ctx context.Context, logger *slog.Logger, ready func(addr string)) error {
	issuer := getenvOr("ISSUER_URL", defaultIssuerURL)
	v, err := passauth.NewVerifier(passauth.VerifierConfig{
		Issuer:   issuer,
		Audience: os.Getenv("AUDIENCE"),
		Discover: true,
		OnEvent:  passauth.LogEvents(logger),
	})
	if err != nil {
		return fmt.Errorf("ISSUER_URL: %w", err)
	}
	// Fetch the keys now, so that a wrong ISSUER_URL shows at once; the
	// server starts anyway, answering 503 until the issuer answers.
	fetchCtx, cancel := context.WithTimeout(ctx, startupFetch)
	if err := v.Refresh(fetchCtx); err != nil {
		logger.Warn("the issuer's keys are not available yet", "issuer", issuer, "err", err)
	}
	cancel()

	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", getenvOr("ADDR", defaultAddr))
	if err != nil {
		return err
	}
	return servers.Serve(ctx, ln, newHandler(v), logger, ready, "issuer", issuer)
}

// newHandler returns the resource server's routes, verified by v.
func newHandler(v *passauth.Verifier) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /api/users/me", v.Authenticate(passauth.RequireScope("me")(http.HandlerFunc(me))))
	return mux
}

// me answers the authenticated user's name, as the demo does.
func me(w http.ResponseWriter, r *http.Request) {
	claims, ok := passauth.ClaimsFromContext(r.Context())
	if !ok {
		http.Error(w, "no claims", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(struct {
		Username string `json:"username"`
	}{claims.Subject})
}

func getenvOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
