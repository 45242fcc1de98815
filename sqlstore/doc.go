// Package sqlstore is a passauth.Store kept in PostgreSQL or SQLite.
package sqlstore
