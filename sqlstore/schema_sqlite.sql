-- The schema of github.com/passauth/passauth/sqlstore on SQLite (3.37 or
-- later), version 1: what Store.Migrate runs on an empty database, with the
-- default table prefix. Every statement is idempotent. Times are Unix
-- nanoseconds; revoked is 0 or 1. The package documentation says what each
-- column holds.

CREATE TABLE IF NOT EXISTS passauth_schema_version (
	version INTEGER NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS passauth_families (
	subject         TEXT    NOT NULL,
	family          TEXT    NOT NULL,
	client          TEXT    NOT NULL,
	created         INTEGER NOT NULL,
	last_used       INTEGER NOT NULL,
	current_id      TEXT    NOT NULL,
	current_expires INTEGER NOT NULL,
	previous_id     TEXT    NOT NULL DEFAULT '',
	replaced        INTEGER NOT NULL DEFAULT 0,
	replays         INTEGER NOT NULL DEFAULT 0,
	revoked         INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1)),
	expires         INTEGER NOT NULL,
	PRIMARY KEY (subject, family)
) WITHOUT ROWID, STRICT;

CREATE INDEX IF NOT EXISTS passauth_families_expires ON passauth_families (expires);

CREATE TABLE IF NOT EXISTS passauth_denials (
	subject   TEXT    NOT NULL,
	kind      TEXT    NOT NULL CHECK (kind IN ('sub', 'sid', 'jti')),
	id        TEXT    NOT NULL,
	denied_at INTEGER NOT NULL,
	expires   INTEGER NOT NULL,
	PRIMARY KEY (subject, kind, id)
) WITHOUT ROWID, STRICT;

CREATE INDEX IF NOT EXISTS passauth_denials_expires ON passauth_denials (expires);

INSERT INTO passauth_schema_version (version)
	SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM passauth_schema_version);
