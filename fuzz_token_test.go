package passauth_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/bcrypt"

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
	iss := tokIssuer(f, nil)
	ctx := context.Background()
	verify, secret, typ := iss.VerifyAccess, tokAccessSecret, passauth.AccessTokenType
	if refresh {
		verify, secret, typ = iss.VerifyRefresh, tokRefreshSecret, passauth.RefreshTokenType
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
		f.Add(tokMint(f, jwt.SigningMethodHS256, secret, map[string]any{"typ": h}, nil))
	}
	for _, tc := range tokRejectCases(f) {
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
			jwt.WithTimeFunc(tokClock(tokNow)),
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

// fuzzMaxCost bounds the bcrypt cost FuzzCheckPassword evaluates, so that a
// mutated cost field cannot make one input run for minutes.
const fuzzMaxCost = 6

// FuzzCheckPassword checks that CheckPassword never panics, agrees with
// bcrypt.CompareHashAndPassword, never accepts a password over 72 bytes, and
// never matches a malformed hash.
func FuzzCheckPassword(f *testing.F) {
	for _, kh := range knownHashes {
		f.Add(kh.hash, kh.password)
		f.Add(kh.hash, kh.password+"x")
	}
	h, err := bcrypt.GenerateFromPassword([]byte("secret"), bcrypt.MinCost)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(h), "secret")
	f.Add(string(h), strings.Repeat("s", passauth.MaxPasswordLen+1))
	for _, hash := range []string{
		"", "plain", "$2a$", "$2a$04$", "$2a$99$" + string(h[7:]), string(h[:40]),
		"$2b$04$" + string(h[7:]), "$2y$04$" + string(h[7:]), "$2c$04$" + string(h[7:]),
		"$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
		"$1$saltsalt$O3Lo4a.KkHA4oAB3Da3sC/",
	} {
		f.Add(hash, "secret")
	}

	f.Fuzz(func(t *testing.T, hash, password string) {
		cost, costErr := bcrypt.Cost([]byte(hash))
		if costErr == nil && cost > fuzzMaxCost {
			t.Skip("cost too high to fuzz")
		}
		err := passauth.CheckPassword(hash, password)
		ref := bcrypt.CompareHashAndPassword([]byte(hash), []byte(password))

		if err == nil {
			switch {
			case ref != nil:
				t.Fatalf("CheckPassword matched where bcrypt does not: %v", ref)
			case costErr != nil:
				t.Fatal("CheckPassword matched a malformed hash")
			case len(password) > passauth.MaxPasswordLen:
				t.Fatal("CheckPassword matched a password over 72 bytes")
			}
			return
		}
		if len(password) > passauth.MaxPasswordLen {
			if !errors.Is(err, passauth.ErrPasswordTooLong) {
				t.Fatalf("password of %d bytes: got %v, want ErrPasswordTooLong", len(password), err)
			}
			return
		}
		// x/crypto ignores trailing bytes, the "$" after the cost and any
		// "$N?$" prefix;
		// CheckPassword insists on the 60-byte $2a$/$2b$/$2y$ form.
		strict := len(hash) == 60 && hash[6] == '$' && (strings.HasPrefix(hash, "$2a$") ||
			strings.HasPrefix(hash, "$2b$") || strings.HasPrefix(hash, "$2y$"))
		switch {
		case !strict:
			if !errors.Is(err, passauth.ErrInvalidHash) {
				t.Fatalf("non-canonical hash reported as %v", err)
			}
		case ref == nil:
			t.Fatalf("CheckPassword refused a match bcrypt accepts: %v", err)
		case errors.Is(ref, bcrypt.ErrMismatchedHashAndPassword):
			if !errors.Is(err, passauth.ErrPasswordMismatch) {
				t.Fatalf("mismatch reported as %v", err)
			}
		default:
			if !errors.Is(err, passauth.ErrInvalidHash) {
				t.Fatalf("malformed hash reported as %v", err)
			}
		}
	})
}
