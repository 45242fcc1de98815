package passauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// A Verifier's remote key set: fetching the issuer's JWKS (found through
// its RFC 8414 metadata, or at a URL), reading it strictly, and deciding
// when to fetch it again.

// newFetchClient returns the Verifier's own HTTP client: a timeout on the
// whole fetch, and redirects followed only to https (or loopback) URLs.
func newFetchClient() *http.Client {
	return &http.Client{
		Timeout: fetchTimeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 3 || !secureURL(req.URL) {
				return errors.New("redirect to a URL that is not https, or too many")
			}
			return nil
		},
	}
}

// Limits of the fetches.
const (
	maxDocumentBytes = 1 << 20          // a JWKS or a metadata document
	fetchTimeout     = 5 * time.Second  // one fetch, dial to last byte
	defaultKeysAge   = 5 * time.Minute  // a set's life without Cache-Control
	maxKeysAge       = 24 * time.Hour   // the longest max-age honoured
	minKeysAge       = 30 * time.Second // the shortest
)

// fetchJSON gets a JSON document of at most maxDocumentBytes from u, which
// must be https (http only on a loopback host), and returns it with its
// Cache-Control max-age, 0 when there is none.
func fetchJSON(ctx context.Context, client *http.Client, u string) ([]byte, time.Duration, error) {
	parsed, err := url.Parse(u)
	if err != nil || !secureURL(parsed) {
		return nil, 0, errors.New("not an https URL")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, 0, fmt.Errorf("answered %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocumentBytes+1))
	if err != nil {
		return nil, 0, err
	}
	if len(body) > maxDocumentBytes {
		return nil, 0, errors.New("document larger than 1 MiB")
	}
	return body, maxAge(resp.Header.Get("Cache-Control")), nil
}

// maxAge returns the max-age of a Cache-Control value, 0 when it has none
// or says no-store or no-cache.
func maxAge(cc string) time.Duration {
	var age time.Duration
	for d := range strings.SplitSeq(cc, ",") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), "=")
		switch strings.ToLower(name) {
		case "no-store", "no-cache":
			return 0
		case "max-age":
			if n, err := strconv.ParseInt(strings.Trim(value, `"`), 10, 64); err == nil && n > 0 {
				age = time.Duration(min(n, int64(maxKeysAge/time.Second))) * time.Second
			}
		}
	}
	return age
}

// metadataURL returns where RFC 8414 §3 puts the metadata of issuer: the
// well-known path between the host and the issuer's own path.
func metadataURL(issuer string) (string, error) {
	u, err := url.Parse(issuer)
	if err != nil || !secureURL(u) || u.RawQuery != "" || u.Fragment != "" {
		return "", errors.New("the issuer is not an https URL without query or fragment")
	}
	u.Path = "/.well-known/oauth-authorization-server" + strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	return u.String(), nil
}

// discoverJWKS reads the issuer's metadata and returns its jwks_uri. The
// metadata must name the same issuer (RFC 8414 §3.3).
func discoverJWKS(ctx context.Context, client *http.Client, issuer string) (string, error) {
	u, err := metadataURL(issuer)
	if err != nil {
		return "", err
	}
	body, _, err := fetchJSON(ctx, client, u)
	if err != nil {
		return "", fmt.Errorf("metadata: %w", err)
	}
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	switch {
	case json.Unmarshal(body, &doc) != nil:
		return "", errors.New("metadata: not a JSON object")
	case doc.Issuer != issuer:
		return "", errors.New("metadata: it names another issuer")
	case doc.JWKSURI == "":
		return "", errors.New("metadata: no jwks_uri")
	}
	return doc.JWKSURI, nil
}

// parseJWKS reads a JWK Set (RFC 7517 §5) into a set that verifies access
// tokens, keeping only what is safe to use: public signature keys of the
// three supported types, each pinned to the algorithm its type fixes (a
// key whose "alg" says another is left out). A symmetric key ("oct"), a
// key with private members, one marked for another use, or one of another
// type or curve is left out, never trusted. skipped counts those.
func parseJWKS(body []byte) (set *keySet, skipped int, err error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || doc.Keys == nil {
		return nil, 0, errors.New("not a JWK Set")
	}
	set = &keySet{byID: make(map[string]*key, len(doc.Keys))}
	for _, raw := range doc.Keys {
		k, err := parseJWK(raw)
		if err != nil || set.byID[k.id] != nil {
			skipped++
			continue
		}
		p := &k
		set.byID[k.id] = p
		set.public = append(set.public, p)
	}
	return set, skipped, nil
}

// parseJWK reads one public signature key of a JWK Set.
func parseJWK(raw json.RawMessage) (key, error) {
	var j struct {
		jsonWebKey
		D, P, Q, DP, DQ, QI, K string // private or symmetric members
	}
	if err := json.Unmarshal(raw, &j); err != nil {
		return key{}, err
	}
	if j.D != "" || j.P != "" || j.Q != "" || j.DP != "" || j.DQ != "" || j.QI != "" || j.K != "" {
		return key{}, errors.New("private or symmetric key")
	}
	if j.Use != "" && j.Use != "sig" {
		return key{}, errors.New("not a signature key")
	}
	dec := base64.RawURLEncoding.Strict()
	var pub any
	switch {
	case j.Kty == "OKP" && j.Crv == "Ed25519":
		x, err := dec.DecodeString(j.X)
		if err != nil || len(x) != ed25519.PublicKeySize {
			return key{}, errors.New("bad Ed25519 key")
		}
		pub = ed25519.PublicKey(x)
	case j.Kty == "EC" && j.Crv == "P-256":
		x, errX := dec.DecodeString(j.X)
		y, errY := dec.DecodeString(j.Y)
		if errX != nil || errY != nil || len(x) != 32 || len(y) != 32 {
			return key{}, errors.New("bad P-256 key")
		}
		p, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
		if err != nil {
			return key{}, errors.New("P-256 point not on the curve")
		}
		pub = p
	case j.Kty == "RSA":
		n, errN := dec.DecodeString(j.N)
		e, errE := dec.DecodeString(j.E)
		if errN != nil || errE != nil || len(n) == 0 || n[0] == 0 || len(e) == 0 || len(e) > 4 {
			return key{}, errors.New("bad RSA key")
		}
		exp := new(big.Int).SetBytes(e)
		if exp.Int64() < 3 || exp.Bit(0) == 0 || exp.Int64() > 1<<31-1 {
			return key{}, errors.New("bad RSA exponent")
		}
		pub = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(exp.Int64())}
	default:
		return key{}, errors.New("unsupported key type")
	}
	k, err := publicKey(pub)
	if err != nil {
		return key{}, err
	}
	if j.Alg != "" && j.Alg != k.method.Alg() {
		return key{}, errors.New("alg other than the key type's")
	}
	if j.Kid != "" {
		k.id = j.Kid
	}
	return k, nil
}

// asymmetricMethods are the algorithms a Verifier accepts, each pinned to
// its key by the key's type.
var asymmetricMethods = []string{jwt.SigningMethodEdDSA.Alg(), jwt.SigningMethodES256.Alg(), jwt.SigningMethodRS256.Alg()}
