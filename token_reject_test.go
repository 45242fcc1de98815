package passauth_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/passauth/passauth"
)

// verifyRejectCase is a token one of the verify methods must reject.
type verifyRejectCase struct {
	name    string
	why     string                 // the reason the error message gives
	refresh bool                   // verify with VerifyRefresh instead of VerifyAccess
	mod     func(*passauth.Config) // issuer used to verify; nil for testConfig
	token   string
}

// verifyRejectCases returns every token the issuer must reject as invalid but
// not expired. The fuzz targets seed from it too.
func verifyRejectCases(tb testing.TB) []verifyRejectCase {
	tb.Helper()
	iss := newIssuer(tb)
	pair, err := iss.IssuePair(context.Background(), "alice", passauth.WithScope("read"))
	require.NoError(tb, err)
	access, refresh := pair.AccessToken, pair.RefreshToken
	parts := strings.Split(access, ".")
	require.Len(tb, parts, 3)

	// The access token's own header and payload, re-signed with the refresh
	// secret: correct HS256, right secret for a refresh token, but typ at+jwt.
	resignedWithRefresh := rawToken(parts[0], parts[1], testRefreshSecret)
	// And a refresh token's header and payload re-signed with the access secret.
	rparts := strings.Split(refresh, ".")
	resignedWithAccess := rawToken(rparts[0], rparts[1], testAccessSecret)

	tamperedPayload := parts[0] + "." + segment(tb, map[string]any{
		"sub": "admin", "jti": "x", "iat": testEpoch.Unix(), "exp": testEpoch.Add(time.Hour).Unix(),
	}) + "." + parts[2]
	sig := []byte(parts[2])
	if sig[0] == 'A' {
		sig[0] = 'B'
	} else {
		sig[0] = 'A'
	}
	tamperedSignature := parts[0] + "." + parts[1] + "." + string(sig)

	big := mintHS256(tb, nil, map[string]any{"pad": strings.Repeat("x", 9000)})
	require.Greater(tb, len(big), 8<<10)

	none := mintToken(tb, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, nil, nil)

	return []verifyRejectCase{
		{name: "alg none", why: "unsupported algorithm", token: none},
		{name: "alg none with HS256 signature appended", why: "unsupported algorithm", token: none + parts[2]},
		{name: "alg header HS256 but none-style empty signature", why: "bad signature", token: parts[0] + "." + parts[1] + "."},
		{name: "HS384 with the right secret", why: "unsupported algorithm", token: mintToken(tb, jwt.SigningMethodHS384, testAccessSecret, nil, nil)},
		{name: "HS512 with the right secret", why: "unsupported algorithm", token: mintToken(tb, jwt.SigningMethodHS512, testAccessSecret, nil, nil)},
		{name: "RS256", why: "unsupported algorithm", token: mintToken(tb, jwt.SigningMethodRS256, rsaKey(), nil, nil)},
		{name: "ES256", why: "unsupported algorithm", token: mintToken(tb, jwt.SigningMethodES256, ecKey(), nil, nil)},
		{name: "unknown alg", why: "unsupported algorithm", token: rawToken(segment(tb, map[string]string{"alg": "XS256", "typ": "at+jwt"}), parts[1], testAccessSecret)},
		{name: "missing alg", why: "unsupported algorithm", token: rawToken(segment(tb, map[string]string{"typ": "at+jwt"}), parts[1], testAccessSecret)},
		{name: "missing exp", why: "missing exp", token: mintHS256(tb, nil, map[string]any{"exp": nil})},
		{name: "exp not a number", why: "malformed", token: mintHS256(tb, nil, map[string]any{"exp": "tomorrow"})},
		{name: "empty sub", why: "missing sub", token: mintHS256(tb, nil, map[string]any{"sub": ""})},
		{name: "missing sub", why: "missing sub", token: mintHS256(tb, nil, map[string]any{"sub": nil})},
		{name: "missing jti", why: "missing jti", token: mintHS256(tb, nil, map[string]any{"jti": nil})},
		{name: "invalid scope claim", why: "invalid scope", token: mintHS256(tb, nil, map[string]any{"scope": `a"b`})},
		{name: "missing typ", why: "wrong token type", token: mintHS256(tb, map[string]any{"typ": nil}, nil)},
		{name: "typ JWT", why: "wrong token type", token: mintHS256(tb, map[string]any{"typ": "JWT"}, nil)},
		{name: "typ not a string", why: "wrong token type", token: mintHS256(tb, map[string]any{"typ": 1}, nil)},
		{name: "typ with other prefix", why: "wrong token type", token: mintHS256(tb, map[string]any{"typ": "text/at+jwt"}, nil)},
		{name: "refresh token typ to VerifyAccess", why: "wrong token type", token: mintHS256(tb, map[string]any{"typ": passauth.RefreshTokenType}, nil)},
		{name: "issued refresh token to VerifyAccess", why: "wrong token type", token: refresh},
		{name: "issued access token to VerifyRefresh", why: "wrong token type", refresh: true, token: access},
		{name: "access payload re-signed with refresh secret to VerifyRefresh", why: "wrong token type", refresh: true, token: resignedWithRefresh},
		{name: "access payload re-signed with refresh secret to VerifyAccess", why: "bad signature", token: resignedWithRefresh},
		{name: "refresh payload re-signed with access secret to VerifyAccess", why: "wrong token type", token: resignedWithAccess},
		{name: "crit header", why: "unsupported critical header", token: mintHS256(tb, map[string]any{"crit": []string{"exp"}}, nil)},
		{name: "tampered payload", why: "bad signature", token: tamperedPayload},
		{name: "tampered signature", why: "bad signature", token: tamperedSignature},
		{name: "signed with another secret", why: "bad signature", token: mintToken(tb, jwt.SigningMethodHS256, []byte("some-other-secret-0123456789abcdefghij"), nil, nil)},
		{name: "truncated", why: "malformed", token: access[:len(access)/2]},
		{name: "truncated signature", why: "malformed", token: access[:len(access)-2]}, // 41 characters: never valid base64
		{name: "two segments", why: "malformed", token: parts[0] + "." + parts[1]},
		{name: "four segments", why: "malformed", token: access + "." + parts[2]},
		{name: "non-canonical base64 payload", why: "malformed", token: nonCanonicalPayload(tb)},
		{name: "non-canonical base64 signature", why: "malformed", token: parts[0] + "." + parts[1] + "." + nonCanonical(tb, parts[2])},
		{name: "padded base64 signature", why: "malformed", token: access + "="},
		{name: "standard base64 alphabet", why: "malformed", token: strings.NewReplacer("-", "+", "_", "/").Replace(access) + "+/"},
		{name: "oversize but correctly signed", why: "too large", token: big},
		{name: "empty", why: "malformed", token: ""},
		{name: "garbage", why: "malformed", token: "not a token"},
		{name: "dots only", why: "malformed", token: ".."},
		{name: "bearer prefix kept", why: "malformed", token: "Bearer " + access},
		{name: "white space around", why: "malformed", token: " " + access + " "},
		{name: "json payload null", why: "missing sub", token: rawToken(parts[0], segment(tb, nil), testAccessSecret)},
		{name: "json payload array", why: "malformed", token: rawToken(parts[0], segment(tb, []int{1}), testAccessSecret)},
		{name: "json header null", why: "unsupported algorithm", token: rawToken(segment(tb, nil), parts[1], testAccessSecret)},
		{name: "binary garbage", why: "malformed", token: "\x00\xff\xfe.\x01.\x02"},
		{name: "future nbf", why: "not yet valid", token: mintHS256(tb, nil, map[string]any{"nbf": testEpoch.Add(time.Hour).Unix()})},
		{name: "future iat", why: "not yet valid", token: mintHS256(tb, nil, map[string]any{"iat": testEpoch.Add(time.Hour).Unix()})},
		{name: "iat beyond leeway", why: "not yet valid", mod: func(c *passauth.Config) { c.Leeway = 30 * time.Second },
			token: mintHS256(tb, nil, map[string]any{"iat": testEpoch.Add(31 * time.Second).Unix()})},
		{name: "nbf beyond leeway", why: "not yet valid", mod: func(c *passauth.Config) { c.Leeway = 30 * time.Second },
			token: mintHS256(tb, nil, map[string]any{"nbf": testEpoch.Add(31 * time.Second).Unix()})},
		{name: "wrong iss", why: "wrong issuer", mod: withIssuerAudience,
			token: mintHS256(tb, nil, map[string]any{"iss": "https://evil.example.test", "aud": testAudience})},
		{name: "missing iss", why: "wrong issuer", mod: withIssuerAudience,
			token: mintHS256(tb, nil, map[string]any{"aud": testAudience})},
		{name: "wrong aud", why: "wrong audience", mod: withIssuerAudience,
			token: mintHS256(tb, nil, map[string]any{"iss": testIssuerName, "aud": "other.example.test"})},
		{name: "missing aud", why: "wrong audience", mod: withIssuerAudience,
			token: mintHS256(tb, nil, map[string]any{"iss": testIssuerName})},
		{name: "token without iss and aud when both configured", why: "wrong issuer", mod: withIssuerAudience, token: access},
	}
}

func TestVerifyRejects(t *testing.T) {
	t.Parallel()
	for _, tc := range verifyRejectCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			iss := newIssuer(t, tc.mod)
			verify := iss.VerifyAccess
			if tc.refresh {
				verify = iss.VerifyRefresh
			}
			claims, err := verify(context.Background(), tc.token)
			require.ErrorIs(t, err, passauth.ErrTokenInvalid)
			assert.NotErrorIs(t, err, passauth.ErrTokenExpired)
			assert.Nil(t, claims)
			// The reason shows the token was rejected for the intended cause,
			// not because the test built it wrong.
			assert.Contains(t, err.Error(), tc.why)
			assertNoTokenLeak(t, err, tc.token)
		})
	}
}

// assertNoTokenLeak checks that err carries the package prefix and repeats
// neither a secret (nor anything else assertNoLeak looks for) nor the token
// or any of its segments.
func assertNoTokenLeak(t *testing.T, err error, token string) {
	t.Helper()
	msg := err.Error()
	assert.True(t, strings.HasPrefix(msg, "passauth: "), "error %q lacks the package prefix", msg)
	assertNoLeak(t, []byte(msg))
	for _, part := range append(strings.Split(token, "."), token) {
		if len(part) >= 8 {
			assert.NotContains(t, msg, part)
		}
	}
}
