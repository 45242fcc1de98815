package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite"

	"github.com/passauth/passauth"
	"github.com/passauth/passauth/sqlstore"
)

// A TokenIssuer keeping its sessions in a SQLite file: a login, a refresh,
// and the old refresh token presented again, which is reuse.
func Example() {
	dir, err := os.MkdirTemp("", "sqlstore-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "passauth.db")+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(4)

	ctx := context.Background()
	store, err := sqlstore.New(db, sqlstore.SQLite)
	if err != nil {
		log.Fatal(err)
	}
	if err := store.Migrate(ctx); err != nil {
		log.Fatal(err)
	}
	iss, err := passauth.NewTokenIssuer(passauth.Config{
		AccessSecret:  []byte("example access secret, 32 bytes or more"),
		RefreshSecret: []byte("example refresh secret, 32 bytes or more"),
		AccessTTL:     15 * time.Minute,
		RefreshTTL:    24 * time.Hour,
		Store:         store,
	})
	if err != nil {
		log.Fatal(err)
	}

	login, err := iss.IssuePair(ctx, "alice")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := iss.Refresh(ctx, login.RefreshToken); err != nil {
		log.Fatal(err)
	}
	fmt.Println("refreshed")
	_, err = iss.Refresh(ctx, login.RefreshToken)
	fmt.Println("the old token again is reuse:", errors.Is(err, passauth.ErrTokenReused))
	sessions, err := store.Sessions(ctx, "alice")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("alice's live sessions:", len(sessions))
	// Output:
	// refreshed
	// the old token again is reuse: true
	// alice's live sessions: 0
}
