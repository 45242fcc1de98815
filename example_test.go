package passauth_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/passauth/passauth"
)

// exampleHash is what passauth.HashPassword("secret") stored when the user
// signed up (at the lowest bcrypt cost, so the examples run fast).
const exampleHash = "$2a$04$C0j5BkV1hDV3nXYFhhl/xOJEybaH0PepPjqdB4VfSC0aw7ftACFR6"

// exampleConfig returns a Config with fixed secrets. Real services read
// them from the environment (ConfigFromEnv) or a secret store.
func exampleConfig() passauth.Config {
	return passauth.Config{
		AccessSecret:   []byte("example-access-secret-0123456789abcdef"),
		RefreshSecret:  []byte("example-refresh-secret-0123456789abcdef"),
		AccessTTL:      15 * time.Minute,
		RefreshTTL:     7 * 24 * time.Hour,
		PasswordHasher: passauth.Bcrypt{Cost: 4}, // the cost of exampleHash
	}
}

// The whole flow of a service: a login endpoint, a refresh endpoint and a
// protected endpoint on a plain http.ServeMux.
func Example() {
	iss, err := passauth.NewTokenIssuer(exampleConfig())
	if err != nil {
		log.Fatal(err)
	}
	users := passauth.UserLookupFunc(func(ctx context.Context, name string) (passauth.User, bool, error) {
		if name != "johndoe" {
			return passauth.User{}, false, nil
		}
		return passauth.User{PasswordHash: exampleHash}, true, nil
	})

	mux := http.NewServeMux()
	mux.Handle("/api/auth/login", iss.TokenHandler(users))
	mux.Handle("/api/auth/refresh", iss.RefreshHandler(users))
	mux.Handle("GET /api/users/me", iss.Authenticate(http.HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) {
			claims, _ := passauth.ClaimsFromContext(r.Context())
			fmt.Fprintf(w, "hello, %s", claims.Subject)
		})))

	srv := httptest.NewServer(mux)
	defer srv.Close()

	// Log in with the password grant, as an OAuth 2.0 client or Swagger UI does.
	resp, err := http.PostForm(srv.URL+"/api/auth/login", url.Values{
		"username": {"johndoe"},
		"password": {"secret"},
	})
	if err != nil {
		log.Fatal(err)
	}
	var pair passauth.TokenPair
	if err := json.NewDecoder(resp.Body).Decode(&pair); err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println("login:", resp.StatusCode, pair.TokenType, pair.ExpiresIn)

	// Call the protected endpoint with the access token.
	req, _ := http.NewRequest("GET", srv.URL+"/api/users/me", nil)
	req.Header.Set("Authorization", "Bearer "+pair.AccessToken)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println("me:", resp.StatusCode, string(body))

	// Without a token the endpoint asks for one.
	resp, err = http.Get(srv.URL + "/api/users/me")
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println("anonymous:", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))

	// Output:
	// login: 200 bearer 900
	// me: 200 hello, johndoe
	// anonymous: 401 Bearer
}

func ExampleTokenIssuer_IssuePair() {
	iss, err := passauth.NewTokenIssuer(exampleConfig())
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	pair, err := iss.IssuePair(ctx, "alice",
		passauth.WithScope("me", "items"),
		passauth.WithClaims(map[string]any{"tenant": "acme"}))
	if err != nil {
		log.Fatal(err)
	}

	claims, err := iss.VerifyAccess(ctx, pair.AccessToken)
	if err != nil {
		log.Fatal(err)
	}
	var extra struct {
		Tenant string `json:"tenant"`
	}
	if err := claims.Decode(&extra); err != nil {
		log.Fatal(err)
	}
	fmt.Println(claims.Subject, claims.Scope, claims.HasScope("items"), extra.Tenant)

	// A refresh token is not an access token.
	_, err = iss.VerifyAccess(ctx, pair.RefreshToken)
	fmt.Println(errors.Is(err, passauth.ErrTokenInvalid))

	// Output:
	// alice me items true acme
	// true
}

// Verification errors are checked with errors.Is: every failure matches
// ErrTokenInvalid, and an expired token also matches ErrTokenExpired.
func ExampleTokenIssuer_VerifyAccess_errorChecking() {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	cfg := exampleConfig()
	cfg.Now = func() time.Time { return now }
	iss, err := passauth.NewTokenIssuer(cfg)
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	pair, err := iss.IssuePair(ctx, "alice")
	if err != nil {
		log.Fatal(err)
	}
	now = now.Add(time.Hour) // the access token lives 15 minutes

	for _, token := range []string{pair.AccessToken, "not.a.token", pair.RefreshToken} {
		_, err := iss.VerifyAccess(ctx, token)
		switch {
		case err == nil:
			fmt.Println("valid")
		case errors.Is(err, passauth.ErrTokenExpired):
			fmt.Println("expired: refresh it")
		case errors.Is(err, passauth.ErrTokenInvalid):
			fmt.Println("invalid: log in again")
		}
	}

	// Output:
	// expired: refresh it
	// invalid: log in again
	// invalid: log in again
}

func ExampleTokenIssuer_Authenticate() {
	iss, err := passauth.NewTokenIssuer(exampleConfig())
	if err != nil {
		log.Fatal(err)
	}
	protected := iss.Authenticate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := passauth.ClaimsFromContext(r.Context())
		fmt.Fprint(w, claims.Subject)
	}))

	pair, err := iss.IssuePair(context.Background(), "alice")
	if err != nil {
		log.Fatal(err)
	}
	for _, authorization := range []string{"", "Bearer " + pair.AccessToken, "Bearer not-a-jwt"} {
		r := httptest.NewRequest("GET", "/api/users/me", nil)
		if authorization != "" {
			r.Header.Set("Authorization", authorization)
		}
		w := httptest.NewRecorder()
		protected.ServeHTTP(w, r)
		fmt.Println(w.Code, w.Header().Get("WWW-Authenticate"), strings.TrimSpace(w.Body.String()))
	}

	// Output:
	// 401 Bearer {"error_description":"Not authenticated"}
	// 200  alice
	// 401 Bearer error="invalid_token", error_description="Invalid token" {"error":"invalid_token","error_description":"Invalid token"}
}

func ExampleCheckPassword() {
	// hash, err := passauth.HashPassword("secret") when the user signs up;
	// hashes from Python's bcrypt or passlib ($2b$) verify the same way.
	for _, password := range []string{"secret", "guess"} {
		err := passauth.CheckPassword(exampleHash, password)
		fmt.Println(password, err == nil, errors.Is(err, passauth.ErrPasswordMismatch))
	}

	// Output:
	// secret true false
	// guess false true
}

// A user store finds users by name at login and by ID at refresh. The
// tokens' "sub" is the user's ID, whatever case the name was typed in, and
// they carry the user's role.
func ExampleUser() {
	type account struct{ id, name, hash, role string }
	accounts := []account{{id: "u-1001", name: "johndoe", hash: exampleHash, role: "admin"}}
	user := func(a account) passauth.User {
		return passauth.User{
			Username:     a.name,
			Subject:      a.id,
			PasswordHash: a.hash,
			Claims:       map[string]any{"role": a.role},
		}
	}
	users := exampleUsers{
		byName: func(name string) (passauth.User, bool) {
			for _, a := range accounts {
				if strings.EqualFold(a.name, name) {
					return user(a), true
				}
			}
			return passauth.User{}, false
		},
		byID: func(id string) (passauth.User, bool) {
			for _, a := range accounts {
				if a.id == id {
					return user(a), true
				}
			}
			return passauth.User{}, false
		},
	}

	cfg := exampleConfig()
	cfg.Store = passauth.NewMemoryStore()
	iss, err := passauth.NewTokenIssuer(cfg)
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(iss.TokenHandler(users))
	defer srv.Close()
	resp, err := http.PostForm(srv.URL, url.Values{"username": {"JohnDoe"}, "password": {"secret"}})
	if err != nil {
		log.Fatal(err)
	}
	var pair passauth.TokenPair
	if err := json.NewDecoder(resp.Body).Decode(&pair); err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()

	// Refreshing looks the user up by "sub" (LookupSubject): the ID.
	next, err := iss.Refresh(context.Background(), pair.RefreshToken)
	if err != nil {
		log.Fatal(err)
	}
	claims, err := iss.VerifyAccess(context.Background(), next.AccessToken)
	if err != nil {
		log.Fatal(err)
	}
	var app struct {
		Role string `json:"role"`
	}
	if err := claims.Decode(&app); err != nil {
		log.Fatal(err)
	}
	fmt.Println(claims.Subject, app.Role)

	// Output:
	// u-1001 admin
}

// exampleUsers is a passauth.SubjectLookup over two functions.
type exampleUsers struct {
	byName, byID func(string) (passauth.User, bool)
}

func (u exampleUsers) LookupUser(_ context.Context, name string) (passauth.User, bool, error) {
	user, ok := u.byName(name)
	return user, ok, nil
}

func (u exampleUsers) LookupSubject(_ context.Context, id string) (passauth.User, bool, error) {
	user, ok := u.byID(id)
	return user, ok, nil
}

// A "your devices" page lists the caller's sessions and logs the others
// out, as after a password change.
func ExampleTokenIssuer_Sessions() {
	cfg := exampleConfig()
	cfg.Store = passauth.NewMemoryStore()
	iss, err := passauth.NewTokenIssuer(cfg)
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	var current string
	for _, client := range []string{"phone", "laptop", "tablet"} {
		pair, err := iss.IssuePair(ctx, "alice", passauth.WithClientID(client))
		if err != nil {
			log.Fatal(err)
		}
		if client == "laptop" { // the device the request comes from
			claims, err := iss.VerifyAccess(ctx, pair.AccessToken)
			if err != nil {
				log.Fatal(err)
			}
			current = claims.SessionID
		}
	}

	show := func() {
		list, err := iss.Sessions(ctx, "alice")
		if err != nil {
			log.Fatal(err)
		}
		var devices []string
		for _, s := range list {
			devices = append(devices, fmt.Sprintf("%s current=%v", s.ClientID, s.ID == current))
		}
		fmt.Println(strings.Join(devices, "; "))
	}
	show()
	if err := iss.RevokeOtherSessions(ctx, "alice", current); err != nil {
		log.Fatal(err)
	}
	show()
	err = iss.RevokeSession(ctx, "bob", current)
	fmt.Println(errors.Is(err, passauth.ErrNoSession))

	// Output:
	// phone current=false; laptop current=true; tablet current=false
	// laptop current=true
	// true
}
