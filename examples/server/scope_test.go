package main

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/passauth/passauth"
)

// The challenges of the two protected routes to a token without their scope
// (RFC 6750 §3.1).
const (
	needMe    = `Bearer error="insufficient_scope", error_description="The access token does not grant the scope this resource requires", scope="me"`
	needItems = `Bearer error="insufficient_scope", error_description="The access token does not grant the scope this resource requires", scope="items"`
)

// loginScope logs johndoe in asking for scope ("" for none).
func loginScope(t *testing.T, srv *httptest.Server, scope string) result {
	t.Helper()
	form := url.Values{"username": {"johndoe"}, "password": {"secret"}}
	if scope != "" {
		form.Set("scope", scope)
	}
	return do(t, newRequest(t, http.MethodPost, srv.URL+"/api/auth/login", "application/x-www-form-urlencoded", form.Encode()))
}

// refreshScope refreshes at the token endpoint (grant_type=refresh_token),
// asking for scope ("" to keep it).
func refreshScope(t *testing.T, srv *httptest.Server, refreshToken, scope string) result {
	t.Helper()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}
	if scope != "" {
		form.Set("scope", scope)
	}
	return do(t, newRequest(t, http.MethodPost, srv.URL+"/api/auth/login", "application/x-www-form-urlencoded", form.Encode()))
}

func getItems(t *testing.T, srv *httptest.Server, accessToken string) result {
	t.Helper()
	req := newRequest(t, http.MethodGet, srv.URL+"/api/items", "", "")
	if accessToken != "" {
		req.Header.Set("Authorization", "Bearer "+accessToken)
	}
	return do(t, req)
}

// checkAccess checks what an access token may do: GET /api/users/me and GET
// /api/items answer 200 when it grants their scope, and 403
// insufficient_scope naming the scope otherwise.
func checkAccess(t *testing.T, srv *httptest.Server, access string, wantMe, wantItems bool) {
	t.Helper()
	res := getMe(t, srv, access)
	if wantMe {
		assert.Equal(t, http.StatusOK, res.status)
		assert.Equal(t, map[string]any{"username": "johndoe"}, res.body)
	} else {
		assert.Equal(t, http.StatusForbidden, res.status)
		assert.Equal(t, needMe, res.header.Get("WWW-Authenticate"))
		assert.Equal(t, "insufficient_scope", res.body["error"])
		assert.Equal(t, "me", res.body["scope"])
	}
	res = getItems(t, srv, access)
	if wantItems {
		assert.Equal(t, http.StatusOK, res.status)
		assert.JSONEq(t, `[{"id":"foo","name":"Foo"},{"id":"bar","name":"Bar"}]`, string(res.raw))
		assert.Equal(t, "no-store", res.header.Get("Cache-Control"))
	} else {
		assert.Equal(t, http.StatusForbidden, res.status)
		assert.Equal(t, needItems, res.header.Get("WWW-Authenticate"))
		assert.Equal(t, "insufficient_scope", res.body["error"])
	}
}

// Scopes end to end: what a login asks for decides what its tokens may do.
func TestLoginScopes(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)

	tests := []struct {
		name      string
		ask       string // the scope parameter, "" for none
		granted   string // the scope of the answer
		wantMe    bool
		wantItems bool
	}{
		{name: "no scope gets all the user holds", ask: "", granted: "me items", wantMe: true, wantItems: true},
		{name: "me", ask: "me", granted: "me", wantMe: true},
		{name: "items", ask: "items", granted: "items", wantItems: true},
		{name: "both, in another order", ask: "items me", granted: "items me", wantMe: true, wantItems: true},
		{name: "one held, one not", ask: "other me", granted: "me", wantMe: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := loginScope(t, srv, tt.ask)
			access, _ := tokens(t, res)
			assert.Equal(t, tt.granted, res.body["scope"])
			checkAccess(t, srv, access, tt.wantMe, tt.wantItems)
		})
	}
}

func TestLoginScopeRefused(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)

	tests := []struct {
		name  string
		scope string
		desc  string
	}{
		{"not held", "other", "requested scope not granted"},
		{"malformed", `me "items"`, "malformed scope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := loginScope(t, srv, tt.scope)
			assert.Equal(t, http.StatusBadRequest, res.status)
			assert.Equal(t, "invalid_scope", res.body["error"])
			assert.Equal(t, tt.desc, res.body["error_description"])
			assert.NotContains(t, res.body, "access_token")
		})
	}
}

// A token the application issued itself with passauth, with only the items
// scope, gets 403 on /api/users/me, as one without any scope does.
func TestIssuedTokenScopes(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	iss, err := passauth.NewTokenIssuer(passauth.Config{
		AccessSecret:  []byte(testAccessSecret),
		RefreshSecret: []byte(testRefreshSecret),
		AccessTTL:     15 * time.Minute,
		RefreshTTL:    24 * time.Hour,
		Issuer:        testIssuer, // the server's, as the demo's own code would mint
	})
	require.NoError(t, err)

	tests := []struct {
		name      string
		opts      []passauth.IssueOption
		wantMe    bool
		wantItems bool
	}{
		{"items only", []passauth.IssueOption{passauth.WithScope("items")}, false, true},
		{"me only", []passauth.IssueOption{passauth.WithScope("me")}, true, false},
		{"both", []passauth.IssueOption{passauth.WithScope("me", "items")}, true, true},
		{"no scope", nil, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pair, err := iss.IssuePair(t.Context(), "johndoe", tt.opts...)
			require.NoError(t, err)
			checkAccess(t, srv, pair.AccessToken, tt.wantMe, tt.wantItems)
		})
	}
}

// A refresh keeps the scope granted at login, or narrows it when asked;
// it never widens it.
func TestRefreshScopes(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)

	tests := []struct {
		name      string
		login     string // the scope the login asks for
		refresh   func(t *testing.T, refreshToken string) result
		granted   string // "" for a refused refresh
		wantMe    bool
		wantItems bool
	}{
		{
			name:  "refresh endpoint keeps both",
			login: "",
			refresh: func(t *testing.T, rt string) result {
				return refresh(t, srv, rt)
			},
			granted: "me items", wantMe: true, wantItems: true,
		},
		{
			name:  "refresh endpoint keeps items only",
			login: "items",
			refresh: func(t *testing.T, rt string) result {
				return refresh(t, srv, rt)
			},
			granted: "items", wantItems: true,
		},
		{
			name:  "token endpoint keeps the scope when none is asked",
			login: "me",
			refresh: func(t *testing.T, rt string) result {
				return refreshScope(t, srv, rt, "")
			},
			granted: "me", wantMe: true,
		},
		{
			name:  "token endpoint narrows to items",
			login: "",
			refresh: func(t *testing.T, rt string) result {
				return refreshScope(t, srv, rt, "items")
			},
			granted: "items", wantItems: true,
		},
		{
			name:  "token endpoint narrows to me",
			login: "me items",
			refresh: func(t *testing.T, rt string) result {
				return refreshScope(t, srv, rt, "me")
			},
			granted: "me", wantMe: true,
		},
		{
			name:  "token endpoint never widens",
			login: "items",
			refresh: func(t *testing.T, rt string) result {
				return refreshScope(t, srv, rt, "items me")
			},
		},
		{
			name:  "token endpoint never grants a scope the user lacks",
			login: "",
			refresh: func(t *testing.T, rt string) result {
				return refreshScope(t, srv, rt, "other")
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, refreshToken := tokens(t, loginScope(t, srv, tt.login))
			res := tt.refresh(t, refreshToken)
			if tt.granted == "" {
				assert.Equal(t, http.StatusBadRequest, res.status)
				assert.Equal(t, "invalid_scope", res.body["error"])
				assert.Equal(t, "scope exceeds the scope originally granted", res.body["error_description"])
				return
			}
			access, next := tokens(t, res)
			assert.Equal(t, tt.granted, res.body["scope"])
			checkAccess(t, srv, access, tt.wantMe, tt.wantItems)

			// The next refresh carries the narrowed scope on.
			access, _ = tokens(t, refresh(t, srv, next))
			checkAccess(t, srv, access, tt.wantMe, tt.wantItems)
		})
	}
}
