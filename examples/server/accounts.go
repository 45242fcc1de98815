package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"

	"github.com/passauth/passauth"
)

// accountsSchema creates the demo's users table; it runs as it is on
// PostgreSQL and SQLite. username_key is the name folded (usernameKey),
// unique, so that JohnDoe and johndoe are one user.
const accountsSchema = `CREATE TABLE IF NOT EXISTS demo_users (
	id            TEXT   PRIMARY KEY,
	username      TEXT   NOT NULL,
	username_key  TEXT   NOT NULL UNIQUE,
	password_hash TEXT   NOT NULL,
	created       BIGINT NOT NULL
)`

// The demo's scopes, which every user holds.
var demoScopes = []string{"me", "items"}

// accounts is the demo's user store, a table of the database: a
// passauth.UserLookup and a passauth.PasswordUpdater. A user's tokens have
// its name as stored as "sub", however it was typed at login, and its row
// ID as the application claim "user_id".
type accounts struct {
	db      *sql.DB
	sqlite  bool
	hasher  passauth.PasswordHasher // of new passwords, the issuer's policy
	timeout time.Duration           // of each query
}

// errNameTaken is what create returns for a name that is in use.
var errNameTaken = errors.New("user name taken")

// newAccounts creates the users table when missing. New passwords are
// hashed with hasher, passauth's Argon2id when nil.
func newAccounts(ctx context.Context, db *sql.DB, sqlite bool, hasher passauth.PasswordHasher) (*accounts, error) {
	if hasher == nil {
		hasher = passauth.Argon2id{}
	}
	a := &accounts{db: db, sqlite: sqlite, hasher: hasher, timeout: 2 * time.Second}
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	if _, err := db.ExecContext(ctx, accountsSchema); err != nil {
		return nil, fmt.Errorf("creating the users table: %w", err)
	}
	return a, nil
}

// q turns a statement's $n parameters into SQLite's ?n.
func (a *accounts) q(stmt string) string {
	if a.sqlite {
		return strings.ReplaceAll(stmt, "$", "?")
	}
	return stmt
}

// account is one row.
type account struct {
	id, username, hash string
}

func (a *accounts) user(acc account) passauth.User {
	return passauth.User{
		Username:     acc.username,
		PasswordHash: acc.hash,
		Scopes:       demoScopes,
		Claims:       map[string]any{"user_id": acc.id},
	}
}

func (a *accounts) find(ctx context.Context, column, value string) (account, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	var acc account
	err := a.db.QueryRowContext(ctx, a.q("SELECT id, username, password_hash FROM demo_users WHERE "+column+" = $1"), value).
		Scan(&acc.id, &acc.username, &acc.hash)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return account{}, false, nil
	case err != nil:
		return account{}, false, err
	}
	return acc, true, nil
}

// LookupUser implements passauth.UserLookup: the user of a name, in any
// case; refreshing looks the user up by the stored name, its "sub".
func (a *accounts) LookupUser(ctx context.Context, name string) (passauth.User, bool, error) {
	acc, ok, err := a.find(ctx, "username_key", usernameKey(name))
	if !ok || err != nil {
		return passauth.User{}, false, err
	}
	return a.user(acc), true, nil
}

// UpdatePasswordHash implements passauth.PasswordUpdater, which the token
// handler calls with User.Username.
func (a *accounts) UpdatePasswordHash(ctx context.Context, username, hash string) error {
	return a.exec(ctx, "UPDATE demo_users SET password_hash = $1 WHERE username_key = $2", hash, usernameKey(username))
}

func (a *accounts) exec(ctx context.Context, stmt string, args ...any) error {
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	_, err := a.db.ExecContext(ctx, a.q(stmt), args...)
	return err
}

// create adds a user with a new ID, or fails with errNameTaken; the name
// must have passed checkNewUsername.
func (a *accounts) create(ctx context.Context, name, hash string) (id string, err error) {
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	id = "u-" + strings.ToLower(rand.Text())
	res, err := a.db.ExecContext(ctx, a.q(`INSERT INTO demo_users (id, username, username_key, password_hash, created)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (username_key) DO NOTHING`),
		id, name, usernameKey(name), hash, time.Now().Unix())
	if err != nil {
		return "", err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return "", errNameTaken
	}
	return id, nil
}

// usernameKey is the form of a name that two spellings of one name share:
// composed (NFC) and case-folded, so that "JOHNDOE", "johndoe" and the
// two ways of writing "José" each name one user.
func usernameKey(name string) string {
	return cases.Fold().String(norm.NFC.String(name))
}

// normalizeUsername is the demo's passauth.Config.NormalizeUsername: names
// are composed (NFC), so that the limiter counts both ways of writing one
// name as one. The lookup folds case itself.
func normalizeUsername(name string) (string, error) {
	return norm.NFC.String(name), nil
}

// The policy of new names and passwords, which POST /api/users and POST
// /api/users/me/password answer with when they refuse one.
const (
	minUsernameLen = 3   // characters
	maxUsernameLen = 32  // characters
	minPasswordLen = 8   // characters, as NIST SP 800-63B asks at least
	maxPasswordLen = 128 // characters; passphrases fit, floods do not
)

var (
	errUsernamePolicy = fmt.Errorf("username must be %d to %d letters, digits, '.', '_' or '-', starting with a letter or digit",
		minUsernameLen, maxUsernameLen)
	errPasswordPolicy = fmt.Errorf("password must be %d to %d characters", minPasswordLen, maxPasswordLen)
)

// checkNewUsername returns the name composed (NFC) when it follows the
// policy, and errUsernamePolicy when not.
func checkNewUsername(name string) (string, error) {
	if !utf8.ValidString(name) {
		return "", errUsernamePolicy
	}
	name = norm.NFC.String(name)
	n := utf8.RuneCountInString(name)
	if n < minUsernameLen || n > maxUsernameLen {
		return "", errUsernamePolicy
	}
	for i, r := range name {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
		case i > 0 && (unicode.Is(unicode.Mn, r) || r == '.' || r == '_' || r == '-'):
		default:
			return "", errUsernamePolicy
		}
	}
	return name, nil
}

// checkNewPassword returns errPasswordPolicy when password does not follow
// the policy.
func checkNewPassword(password string) error {
	if !utf8.ValidString(password) {
		return errPasswordPolicy
	}
	if n := utf8.RuneCountInString(password); n < minPasswordLen || n > maxPasswordLen {
		return errPasswordPolicy
	}
	return nil
}

// ensureDemoUser creates the demo user when it is missing and, when
// DEMO_PASSWORD was given (set) and does not match the stored hash, sets
// the password and ends the user's sessions, as a password reset does: a
// restart with another password does what was meant.
func (a *accounts) ensureDemoUser(ctx context.Context, logger *slog.Logger, iss *passauth.TokenIssuer, name, password string, set bool) error {
	u, found, err := a.LookupUser(ctx, name)
	if err != nil {
		return fmt.Errorf("DATABASE_URL: reading the demo user: %w", err)
	}
	switch {
	case !found:
		hash, err := a.hasher.Hash(password)
		if err != nil {
			return fmt.Errorf("DEMO_PASSWORD: %w", err)
		}
		if _, err := a.create(ctx, name, hash); err != nil {
			return fmt.Errorf("DATABASE_URL: creating the demo user: %w", err)
		}
		logger.Info("created the demo user", "username", name, "password_from", map[bool]string{true: "DEMO_PASSWORD", false: "the default"}[set])
	case set && a.hasher.Check(u.PasswordHash, password) != nil:
		hash, err := a.hasher.Hash(password)
		if err != nil {
			return fmt.Errorf("DEMO_PASSWORD: %w", err)
		}
		if err := a.UpdatePasswordHash(ctx, u.Username, hash); err != nil {
			return fmt.Errorf("DATABASE_URL: setting the demo user's password: %w", err)
		}
		if err := iss.RevokeSubject(ctx, u.Username); err != nil {
			return fmt.Errorf("ending the demo user's sessions after its password changed: %w", err)
		}
		logger.Info("set the demo user's password from DEMO_PASSWORD and ended its sessions", "username", u.Username)
	}
	return nil
}
