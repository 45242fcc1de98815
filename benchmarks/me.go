package benchmarks

import (
	"encoding/json"
	"net/http"

	"github.com/passauth/passauth"
)

// The demo's GET /api/users/me, for the protected-request benchmarks
// (BenchmarkProtected and cmd/mebench, which wrk.sh loads): what it
// writes, and how the demo guards it.

// MeBody is what Me answers for the subject johndoe.
const MeBody = `{"username":"johndoe"}` + "\n"

// Me is the demo's /me handler: {"username": <sub>} and a newline, as
// application/json with Cache-Control no-store, written with
// json.NewEncoder as the demo's writeJSON does. It must sit behind
// Authenticate.
func Me(w http.ResponseWriter, r *http.Request) {
	claims, _ := passauth.ClaimsFromContext(r.Context())
	writeMe(w, claims.Subject)
}

// BareMe is a handler that writes what Me writes for subject, without
// authentication: the baseline.
func BareMe(subject string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeMe(w, subject)
	})
}

// ProtectedMe is Me as the demo wires it: behind iss.Authenticate and
// RequireScope("me").
func ProtectedMe(iss *passauth.TokenIssuer) http.Handler {
	return iss.Authenticate(passauth.RequireScope("me")(http.HandlerFunc(Me)))
}

func writeMe(w http.ResponseWriter, name string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(struct {
		Username string `json:"username"`
	}{name})
}
