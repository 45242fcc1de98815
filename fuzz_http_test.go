package passauth_test

// Fuzz targets of the HTTP entry points, over the shared fixture: the
// Authorization header the middleware reads, and the bodies and headers of
// the token and refresh endpoints.

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/passauth/passauth"
)

func FuzzAuthorizationHeader(f *testing.F) {
	fx, pair, expired := fuzzHTTPFixture(f)
	// The one token the middleware may accept; the fuzzing processes each
	// issue their own pair, so it must not come from IssuePair.
	valid := passauth.TokenPair{AccessToken: fixedAccessToken(f), RefreshToken: pair.RefreshToken}
	if _, err := fx.iss.VerifyAccess(context.Background(), valid.AccessToken); err != nil {
		f.Fatalf("the fixed token does not verify: %v", err)
	}
	seeds := []string{
		"Bearer " + valid.AccessToken, "bearer " + valid.AccessToken, "BEARER  " + valid.AccessToken,
		"Bearer " + valid.AccessToken + "=", "Bearer " + valid.AccessToken + " ", "Bearer\t" + valid.AccessToken,
		"Bearer " + valid.AccessToken[:20] + " " + valid.AccessToken[20:],
		"Bearer " + valid.RefreshToken, "Bearer " + expired.AccessToken,
		"", "Bearer", "Bearer ", "Bearer ==", "Bearer abc!def", "Bearer a.b.c", `Bearer "x"`,
		"Basic " + b64("alice:x"), "Token abc", "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		var calls int
		var subject string
		h := fx.iss.Authenticate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls++
			if c, ok := passauth.ClaimsFromContext(r.Context()); ok {
				subject = c.Subject
			}
			w.WriteHeader(http.StatusOK)
		}))
		rec := do(t, h, httpReq{method: http.MethodGet, header: []string{"Authorization", header}})

		want := acceptableBearer(header, valid.AccessToken)
		switch rec.Code {
		case http.StatusOK:
			if !want || calls != 1 || subject != "alice" {
				t.Fatalf("accepted a header that is not a spelling of the valid token (%d calls)", calls)
			}
			return
		case http.StatusBadRequest, http.StatusUnauthorized:
			if want {
				t.Fatalf("status %d for an acceptable spelling of the valid token", rec.Code)
			}
		default:
			t.Fatalf("status %d", rec.Code)
		}
		if calls != 0 {
			t.Fatal("next handler called on a failure")
		}
		if c := rec.Header().Get("WWW-Authenticate"); c != "Bearer" && !strings.HasPrefix(c, `Bearer error="`) {
			t.Fatalf("status %d with challenge %q", rec.Code, c)
		}
		if bytes.Contains(rec.Body.Bytes(), []byte(valid.AccessToken)) {
			t.Fatal("error body contains the token")
		}
	})
}

// fuzzEpoch is the clock of the fuzz fixtures: fixed, unlike testEpoch,
// so that every fuzzing process mints the same fixedAccessToken.
var fuzzEpoch = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// fuzzHTTPFixture is a fixture at fuzzEpoch whose lookup never fails, with
// a valid pair for alice and an expired one, for seeding.
func fuzzHTTPFixture(f *testing.F) (fx *fixture, valid, expired passauth.TokenPair) {
	fx = newFixture(f)
	fx.clock.Set(fuzzEpoch)
	// failingUser is just an unknown name here: a fuzzed body may name it.
	users := passauth.UserLookupFunc(func(ctx context.Context, name string) (passauth.User, bool, error) {
		if name == failingUser {
			return passauth.User{}, false, nil
		}
		return fx.users.LookupUser(ctx, name)
	})
	fx.token = fx.iss.TokenHandler(users)
	fx.refresh = fx.iss.RefreshHandler(users)
	ctx := context.Background()
	valid, err := fx.iss.IssuePair(ctx, "alice", passauth.WithScope("me items"), passauth.WithClientID("web"))
	if err != nil {
		f.Fatal(err)
	}
	expired, err = newIssuer(f, at(fuzzEpoch.Add(-2*testRefreshTTL))).IssuePair(ctx, "alice")
	if err != nil {
		f.Fatal(err)
	}
	return fx, valid, expired
}

// acceptableBearer reports whether header is one of the spellings of
// "Bearer <token>" the middleware must accept: the scheme in any case, one
// or more spaces, the token itself.
func acceptableBearer(header, token string) bool {
	scheme, rest, ok := strings.Cut(header, " ")
	return ok && strings.EqualFold(scheme, "Bearer") && strings.TrimLeft(rest, " ") == token
}

// fixedAccessToken is an access token for alice, valid at fuzzEpoch,
// signed with golang-jwt rather than by the issuer and with a fixed "jti",
// so that every fuzzing process computes the same string.
func fixedAccessToken(tb testing.TB) string {
	tb.Helper()
	return mintHS256(tb, nil, map[string]any{
		"jti":   "fixed-fuzz-token",
		"scope": "me",
		"iat":   fuzzEpoch.Unix(),
		"exp":   fuzzEpoch.Add(testAccessTTL).Unix(),
	})
}

func FuzzTokenRequest(f *testing.F) {
	fx, valid, expired := fuzzHTTPFixture(f)
	login := formBody("username", "alice", "password", alicePassword)
	seeds := []struct{ contentType, authz, body string }{
		{form, "", login},
		{form, "", login + "&grant_type=password&scope=me+other"},
		{form + "; charset=UTF-8", basic("", ""), login},
		{form, basic("web", ""), login + "&client_id=web"},
		{form, basic("web", ""), login + "&client_secret=x"},
		{form, "Basic !!!", login},
		{form, "", formBody("username", "bob", "password", bobPassword, "scope", "me")},
		{form, "", formBody("username", "carol", "password", carolPassword)},
		{form, "", formBody("username", "mallory", "password", alicePassword)},
		{form, "", formBody("username", "alice", "password", "wrong")},
		{form, "", "username=alice&username=alice&password=x"},
		{form, "", "username=alice&password=%zz"},
		{form, "", "username=alice;password=x"},
		{form, "", padForm(login, testMaxBody+1)},
		{form, "", formBody("grant_type", "client_credentials")},
		{form, "", formBody("username", "alice", "password", alicePassword, "scope", `me"`)},
		{form, "", formBody("grant_type", "refresh_token", "refresh_token", valid.RefreshToken)},
		{form, "", formBody("grant_type", "refresh_token", "refresh_token", valid.RefreshToken, "scope", "items", "client_id", "web")},
		{form, "", formBody("grant_type", "refresh_token", "refresh_token", valid.RefreshToken, "scope", "other")},
		{form, "", formBody("grant_type", "refresh_token", "refresh_token", valid.AccessToken)},
		{form, "", formBody("grant_type", "refresh_token", "refresh_token", expired.RefreshToken)},
		{form, "", formBody("grant_type", "refresh_token")},
		{"application/json", "", `{"username":"alice","password":"x"}`},
		{"text/plain", "", login},
		{"", "", login},
		{"", "", ""},
	}
	for _, s := range seeds {
		f.Add(s.contentType, s.authz, s.body)
	}
	f.Fuzz(func(t *testing.T, contentType, authz, body string) {
		rec := fuzzServe(t, fx.token, contentType, authz, body)
		switch rec.Code {
		case http.StatusOK:
			var pair passauth.TokenPair
			if err := json.Unmarshal(rec.Body.Bytes(), &pair); err != nil {
				t.Fatal("200 with a body that is not a token pair")
			}
			if _, err := fx.iss.VerifyAccess(context.Background(), pair.AccessToken); err != nil {
				t.Fatalf("200 with an access token that does not verify: %v", err)
			}
		case http.StatusBadRequest:
			var e oauthError
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error == "" {
				t.Fatal("400 without an error code")
			}
			switch e.Error {
			case "invalid_request", "invalid_grant", "invalid_scope", "unsupported_grant_type":
			default:
				t.Fatalf("400 with error %q", e.Error)
			}
		case http.StatusTooManyRequests:
			// The fixture's limiters are shared by every input: failed logins
			// add up, and throttling is a correct answer.
			var e oauthError
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error != "slow_down" {
				t.Fatal("429 without error slow_down")
			}
			if rec.Header().Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
		default:
			t.Fatalf("status %d", rec.Code)
		}
	})
}

// fuzzServe runs one POST with optional Content-Type and Authorization
// headers ("" leaves them out) and checks the properties every answer has.
func fuzzServe(t *testing.T, h http.Handler, contentType, authz, body string) *httptest.ResponseRecorder {
	t.Helper()
	r := httpReq{contentType: contentType, body: body}
	if authz != "" {
		r.header = []string{"Authorization", authz}
	}
	rec := do(t, h, r)
	if !json.Valid(rec.Body.Bytes()) {
		t.Errorf("status %d with a body that is not JSON", rec.Code)
	}
	if rec.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("status %d without Cache-Control: no-store", rec.Code)
	}
	return rec
}

func FuzzRefreshRequest(f *testing.F) {
	fx, valid, expired := fuzzHTTPFixture(f)
	jsonBody := func(tok string) string { return `{"refresh_token":"` + tok + `"}` }
	seeds := []struct{ contentType, authz, body string }{
		{"application/json", "", jsonBody(valid.RefreshToken)},
		{"application/json; charset=utf-8", "", jsonBody(valid.RefreshToken)},
		{form, "", formBody("refresh_token", valid.RefreshToken)},
		{"", "Bearer " + valid.RefreshToken, ""},
		{"application/json", "Bearer " + valid.RefreshToken, jsonBody(valid.RefreshToken)},
		{form, "Bearer " + valid.RefreshToken, formBody("refresh_token", valid.RefreshToken)},
		{"application/json", "", jsonBody(expired.RefreshToken)},
		{"application/json", "", jsonBody(valid.AccessToken)},
		{"application/json", "", `{"refresh_token":` + `123}`},
		{"application/json", "", jsonBody(valid.RefreshToken) + " x"},
		{"application/json", "", `{"refresh_token":"`},
		{"application/json", "", `{}`},
		{"application/json", "", ""},
		{form, "", "refresh_token=a&refresh_token=b"},
		{"text/plain", "", valid.RefreshToken},
		{"", "Bearer", ""},
		{"", "Basic " + b64(":"), ""},
		{"", "", ""},
	}
	for _, s := range seeds {
		f.Add(s.contentType, s.authz, s.body)
	}
	f.Fuzz(func(t *testing.T, contentType, authz, body string) {
		rec := fuzzServe(t, fx.refresh, contentType, authz, body)
		challenge := rec.Header().Get("WWW-Authenticate")
		switch rec.Code {
		case http.StatusOK:
			var pair passauth.TokenPair
			if err := json.Unmarshal(rec.Body.Bytes(), &pair); err != nil {
				t.Fatal("200 with a body that is not a token pair")
			}
			claims, err := fx.iss.VerifyAccess(context.Background(), pair.AccessToken)
			if err != nil || claims.Subject != "alice" {
				t.Fatalf("200 with an access token that does not verify as alice's: %v", err)
			}
		case http.StatusBadRequest:
			if !strings.HasPrefix(challenge, `Bearer error="invalid_request"`) {
				t.Fatalf("400 with challenge %q", challenge)
			}
		case http.StatusUnauthorized:
			if !strings.HasPrefix(challenge, `Bearer error="invalid_token"`) {
				t.Fatalf("401 with challenge %q", challenge)
			}
		default:
			t.Fatalf("status %d", rec.Code)
		}
	})
}
