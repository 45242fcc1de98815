package passauth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/passauth/passauth"
)

// fuzzHTTPFixture is a fixture whose lookup never fails, with a valid pair
// for alice and an expired one, for seeding.
func fuzzHTTPFixture(f *testing.F) (fx *httpFixture, valid, expired passauth.TokenPair) {
	fx = newHTTPFixture(f)
	fx.token = fx.iss.TokenHandler(fx.users.lookup(false))
	fx.refresh = fx.iss.RefreshHandler(fx.users.lookup(false))
	ctx := context.Background()
	valid, err := fx.iss.IssuePair(ctx, "alice", passauth.WithScope("me items"), passauth.WithClientID("web"))
	if err != nil {
		f.Fatal(err)
	}
	past := newHTTPFixture(f)
	past.clock.Advance(-2 * httpRefreshTTL)
	expired, err = past.iss.IssuePair(ctx, "alice")
	if err != nil {
		f.Fatal(err)
	}
	return fx, valid, expired
}

// fuzzServe runs one request with optional Content-Type and Authorization
// headers ("" leaves them out) and checks the properties every answer has.
func fuzzServe(t *testing.T, h http.Handler, target, contentType, authz, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
	if contentType != "" {
		r.Header["Content-Type"] = []string{contentType}
	}
	if authz != "" {
		r.Header["Authorization"] = []string{authz}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	assertNoLeak(t, rec.Body.Bytes())
	if !json.Valid(rec.Body.Bytes()) {
		t.Errorf("status %d with a body that is not JSON", rec.Code)
	}
	if rec.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("status %d without Cache-Control: no-store", rec.Code)
	}
	return rec
}

// acceptableBearer reports whether header is one of the spellings of
// "Bearer <token>" the middleware must accept: the scheme in any case, one
// or more spaces, the token itself.
func acceptableBearer(header, token string) bool {
	scheme, rest, ok := strings.Cut(header, " ")
	return ok && strings.EqualFold(scheme, "Bearer") && strings.TrimLeft(rest, " ") == token
}

// fixedAccessToken is an access token for alice, valid at the fixtures'
// clock, signed here with golang-jwt rather than by the issuer and with a
// fixed "jti", so that every fuzzing process computes the same string.
func fixedAccessToken(tb testing.TB) string {
	tb.Helper()
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub":   "alice",
		"jti":   "fixed-fuzz-token",
		"scope": "me",
		"iat":   httpEpoch.Unix(),
		"exp":   httpEpoch.Add(httpAccessTTL).Unix(),
	})
	t.Header["typ"] = passauth.AccessTokenType
	s, err := t.SignedString(httpAccessSecret)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

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
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header["Authorization"] = []string{header}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)

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
		{form, "", padForm(login, httpMaxBody+1)},
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
		rec := fuzzServe(t, fx.token, "/", contentType, authz, body)
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
		rec := fuzzServe(t, fx.refresh, "/", contentType, authz, body)
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
