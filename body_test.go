package passauth_test

// Request bodies seen through the handlers; the form parser itself is
// fuzzed in body_internal_test.go.

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
)

// A body that fails while being read is the client's problem: 400, never a
// 500.
func TestRequestBodyReadError(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for name, h := range map[string]http.Handler{"token": f.token, "refresh": f.refresh} {
		contentType := form
		if name == "refresh" {
			contentType = "application/json"
		}
		r := httptest.NewRequest(http.MethodPost, "/", iotest.ErrReader(errors.New("connection reset")))
		r.Header.Set("Content-Type", contentType)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		assertError(t, rec, http.StatusBadRequest, "invalid_request", "request body could not be read")
		assert.NotContains(t, rec.Body.String(), "connection reset", name)
	}
}
