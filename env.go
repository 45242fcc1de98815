package passauth

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// ConfigFromEnv reads a Config from the environment variables of the seed
// application:
//
//   - ACCESS_TOKEN_SECRET and REFRESH_TOKEN_SECRET: the two secrets;
//   - ACCESS_TOKEN_EXPIRE_MINUTES and REFRESH_TOKEN_EXPIRE_MINUTES: the
//     lifetimes in whole minutes;
//   - ACCESS_TOKEN_TTL and REFRESH_TOKEN_TTL: the lifetimes as Go durations
//     such as "90s" or "168h", which win over the minute variables when set;
//
// and, for key rotation and asymmetric access tokens (Config.AccessKeys,
// Config.RefreshKeys):
//
//   - ACCESS_TOKEN_SIGNING_KEY: the path of a PEM file with a PKCS#8 private
//     key (Ed25519, ECDSA P-256 or RSA of 2048 bits or more) that signs
//     access tokens; ACCESS_TOKEN_SECRET is then not needed, and when set
//     it only verifies the tokens it signed before;
//   - ACCESS_TOKEN_PREVIOUS_KEYS: comma-separated paths of PEM files, PKCS#8
//     private or PKIX public keys, that verify access tokens only (a retired
//     key, or the next one, published ahead of its use);
//   - ACCESS_TOKEN_PREVIOUS_SECRET and REFRESH_TOKEN_PREVIOUS_SECRET: the
//     previous secret of each kind, whose tokens verify until they expire.
//
// A missing or malformed variable, a secret shorter than MinSecretLen and
// two equal secrets are errors that name the variables, never repeat a
// value or a key's bytes, and say how to make a good secret. ConfigFromEnv
// does not validate the rest of the result; NewTokenIssuer does.
func ConfigFromEnv() (Config, error) {
	var cfg Config
	var errs []error
	cfg.AccessSecret, cfg.AccessKeys, errs = accessKeysFromEnv(errs)
	cfg.RefreshSecret, errs = secretFromEnv("REFRESH_TOKEN_SECRET", errs)
	if prev := os.Getenv("REFRESH_TOKEN_PREVIOUS_SECRET"); prev != "" && cfg.RefreshSecret != nil {
		errs = checkSecretEnv("REFRESH_TOKEN_PREVIOUS_SECRET", prev, errs)
		cfg.RefreshKeys = []Key{SecretKey(cfg.RefreshSecret), SecretKey([]byte(prev))}
		cfg.RefreshSecret = nil
	}
	if a, r := os.Getenv("ACCESS_TOKEN_SECRET"), os.Getenv("REFRESH_TOKEN_SECRET"); a != "" && a == r {
		errs = append(errs, fmt.Errorf("passauth: environment variables ACCESS_TOKEN_SECRET and REFRESH_TOKEN_SECRET are equal; %s for each", secretHint))
	}
	cfg.AccessTTL, errs = ttlFromEnv("ACCESS_TOKEN_TTL", "ACCESS_TOKEN_EXPIRE_MINUTES", errs)
	cfg.RefreshTTL, errs = ttlFromEnv("REFRESH_TOKEN_TTL", "REFRESH_TOKEN_EXPIRE_MINUTES", errs)
	if len(errs) > 0 {
		return Config{}, errors.Join(errs...)
	}
	return cfg, nil
}

// accessKeysFromEnv reads the keys of access tokens: ACCESS_TOKEN_SECRET
// alone as AccessSecret, or, when a signing key or a previous key or secret
// is set, the list of AccessKeys: the signing key (or the secret) first,
// then the secret, the previous keys and the previous secret.
func accessKeysFromEnv(errs []error) ([]byte, []Key, []error) {
	signingPath := os.Getenv("ACCESS_TOKEN_SIGNING_KEY")
	previousPaths := os.Getenv("ACCESS_TOKEN_PREVIOUS_KEYS")
	previousSecret := os.Getenv("ACCESS_TOKEN_PREVIOUS_SECRET")
	if signingPath == "" && previousPaths == "" && previousSecret == "" {
		secret, errs := secretFromEnv("ACCESS_TOKEN_SECRET", errs)
		return secret, nil, errs
	}
	var keys []Key
	if signingPath != "" {
		k, err := pemKeyFile(signingPath, true)
		if err != nil {
			errs = append(errs, fmt.Errorf("passauth: environment variable ACCESS_TOKEN_SIGNING_KEY: %w", err))
		}
		keys = append(keys, k)
		if v := os.Getenv("ACCESS_TOKEN_SECRET"); v != "" {
			keys = append(keys, SecretKey([]byte(v)))
		}
	} else {
		var secret []byte
		secret, errs = secretFromEnv("ACCESS_TOKEN_SECRET", errs)
		keys = append(keys, SecretKey(secret))
	}
	for i, path := range strings.Split(previousPaths, ",") {
		if path = strings.TrimSpace(path); path == "" {
			continue
		}
		k, err := pemKeyFile(path, false)
		if err != nil {
			errs = append(errs, fmt.Errorf("passauth: environment variable ACCESS_TOKEN_PREVIOUS_KEYS, file %d: %w", i+1, err))
		}
		keys = append(keys, k)
	}
	if previousSecret != "" {
		errs = checkSecretEnv("ACCESS_TOKEN_PREVIOUS_SECRET", previousSecret, errs)
		keys = append(keys, SecretKey([]byte(previousSecret)))
	}
	return nil, keys, errs
}

// pemKeyFile reads the key of a PEM file: a PKCS#8 private key, which signs
// when signing is set and otherwise only verifies, or, unless signing is
// set, a PKIX public key. Its errors never hold the file's bytes.
func pemKeyFile(path string, signing bool) (Key, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Key{}, errors.New("the file cannot be read")
	}
	block, rest := pem.Decode(data)
	if block == nil || len(bytes.TrimSpace(rest)) > 0 {
		return Key{}, errors.New("the file is not one PEM block")
	}
	switch {
	case block.Type == "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		signer, ok := k.(crypto.Signer)
		if err != nil || !ok {
			return Key{}, errors.New("not a PKCS#8 private key")
		}
		if signing {
			return SigningKey(signer), nil
		}
		return VerifyingKey(signer.Public()), nil
	case block.Type == "PUBLIC KEY" && !signing:
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return Key{}, errors.New("not a PKIX public key")
		}
		return VerifyingKey(k), nil
	}
	if signing {
		return Key{}, errors.New(`not a PEM "PRIVATE KEY" (PKCS#8)`)
	}
	return Key{}, errors.New(`not a PEM "PRIVATE KEY" (PKCS#8) or "PUBLIC KEY" (PKIX)`)
}

// secretHint is how the errors about a secret say to make a good one: 48
// random bytes, base64-encoded.
const secretHint = "make one with: openssl rand -base64 48"

func secretFromEnv(name string, errs []error) ([]byte, []error) {
	v, ok := os.LookupEnv(name)
	if !ok || v == "" {
		return nil, append(errs, fmt.Errorf("passauth: environment variable %s is not set; %s", name, secretHint))
	}
	return []byte(v), checkSecretEnv(name, v, errs)
}

// checkSecretEnv adds an error to errs when the secret v of variable name
// is too short to be one.
func checkSecretEnv(name, v string, errs []error) []error {
	if len(v) < MinSecretLen {
		return append(errs, fmt.Errorf("passauth: environment variable %s is shorter than %d bytes; %s", name, MinSecretLen, secretHint))
	}
	return errs
}

func ttlFromEnv(durName, minutesName string, errs []error) (time.Duration, []error) {
	if v, ok := os.LookupEnv(durName); ok && v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return 0, append(errs, fmt.Errorf("passauth: environment variable %s is not a Go duration such as 90s or 15m", durName))
		}
		return d, errs
	}
	v, ok := os.LookupEnv(minutesName)
	if !ok || v == "" {
		return 0, append(errs, fmt.Errorf("passauth: environment variable %s (or %s) is not set", minutesName, durName))
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n > int64(1<<63-1)/int64(time.Minute) || n < 0 {
		return 0, append(errs, fmt.Errorf("passauth: environment variable %s is not a whole number of minutes", minutesName))
	}
	return time.Duration(n) * time.Minute, errs
}
