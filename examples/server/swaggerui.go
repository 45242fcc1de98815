package main

import (
	"compress/gzip"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/swaggest/swgui/v5/static"
)

// swaggerUIAssetsPath is where the demo serves the Swagger UI files it
// embeds: those of swagger-ui-dist 5.29 (Apache License 2.0), as the Go
// module github.com/swaggest/swgui (MIT) ships them, pinned in go.mod. They
// are the default asset base of /docs, so that it works offline.
const swaggerUIAssetsPath = "/docs/assets"

// swaggerUIAssets serves the embedded Swagger UI files under
// swaggerUIAssetsPath: stored gzipped, they are sent as they are to
// clients that accept gzip and decompressed for the others. Only the files
// the /docs page loads are served.
func swaggerUIAssets() http.Handler {
	types := map[string]string{
		"swagger-ui-bundle.js": "text/javascript; charset=utf-8",
		"swagger-ui.css":       "text/css; charset=utf-8",
		"favicon-32x32.png":    "image/png",
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := path.Base(r.URL.Path)
		ctype, ok := types[name]
		if !ok || r.URL.Path != swaggerUIAssetsPath+"/"+name {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", ctype)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "public, max-age=86400")
		if strings.HasSuffix(name, ".png") {
			b, err := fs.ReadFile(static.FS, name)
			if err != nil {
				http.Error(w, "asset missing", http.StatusInternalServerError)
				return
			}
			_, _ = w.Write(b)
			return
		}
		gz, err := static.FS.Open(name + ".gz")
		if err != nil {
			http.Error(w, "asset missing", http.StatusInternalServerError)
			return
		}
		defer gz.Close()
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r) {
			h.Set("Content-Encoding", "gzip")
			_, _ = io.Copy(w, gz)
			return
		}
		zr, err := gzip.NewReader(gz)
		if err != nil {
			http.Error(w, "asset unreadable", http.StatusInternalServerError)
			return
		}
		_, _ = io.Copy(w, zr)
	})
}

// acceptsGzip reports whether r's Accept-Encoding allows gzip (RFC 9110
// §12.5.3), q=0 being a refusal.
func acceptsGzip(r *http.Request) bool {
	for _, field := range r.Header.Values("Accept-Encoding") {
		for _, item := range strings.Split(field, ",") {
			coding, params, _ := strings.Cut(strings.TrimSpace(item), ";")
			if !strings.EqualFold(strings.TrimSpace(coding), "gzip") && strings.TrimSpace(coding) != "*" {
				continue
			}
			q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}
