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

// FuzzVerifyKeySet is FuzzVerifyAccess for an issuer with a key list: an
// Ed25519 key that signs, ECDSA and RSA keys that verify, and a previous
// secret, and for a Verifier of the three public keys. Whatever either
// accepts, golang-jwt must accept too, with the key the token's "kid" names
// and that key's algorithm only (the secret, with HS256, for a token
// without "kid", on the issuer alone).
func FuzzVerifyKeySet(f *testing.F) {
	previous := []byte("tests: an old access secret, 32+ bytes")
	keys := []passauth.Key{passauth.SigningKey(edKey()), passauth.VerifyingKey(ecKey().Public()),
		passauth.VerifyingKey(rsaKey().Public()), passauth.SecretKey(previous)}
	iss := newIssuer(f, withAccessKeys(keys...), withIssuer(testIssuerName))
	v, err := passauth.NewVerifier(passauth.VerifierConfig{Issuer: testIssuerName, Now: stoppedAt(testEpoch),
		Keys: []passauth.Key{passauth.VerifyingKey(edKey().Public()), keys[1], keys[2]}})
	if err != nil {
		f.Fatal(err)
	}
	ctx := context.Background()
	pair, err := iss.IssuePair(ctx, "alice")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(pair.AccessToken)
	claims := map[string]any{"iss": testIssuerName}
	f.Add(mintToken(f, jwt.SigningMethodES256, ecKey(), map[string]any{"kid": keys[1].ID()}, claims))
	f.Add(mintToken(f, jwt.SigningMethodRS256, rsaKey(), map[string]any{"kid": keys[2].ID()}, claims))
	f.Add(mintToken(f, jwt.SigningMethodHS256, previous, map[string]any{"kid": keys[3].ID()}, claims))
	f.Add(mintToken(f, jwt.SigningMethodHS256, previous, nil, claims))
	f.Add(mintToken(f, jwt.SigningMethodES256, ecKey(), map[string]any{"kid": keys[0].ID()}, claims))
	f.Add(mintToken(f, jwt.SigningMethodHS256, []byte("x"), map[string]any{"kid": keys[1].ID()}, claims))

	public := map[string]struct {
		key any
		alg string
	}{
		keys[0].ID(): {edKey().Public(), "EdDSA"},
		keys[1].ID(): {ecKey().Public(), "ES256"},
		keys[2].ID(): {rsaKey().Public(), "RS256"},
		keys[3].ID(): {previous, "HS256"},
	}
	f.Fuzz(func(t *testing.T, token string) {
		for who, verify := range map[string]func(context.Context, string) (*passauth.Claims, error){"issuer": iss.VerifyAccess, "verifier": v.VerifyAccess} {
			c, err := verify(ctx, token)
			if err != nil {
				if !errors.Is(err, passauth.ErrTokenInvalid) {
					t.Fatalf("%s: error does not match ErrTokenInvalid: %v", who, err)
				}
				continue
			}
			var alg string
			tok, perr := jwt.Parse(token, func(tok *jwt.Token) (any, error) {
				kid, has := tok.Header["kid"].(string)
				k, ok := public[kid]
				switch {
				case !has && who == "issuer":
					alg = "HS256"
					return previous, nil
				case !ok || (who == "verifier" && k.alg == "HS256"):
					return nil, errors.New("no such key")
				}
				alg = k.alg
				return k.key, nil
			}, jwt.WithExpirationRequired(), jwt.WithTimeFunc(stoppedAt(testEpoch)))
			if perr != nil || !tok.Valid || tok.Method.Alg() != alg {
				t.Fatalf("%s accepted a token golang-jwt, pinned to the key's algorithm, rejects: %v", who, perr)
			}
			if c.Subject == "" {
				t.Fatalf("%s accepted a token without a subject", who)
			}
		}
	})
}
