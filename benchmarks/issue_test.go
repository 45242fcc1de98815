package benchmarks_test

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
	"github.com/golang-jwt/jwt/v5"
	"github.com/lestrrat-go/jwx/v2/jwa"
	jwxjwt "github.com/lestrrat-go/jwx/v2/jwt"
	"github.com/passauth/passauth"
)

// BenchmarkIssue measures issuing a token pair at login: an access token
// signed with the access secret and a refresh token signed with the refresh
// secret, both with the common claims and a fresh random jti (rand.Text, as
// passauth draws them) and the current time. passauth's IssuePair is
// stateless here (no Store) and also draws a session ID and writes sid,
// auth_time and the at+jwt / rt+jwt types; "golang-jwt-passauth-claims"
// signs exactly those tokens with golang-jwt directly, the yardstick of the
// issue's IssuePair target.
func BenchmarkIssue(b *testing.B) {
	ctx := context.Background()

	b.Run("passauth-IssuePair", func(b *testing.B) {
		iss := newIssuer(b, 0)
		opt := passauth.WithScope(scope) // built once, like the peers' signers
		pair, err := iss.IssuePair(ctx, subject, opt)
		if err != nil {
			b.Fatal(err)
		}
		benchIssuePair(b, iss, opt, pair)
	})

	b.Run("golang-jwt-two-tokens", func(b *testing.B) {
		sign := func() (string, string, error) {
			now := time.Now()
			access := commonClaims(now, rand.Text())
			a, err := jwt.NewWithClaims(jwt.SigningMethodHS256, &access).SignedString(accessSecret)
			if err != nil {
				return "", "", err
			}
			refresh := commonClaims(now, rand.Text())
			refresh.ExpiresAt = jwt.NewNumericDate(now.Add(refreshTTL))
			r, err := jwt.NewWithClaims(jwt.SigningMethodHS256, &refresh).SignedString(refreshSecret)
			return a, r, err
		}
		a, _, err := sign()
		if err != nil {
			b.Fatal(err)
		}
		checkCommonToken(b, a)
		b.ReportAllocs()
		for b.Loop() {
			issueOnce(sign)
		}
	})

	b.Run("golang-jwt-passauth-claims", func(b *testing.B) {
		type passauthClaims struct {
			jwt.RegisteredClaims
			Scope     string           `json:"scope,omitempty"`
			SessionID string           `json:"sid,omitempty"`
			AuthTime  *jwt.NumericDate `json:"auth_time,omitempty"`
		}
		signOne := func(typ string, key []byte, sid, jti string, now, exp time.Time) (string, error) {
			t := jwt.NewWithClaims(jwt.SigningMethodHS256, &passauthClaims{
				RegisteredClaims: jwt.RegisteredClaims{
					Subject:   subject,
					ExpiresAt: jwt.NewNumericDate(exp),
					IssuedAt:  jwt.NewNumericDate(now),
					ID:        jti,
				},
				Scope:     scope,
				SessionID: sid,
				AuthTime:  jwt.NewNumericDate(now),
			})
			t.Header["typ"] = typ
			return t.SignedString(key)
		}
		sign := func() (string, string, error) {
			now, sid := time.Now(), rand.Text()
			a, err := signOne("at+jwt", accessSecret, sid, rand.Text(), now, now.Add(accessTTL))
			if err != nil {
				return "", "", err
			}
			r, err := signOne("rt+jwt", refreshSecret, sid, rand.Text(), now, now.Add(refreshTTL))
			return a, r, err
		}
		a, _, err := sign()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := newIssuer(b, 0).VerifyAccess(ctx, a); err != nil {
			b.Fatalf("passauth rejected the token signed with golang-jwt: %v", err)
		}
		b.ReportAllocs()
		for b.Loop() {
			issueOnce(sign)
		}
	})

	b.Run("jwx-two-tokens", func(b *testing.B) {
		accessKey := jwxjwt.WithKey(jwa.HS256, accessSecret)
		refreshKey := jwxjwt.WithKey(jwa.HS256, refreshSecret)
		signOne := func(key jwxjwt.SignEncryptParseOption, now, exp time.Time) (string, error) {
			t, err := jwxjwt.NewBuilder().
				Subject(subject).
				IssuedAt(now).
				Expiration(exp).
				JwtID(rand.Text()).
				Claim("scope", scope).
				Build()
			if err != nil {
				return "", err
			}
			s, err := jwxjwt.Sign(t, key)
			return string(s), err
		}
		sign := func() (string, string, error) {
			now := time.Now()
			a, err := signOne(accessKey, now, now.Add(accessTTL))
			if err != nil {
				return "", "", err
			}
			r, err := signOne(refreshKey, now, now.Add(refreshTTL))
			return a, r, err
		}
		a, _, err := sign()
		if err != nil {
			b.Fatal(err)
		}
		checkCommonToken(b, a)
		b.ReportAllocs()
		for b.Loop() {
			issueOnce(sign)
		}
	})

	b.Run("go-jose-two-tokens", func(b *testing.B) {
		newSigner := func(key []byte) jose.Signer {
			s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: key},
				(&jose.SignerOptions{}).WithType("JWT"))
			if err != nil {
				b.Fatal(err)
			}
			return s
		}
		accessSigner, refreshSigner := newSigner(accessSecret), newSigner(refreshSecret)
		type scopeClaim struct {
			Scope string `json:"scope"`
		}
		signOne := func(s jose.Signer, now, exp time.Time) (string, error) {
			return josejwt.Signed(s).
				Claims(josejwt.Claims{
					Subject:  subject,
					IssuedAt: josejwt.NewNumericDate(now),
					Expiry:   josejwt.NewNumericDate(exp),
					ID:       rand.Text(),
				}).
				Claims(scopeClaim{Scope: scope}).
				Serialize()
		}
		sign := func() (string, string, error) {
			now := time.Now()
			a, err := signOne(accessSigner, now, now.Add(accessTTL))
			if err != nil {
				return "", "", err
			}
			r, err := signOne(refreshSigner, now, now.Add(refreshTTL))
			return a, r, err
		}
		a, _, err := sign()
		if err != nil {
			b.Fatal(err)
		}
		checkCommonToken(b, a)
		b.ReportAllocs()
		for b.Loop() {
			issueOnce(sign)
		}
	})
}

// benchIssuePair fails b unless iss accepts want, a pair it issued to
// subject with opt, and then measures IssuePair(subject, opt).
func benchIssuePair(b *testing.B, iss *passauth.TokenIssuer, opt passauth.IssueOption, want passauth.TokenPair) {
	ctx := context.Background()
	if c, err := iss.VerifyAccess(ctx, want.AccessToken); err != nil || c.Scope != scope {
		b.Fatalf("passauth rejected its own token: %v", err)
	}
	if _, err := iss.VerifyRefresh(ctx, want.RefreshToken); err != nil {
		b.Fatalf("passauth rejected its own refresh token: %v", err)
	}
	b.ReportAllocs()
	for b.Loop() {
		issueOnce(func() (string, string, error) {
			p, err := iss.IssuePair(ctx, subject, opt)
			return p.AccessToken, p.RefreshToken, err
		})
	}
}

// issueOnce issues one pair with sign; a named function for callgrind.sh.
//
//go:noinline
func issueOnce(sign func() (string, string, error)) {
	_, _, _ = sign()
}

// checkCommonToken fails b unless token has the common shape and verifies
// with the access secret.
func checkCommonToken(b *testing.B, token string) {
	b.Helper()
	c, err := minimalVerify(accessSecret, token, time.Now())
	if err != nil || c.Sub != subject || c.Scope != scope || c.Jti == "" || c.Iat == 0 {
		b.Fatalf("the issued token does not have the common shape: %v", err)
	}
}
