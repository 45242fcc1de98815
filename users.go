package passauth

import "context"

// User is what the token handler needs to know about an account.
type User struct {
	// Username is the canonical name, as stored: the tokens' "sub" claim
	// unless Subject is set, and the name UpdatePasswordHash is called
	// with. Empty means the name the client logged in with, so that "sub"
	// depends on how the user typed it (JohnDoe and johndoe become two
	// subjects under a case-insensitive lookup): set it, or Subject.
	Username string

	// Subject, when set, is the tokens' "sub" claim instead of Username: a
	// stable ID such as the user's database key, which a rename does not
	// change. Refreshing looks the user up again by the token's "sub": with
	// LookupSubject when the UserLookup is a SubjectLookup, and else with
	// LookupUser, which must then find the user by it.
	Subject string

	// Claims are application claims (a role, a tenant) that a password
	// login puts into both tokens, as IssuePair's WithClaims does, and that
	// refreshing carries over unchanged; read them back with Claims.Decode.
	// A name the package sets itself (see WithClaims) fails the login with
	// 500 server_error, as a mistake in the program. The map is not kept.
	Claims map[string]any

	// PasswordHash is the stored hash in one of the formats CheckPassword
	// reads: an argon2id PHC string ("$argon2id$v=19$m=…,t=…,p=…$salt$hash",
	// as HashPassword, argon2-cffi, passlib and pwdlib write it) or a bcrypt
	// hash ("$2a$", "$2b$" or "$2y$"), or in the application's own format
	// when Config.PasswordHasher reads it. An empty or unreadable hash never
	// matches.
	PasswordHash string

	// Disabled, when set, makes the account unable to log in or refresh. The
	// handlers answer exactly as for a wrong password.
	Disabled bool

	// Scopes are the scopes the user may be granted (RFC 6749 §3.3). A login
	// that asks for no scope gets all of them; one that asks for some gets
	// those it holds, and invalid_scope when it holds none of them.
	Scopes []string
}

// UserLookup finds users for the token and refresh handlers. The package,
// not the lookup, verifies the password.
//
// LookupUser returns found == false, with a nil error, when there is no such
// user; a non-nil error means the lookup itself failed (a database down, say)
// and is answered with 500 server_error, its text never sent to the client.
// The handlers call LookupUser from many goroutines at once.
type UserLookup interface {
	LookupUser(ctx context.Context, username string) (u User, found bool, err error)
}

// SubjectLookup is implemented by a UserLookup whose users have a Subject
// other than their name (an ID, say): the refresh handlers look the user of
// a refresh token up by its "sub" claim with LookupSubject, and the token
// handler still by name with LookupUser. Its results mean what LookupUser's
// do.
type SubjectLookup interface {
	UserLookup
	LookupSubject(ctx context.Context, subject string) (u User, found bool, err error)
}

// UserLookupFunc adapts an ordinary function to the UserLookup interface, the
// way http.HandlerFunc adapts a function to http.Handler.
type UserLookupFunc func(ctx context.Context, username string) (User, bool, error)

// LookupUser calls f(ctx, username).
func (f UserLookupFunc) LookupUser(ctx context.Context, username string) (User, bool, error) {
	return f(ctx, username)
}

// PasswordUpdater is implemented by a UserLookup that can store a new
// password hash. After a successful login whose stored hash is weaker than
// Config.PasswordHasher's policy (a bcrypt hash, say, when the policy is
// Argon2id), the token handler hashes the password again and calls
// UpdatePasswordHash with the user's Username, so that a user base moves to
// the current policy without a password reset. The login succeeds whatever
// UpdatePasswordHash returns.
type PasswordUpdater interface {
	UpdatePasswordHash(ctx context.Context, username, newHash string) error
}

// lookupSubject finds the user whose tokens have subject as "sub".
func lookupSubject(ctx context.Context, users UserLookup, subject string) (User, bool, error) {
	if sl, ok := users.(SubjectLookup); ok {
		return sl.LookupSubject(ctx, subject)
	}
	return users.LookupUser(ctx, subject)
}
