package passauth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// A Key is one key of a token kind: an HMAC secret, a private key that
// signs access tokens, or a public key that only verifies them (a retired
// key, or the next one, published ahead of its use). Its algorithm follows
// from its type and is never configured or read from a token: HS256 for a
// secret, EdDSA for Ed25519, ES256 for ECDSA P-256, RS256 for RSA of 2048
// bits or more. Make one with SecretKey, SigningKey or VerifyingKey and put
// it in Config.AccessKeys or Config.RefreshKeys; NewTokenIssuer checks it.
//
// Every token a Key signs names it in its "kid" header: the RFC 7638 JWK
// thumbprint of a public key, or, for a secret, 16 characters of
// HMAC-SHA256(secret, "passauth key ID"), which tells nothing of the secret
// that any token it signs does not already tell.
type Key struct {
	secret []byte
	signer crypto.Signer
	public crypto.PublicKey
}

// SecretKey returns the HS256 key of secret, at least MinSecretLen bytes.
// It keeps a copy of secret.
func SecretKey(secret []byte) Key { return Key{secret: append([]byte(nil), secret...)} }

// SigningKey returns the key that signs access tokens with signer: an
// ed25519.PrivateKey, an *ecdsa.PrivateKey on P-256, an *rsa.PrivateKey of
// at least 2048 bits, or any crypto.Signer whose Public key is one of those
// (a key in a KMS or an HSM, say). Its public key is published in the JWKS.
func SigningKey(signer crypto.Signer) Key { return Key{signer: signer} }

// VerifyingKey returns a key that only verifies access tokens: an
// ed25519.PublicKey, an *ecdsa.PublicKey on P-256 or an *rsa.PublicKey of
// at least 2048 bits. It is published in the JWKS.
func VerifyingKey(public crypto.PublicKey) Key { return Key{public: public} }

// ID returns the key's "kid", or "" for a key NewTokenIssuer would refuse.
func (k Key) ID() string {
	pk, err := parseKey(k)
	if err != nil {
		return ""
	}
	return pk.id
}

// key is a checked Key, ready for the parser and the signer.
type key struct {
	id     string
	method jwt.SigningMethod
	sign   any // what method.Sign takes; nil for a key that only verifies
	verify any // what method.Verify takes, boxed once
	public crypto.PublicKey
	secret []byte // the HMAC secret, for a secret
}

// secretKeyIDLabel is what a secret's key ID is the HMAC of.
const secretKeyIDLabel = "passauth key ID"

// parseKey checks k and derives its algorithm and key ID.
func parseKey(k Key) (key, error) {
	switch {
	case k.secret != nil:
		if len(k.secret) < MinSecretLen {
			return key{}, fmt.Errorf("secret shorter than %d bytes", MinSecretLen)
		}
		mac := hmac.New(sha256.New, k.secret)
		mac.Write([]byte(secretKeyIDLabel))
		id := base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:12])
		return key{id: id, method: jwt.SigningMethodHS256, sign: k.secret, verify: k.secret, secret: k.secret}, nil
	case k.signer != nil:
		pk, err := publicKey(k.signer.Public())
		if err != nil {
			return key{}, err
		}
		pk.sign = k.signer
		switch s := k.signer.(type) {
		case ed25519.PrivateKey, *ecdsa.PrivateKey, *rsa.PrivateKey:
			// golang-jwt signs with these itself.
		default:
			pk.method = &signerMethod{SigningMethod: pk.method, hash: signerHash(pk.method), ecdsa: isECDSA(pk.public)}
			pk.sign = s
		}
		return pk, nil
	case k.public != nil:
		return publicKey(k.public)
	}
	return key{}, errors.New("empty Key: make one with SecretKey, SigningKey or VerifyingKey")
}

// publicKey checks an asymmetric public key and gives it its algorithm and
// its RFC 7638 thumbprint as key ID.
func publicKey(pub crypto.PublicKey) (key, error) {
	var pk key
	switch p := pub.(type) {
	case ed25519.PublicKey:
		if len(p) != ed25519.PublicKeySize {
			return key{}, errors.New("Ed25519 public key of the wrong size")
		}
		pk = key{method: jwt.SigningMethodEdDSA, verify: p, public: p}
	case *ecdsa.PublicKey:
		if p.Curve != elliptic.P256() {
			return key{}, errors.New("ECDSA key not on P-256: only ES256 is supported")
		}
		pk = key{method: jwt.SigningMethodES256, verify: p, public: p}
	case *rsa.PublicKey:
		if p.N.BitLen() < 2048 {
			return key{}, errors.New("RSA key shorter than 2048 bits")
		}
		pk = key{method: jwt.SigningMethodRS256, verify: p, public: p}
	default:
		return key{}, fmt.Errorf("unsupported key type %T: use Ed25519, ECDSA P-256 or RSA", pub)
	}
	j, err := encodeJWK(pk.public)
	if err != nil {
		return key{}, err
	}
	pk.id = j.thumbprint()
	return pk, nil
}

// jsonWebKey is the JSON Web Key (RFC 7517) of a public key: its kty and
// the members of RFC 7518 §6.2 (EC), §6.3 (RSA) or RFC 8037 §2 (OKP).
type jsonWebKey struct {
	Kty string `json:"kty"`
	Kid string `json:"kid,omitempty"`
	Use string `json:"use,omitempty"`
	Alg string `json:"alg,omitempty"`
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
}

// encodeJWK returns the JWK members of a public key, with the standard
// library's encodings of its points and numbers.
func encodeJWK(pub crypto.PublicKey) (jsonWebKey, error) {
	b64 := base64.RawURLEncoding.EncodeToString
	switch p := pub.(type) {
	case ed25519.PublicKey:
		return jsonWebKey{Kty: "OKP", Crv: "Ed25519", X: b64(p)}, nil
	case *ecdsa.PublicKey:
		point, err := p.Bytes() // 0x04 || X || Y, 32 bytes each on P-256
		if err != nil || len(point) != 65 {
			return jsonWebKey{}, errors.New("ECDSA public key cannot be encoded")
		}
		return jsonWebKey{Kty: "EC", Crv: "P-256", X: b64(point[1:33]), Y: b64(point[33:])}, nil
	case *rsa.PublicKey:
		return jsonWebKey{Kty: "RSA", N: b64(p.N.Bytes()), E: b64(big.NewInt(int64(p.E)).Bytes())}, nil
	}
	return jsonWebKey{}, fmt.Errorf("unsupported key type %T", pub)
}

// thumbprint returns the RFC 7638 thumbprint of j: the base64url SHA-256
// of its required members, in lexicographic order, without white space.
// The members are base64url or fixed names, which need no escaping.
func (j jsonWebKey) thumbprint() string {
	var s string
	switch j.Kty {
	case "EC":
		s = `{"crv":"` + j.Crv + `","kty":"EC","x":"` + j.X + `","y":"` + j.Y + `"}`
	case "RSA":
		s = `{"e":"` + j.E + `","kty":"RSA","n":"` + j.N + `"}`
	case "OKP":
		s = `{"crv":"` + j.Crv + `","kty":"OKP","x":"` + j.X + `"}`
	}
	sum := sha256.Sum256([]byte(s))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// signerMethod signs with a crypto.Signer that golang-jwt does not know (a
// KMS or HSM key) for the algorithm of the embedded method, which verifies.
// An ECDSA signer's ASN.1 signature becomes JWS's R || S (RFC 7518 §3.4).
type signerMethod struct {
	jwt.SigningMethod
	hash  crypto.Hash // 0 for Ed25519, which signs the message itself
	ecdsa bool
}

func (m *signerMethod) Sign(signingString string, k any) ([]byte, error) {
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, errors.New("passauth: signer expected")
	}
	msg := []byte(signingString)
	if m.hash != 0 {
		h := m.hash.New()
		h.Write(msg)
		msg = h.Sum(nil)
	}
	sig, err := s.Sign(rand.Reader, msg, m.hash)
	if err != nil || !m.ecdsa {
		return sig, err
	}
	r, ss := new(big.Int), new(big.Int)
	in, inner := cryptobyte.String(sig), cryptobyte.String(nil)
	if !in.ReadASN1(&inner, asn1.SEQUENCE) || !in.Empty() ||
		!inner.ReadASN1Integer(r) || !inner.ReadASN1Integer(ss) || !inner.Empty() ||
		r.Sign() <= 0 || ss.Sign() <= 0 || r.BitLen() > 256 || ss.BitLen() > 256 {
		return nil, errors.New("passauth: malformed ECDSA signature from the signer")
	}
	out := make([]byte, 64)
	r.FillBytes(out[:32])
	ss.FillBytes(out[32:])
	return out, nil
}

func signerHash(m jwt.SigningMethod) crypto.Hash {
	if m == jwt.SigningMethodEdDSA {
		return 0
	}
	return crypto.SHA256
}

func isECDSA(pub crypto.PublicKey) bool {
	_, ok := pub.(*ecdsa.PublicKey)
	return ok
}
