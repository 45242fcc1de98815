package main

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSwaggerUIAssets checks that the embedded Swagger UI files are served
// under /docs/assets, gzipped to clients that take gzip and plain to the
// others, with their types, and nothing else from the embedded files.
func TestSwaggerUIAssets(t *testing.T) {
	t.Parallel()
	h := swaggerUIAssets()
	get := func(path, acceptEncoding string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		if acceptEncoding != "" {
			req.Header.Set("Accept-Encoding", acceptEncoding)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	files := []struct{ name, ctype, contains string }{
		{"swagger-ui-bundle.js", "text/javascript; charset=utf-8", "SwaggerUIBundle"},
		{"swagger-ui.css", "text/css; charset=utf-8", ".swagger-ui"},
	}
	for _, f := range files {
		for _, enc := range []string{"", "gzip, deflate, br", "br;q=1.0, gzip;q=0", "identity"} {
			rec := get(swaggerUIAssetsPath+"/"+f.name, enc)
			require.Equal(t, http.StatusOK, rec.Code, "%s with Accept-Encoding %q", f.name, enc)
			assert.Equal(t, f.ctype, rec.Header().Get("Content-Type"))
			assert.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"))
			assert.Equal(t, "Accept-Encoding", rec.Header().Get("Vary"))
			body := rec.Body.Bytes()
			if enc == "gzip, deflate, br" {
				assert.Equal(t, "gzip", rec.Header().Get("Content-Encoding"))
				zr, err := gzip.NewReader(rec.Body)
				require.NoError(t, err)
				body, err = io.ReadAll(zr)
				require.NoError(t, err)
			} else {
				assert.Empty(t, rec.Header().Get("Content-Encoding"), "%s with Accept-Encoding %q", f.name, enc)
			}
			assert.Contains(t, string(body), f.contains, "%s with Accept-Encoding %q", f.name, enc)
			assert.Greater(t, len(body), 10_000, f.name)
		}
	}
	rec := get(swaggerUIAssetsPath+"/favicon-32x32.png", "")
	require.Equal(t, http.StatusOK, rec.Code)
	assert.True(t, strings.HasPrefix(rec.Body.String(), "\x89PNG"), "favicon is a PNG")

	for _, path := range []string{
		swaggerUIAssetsPath + "/swagger-ui.js", // embedded, not used by the page
		swaggerUIAssetsPath + "/swagger-ui-bundle.js.gz",
		swaggerUIAssetsPath + "/embed.go",
		swaggerUIAssetsPath + "/",
		swaggerUIAssetsPath + "/x/swagger-ui.css",
	} {
		assert.Equal(t, http.StatusNotFound, get(path, "gzip").Code, path)
	}
}
