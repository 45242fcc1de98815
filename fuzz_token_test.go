package passauth_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/passauth/passauth"
)

// FuzzVerifyAccess checks that VerifyAccess never panics, fails only with
// ErrTokenInvalid, and accepts only what golang-jwt, pinned to HS256 and the
// access secret, also accepts, with the access token type and a subject.
func FuzzVerifyAccess(f *testing.F) {
	fuzzVerify(f, false)
}

// FuzzVerifyRefresh is FuzzVerifyAccess for refresh tokens.
func FuzzVerifyRefresh(f *testing.F) {
	fuzzVerify(f, true)
}

func fuzzVerify(f *testing.F, refresh bool) {
	iss := newIssuer(f)
	ctx := context.Background()
	verify, secret, typ := iss.VerifyAccess, testAccessSecret, passauth.AccessTokenType
	if refresh {
		verify, secret, typ = iss.VerifyRefresh, testRefreshSecret, passauth.RefreshTokenType
	}

	// Seeds: tokens the issuer accepts, and every rejection case.
	for _, opts := range [][]passauth.IssueOption{
		nil,
		{passauth.WithScope("read write"), passauth.WithClientID("cli")},
		{passauth.WithClaims(map[string]any{"tenant": "acme", "n": 1})},
	} {
		pair, err := iss.IssuePair(ctx, "alice", opts...)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(pair.AccessToken)
		f.Add(pair.RefreshToken)
	}
	for _, h := range []string{"application/" + typ, strings.ToUpper(typ), typ} {
		f.Add(mintToken(f, jwt.SigningMethodHS256, secret, map[string]any{"typ": h}, nil))
	}
	for _, tc := range verifyRejectCases(f) {
		f.Add(tc.token)
	}

	keyFunc := func(*jwt.Token) (any, error) { return secret, nil }
	f.Fuzz(func(t *testing.T, token string) {
		claims, err := verify(ctx, token)
		if err != nil {
			if !errors.Is(err, passauth.ErrTokenInvalid) {
				t.Fatalf("error does not match ErrTokenInvalid: %v", err)
			}
			if claims != nil {
				t.Fatal("claims returned with an error")
			}
			if strings.Contains(err.Error(), string(secret)) {
				t.Fatal("error contains the secret")
			}
			return
		}
		if claims == nil || claims.Subject == "" {
			t.Fatal("accepted a token without a subject")
		}
		// Independent check: the exact input must be an HS256 token signed
		// with this kind's secret, valid at the issuer's clock, of this
		// kind's type. (The token itself is never printed.)
		tok, perr := jwt.Parse(token, keyFunc,
			jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
			jwt.WithExpirationRequired(),
			jwt.WithTimeFunc(stoppedAt(testEpoch)),
		)
		if perr != nil || !tok.Valid {
			t.Fatalf("accepted a token golang-jwt rejects: %v", perr)
		}
		if tok.Method != jwt.SigningMethodHS256 {
			t.Fatalf("accepted alg %v", tok.Header["alg"])
		}
		got, _ := tok.Header["typ"].(string)
		if !strings.EqualFold(got, typ) && !strings.EqualFold(got, "application/"+typ) {
			t.Fatalf("accepted typ %q, want %q", got, typ)
		}
		sub, _ := tok.Claims.GetSubject()
		if sub == "" || sub != claims.Subject {
			t.Fatalf("subject %q, golang-jwt sees %q", claims.Subject, sub)
		}
		if claims.ID == "" {
			t.Fatal("accepted a token without jti")
		}
	})
}
