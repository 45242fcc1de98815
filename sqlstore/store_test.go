package sqlstore_test

import (
	"crypto/rand"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/passauth/passauth"
)

// TestTimesKeepNanoseconds checks that the times the store is given come
// back to the nanosecond: a denial's time, and the expiry that a retried
// rotation reads from the family.
func TestTimesKeepNanoseconds(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		s, _ := newStore(t, b)
		ctx := t.Context()
		at := time.Unix(0, time.Now().UnixNano()/1000*1000+123) // a time with nanoseconds
		subject := "subject-" + rand.Text()
		require.NoError(t, s.Deny(ctx, passauth.Denial{Subject: subject, At: at, Expires: at.Add(time.Hour)}))
		got, found, err := s.Denied(ctx, passauth.DenyQuery{Subject: subject})
		require.NoError(t, err)
		require.True(t, found)
		assert.True(t, got.Equal(at), "Denied = %v, want %v", got.Format(time.RFC3339Nano), at.Format(time.RFC3339Nano))

		sess, a, b2 := newTestSession(), rand.Text(), rand.Text()
		rotate(t, s, sess.rotation("", a), passauth.RotateOK, "start")
		r := sess.rotation(a, b2)
		r.Expires = at.Add(30 * time.Minute)
		rotate(t, s, r, passauth.RotateOK, "rotate")
		retried := rotate(t, s, r, passauth.RotateOK, "the same rotation again")
		assert.True(t, retried.Expires.Equal(r.Expires), "Expires = %v, want %v", retried.Expires.Format(time.RFC3339Nano), r.Expires.Format(time.RFC3339Nano))
	})
}

// TestImportsNoDriver checks that the package itself imports only the
// standard library and passauth: the application brings the driver.
func TestImportsNoDriver(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	checked := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		require.NoError(t, err)
		parsed, err := parser.ParseFile(token.NewFileSet(), f, src, parser.ImportsOnly)
		require.NoError(t, err)
		for _, imp := range parsed.Imports {
			path, err := strconv.Unquote(imp.Path.Value)
			require.NoError(t, err)
			first, _, _ := strings.Cut(path, "/")
			assert.True(t, !strings.Contains(first, ".") || path == "github.com/passauth/passauth", "%s imports %s", f, path)
		}
		checked++
	}
	assert.Positive(t, checked)
}
