package interop_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/oauth2"

	"github.com/passauth/passauth"
)

const (
	accessTTL  = 15 * time.Minute
	refreshTTL = 24 * time.Hour
)

// clock is the passauth server's injected clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// tokenRequest is what the token endpoint received from the client.
type tokenRequest struct {
	form          url.Values
	authorization string
}

// server is a passauth token endpoint at /token and a protected /me, with
// one user, johndoe / secret, who holds the scopes "me" and "items".
type server struct {
	*httptest.Server
	iss   *passauth.TokenIssuer
	clock *clock

	mu       sync.Mutex
	requests []tokenRequest
}

func newServer(t *testing.T) *server {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte("secret"), bcrypt.MinCost)
	require.NoError(t, err)
	s := &server{clock: &clock{now: time.Now()}}
	s.iss, err = passauth.NewTokenIssuer(passauth.Config{
		AccessSecret:   []byte("interop-access-secret-0123456789abcdef"),
		RefreshSecret:  []byte("interop-refresh-secret-0123456789abcdef"),
		AccessTTL:      accessTTL,
		RefreshTTL:     refreshTTL,
		Now:            s.clock.Now,
		PasswordHasher: passauth.Bcrypt{Cost: bcrypt.MinCost},
	})
	require.NoError(t, err)
	users := passauth.UserLookupFunc(func(_ context.Context, name string) (passauth.User, bool, error) {
		if name != "johndoe" {
			return passauth.User{}, false, nil
		}
		return passauth.User{PasswordHash: string(hash), Scopes: []string{"me", "items"}}, true, nil
	})

	mux := http.NewServeMux()
	mux.Handle("/token", s.record(s.iss.TokenHandler(users)))
	mux.Handle("GET /me", s.iss.Authenticate(http.HandlerFunc(me)))
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// me answers the verified claims of the caller's access token.
func me(w http.ResponseWriter, r *http.Request) {
	claims, _ := passauth.ClaimsFromContext(r.Context())
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(meResponse{
		Username: claims.Subject,
		TokenID:  claims.ID,
		ClientID: claims.ClientID,
		Scope:    claims.Scope,
	})
}

type meResponse struct {
	Username string `json:"username"`
	TokenID  string `json:"jti"`
	ClientID string `json:"client_id"`
	Scope    string `json:"scope"`
}

// record keeps a copy of every token request before next reads it.
func (s *server) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "reading body", http.StatusBadRequest)
			return
		}
		form, _ := url.ParseQuery(string(body))
		s.mu.Lock()
		s.requests = append(s.requests, tokenRequest{form: form, authorization: r.Header.Get("Authorization")})
		s.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

// lastRequest returns the last token request and how many there were.
func (s *server) lastRequest(t *testing.T) (tokenRequest, int) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	require.NotEmpty(t, s.requests)
	return s.requests[len(s.requests)-1], len(s.requests)
}

// getMe calls /me through an oauth2 client.
func getMe(t *testing.T, client *http.Client, url string) meResponse {
	t.Helper()
	resp, err := client.Get(url + "/me")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var m meResponse
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&m))
	return m
}

// emptyBasic is the Authorization header x/oauth2 sends for a client with
// no ID and no secret in AuthStyleInHeader.
const emptyBasic = "Basic Og=="

func TestPasswordLoginAndRefresh(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		clientID  string
		authStyle oauth2.AuthStyle
		wantAuthz string // the Authorization header of token requests
		wantForm  string // the client_id form parameter of token requests
	}{
		{
			name:      "header, no client",
			authStyle: oauth2.AuthStyleInHeader,
			wantAuthz: emptyBasic,
		},
		{
			name:      "header, client id",
			clientID:  "interop-client",
			authStyle: oauth2.AuthStyleInHeader,
			wantAuthz: "Basic aW50ZXJvcC1jbGllbnQ6", // interop-client:
		},
		{
			name:      "params, client id",
			clientID:  "interop-client",
			authStyle: oauth2.AuthStyleInParams,
			wantForm:  "interop-client",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t)
			ctx := context.WithValue(t.Context(), oauth2.HTTPClient, srv.Client())
			conf := &oauth2.Config{
				ClientID: tt.clientID,
				Endpoint: oauth2.Endpoint{TokenURL: srv.URL + "/token", AuthStyle: tt.authStyle},
				Scopes:   []string{"me"},
			}

			// Log in with the password grant.
			tok, err := conf.PasswordCredentialsToken(ctx, "johndoe", "secret")
			require.NoError(t, err)
			req, n := srv.lastRequest(t)
			assert.Equal(t, 1, n)
			assert.Equal(t, "password", req.form.Get("grant_type"))
			assert.Equal(t, "me", req.form.Get("scope"))
			assert.Equal(t, tt.wantAuthz, req.authorization)
			assert.Equal(t, tt.wantForm, req.form.Get("client_id"))

			assert.Equal(t, "bearer", tok.TokenType)
			assert.Equal(t, int64(accessTTL/time.Second), tok.ExpiresIn)
			assert.Equal(t, "me", tok.Extra("scope"))
			require.NotEmpty(t, tok.RefreshToken)
			claims, err := srv.iss.VerifyAccess(ctx, tok.AccessToken)
			require.NoError(t, err)
			assert.Equal(t, "johndoe", claims.Subject)
			assert.Equal(t, tt.clientID, claims.ClientID)
			assert.Equal(t, "me", claims.Scope)

			// The token is fresh: the client uses it as it is.
			m := getMe(t, conf.Client(ctx, tok), srv.URL)
			assert.Equal(t, meResponse{Username: "johndoe", TokenID: claims.ID, ClientID: tt.clientID, Scope: "me"}, m)
			_, n = srv.lastRequest(t)
			assert.Equal(t, 1, n, "no token request for a fresh token")

			// Time passes on the server, and on the client, which now holds
			// the token as expired (as when restored from storage).
			srv.clock.Advance(accessTTL + time.Second)
			_, err = srv.iss.VerifyAccess(ctx, tok.AccessToken)
			require.ErrorIs(t, err, passauth.ErrTokenExpired)
			stale := *tok
			stale.Expiry = time.Now().Add(-time.Second)
			require.False(t, stale.Valid())

			ts := conf.TokenSource(ctx, &stale)
			m = getMe(t, oauth2.NewClient(ctx, ts), srv.URL)
			req, n = srv.lastRequest(t)
			assert.Equal(t, 2, n)
			assert.Equal(t, "refresh_token", req.form.Get("grant_type"))
			assert.Equal(t, tok.RefreshToken, req.form.Get("refresh_token"))
			assert.Equal(t, tt.wantAuthz, req.authorization)
			assert.Equal(t, tt.wantForm, req.form.Get("client_id"))

			refreshed, err := ts.Token()
			require.NoError(t, err)
			assert.NotEqual(t, tok.AccessToken, refreshed.AccessToken)
			assert.NotEqual(t, tok.RefreshToken, refreshed.RefreshToken)
			assert.True(t, refreshed.Valid())
			newClaims, err := srv.iss.VerifyAccess(ctx, refreshed.AccessToken)
			require.NoError(t, err)
			assert.Equal(t, "johndoe", newClaims.Subject)
			assert.Equal(t, tt.clientID, newClaims.ClientID)
			assert.Equal(t, "me", newClaims.Scope)
			assert.NotEqual(t, claims.ID, newClaims.ID)
			assert.Equal(t, meResponse{Username: "johndoe", TokenID: newClaims.ID, ClientID: tt.clientID, Scope: "me"}, m)
		})
	}
}

func TestRetrieveErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name            string
		authStyle       oauth2.AuthStyle
		token           func(t *testing.T, ctx context.Context, srv *server, conf *oauth2.Config) error
		wantDescription string
	}{
		{
			name:      "wrong password",
			authStyle: oauth2.AuthStyleInHeader,
			token: func(t *testing.T, ctx context.Context, _ *server, conf *oauth2.Config) error {
				_, err := conf.PasswordCredentialsToken(ctx, "johndoe", "wrong")
				return err
			},
			wantDescription: "Incorrect username or password",
		},
		{
			name:      "unknown user",
			authStyle: oauth2.AuthStyleInParams,
			token: func(t *testing.T, ctx context.Context, _ *server, conf *oauth2.Config) error {
				_, err := conf.PasswordCredentialsToken(ctx, "janedoe", "secret")
				return err
			},
			wantDescription: "Incorrect username or password",
		},
		{
			name:      "expired refresh token",
			authStyle: oauth2.AuthStyleInHeader,
			token: func(t *testing.T, ctx context.Context, srv *server, conf *oauth2.Config) error {
				tok, err := conf.PasswordCredentialsToken(ctx, "johndoe", "secret")
				require.NoError(t, err)
				srv.clock.Advance(refreshTTL + time.Second)
				tok.Expiry = time.Now().Add(-time.Second)
				_, err = conf.TokenSource(ctx, tok).Token()
				return err
			},
			wantDescription: "Token expired",
		},
		{
			name:      "access token as refresh token",
			authStyle: oauth2.AuthStyleInParams,
			token: func(t *testing.T, ctx context.Context, srv *server, conf *oauth2.Config) error {
				tok, err := conf.PasswordCredentialsToken(ctx, "johndoe", "secret")
				require.NoError(t, err)
				tok.RefreshToken = tok.AccessToken
				tok.Expiry = time.Now().Add(-time.Second)
				_, err = conf.TokenSource(ctx, tok).Token()
				return err
			},
			wantDescription: "Invalid token",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t)
			ctx := context.WithValue(t.Context(), oauth2.HTTPClient, srv.Client())
			conf := &oauth2.Config{
				Endpoint: oauth2.Endpoint{TokenURL: srv.URL + "/token", AuthStyle: tt.authStyle},
			}
			err := tt.token(t, ctx, srv, conf)
			var rerr *oauth2.RetrieveError
			require.True(t, errors.As(err, &rerr), "want *oauth2.RetrieveError, got %T", err)
			assert.Equal(t, "invalid_grant", rerr.ErrorCode)
			assert.Equal(t, tt.wantDescription, rerr.ErrorDescription)
			assert.Equal(t, http.StatusBadRequest, rerr.Response.StatusCode)
		})
	}
}
