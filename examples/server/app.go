package main

import (
	"embed"
	"net/http"
)

// appFiles is the demo app of /app/: a same-origin page on the cookie
// transport, plain HTML and JavaScript.
//
//go:embed app/index.html app/app.js
var appFiles embed.FS

// appHandler serves the demo app: /app/ and /app/app.js, under a
// Content-Security-Policy that lets the page load its own script and
// nothing else, nor be framed.
func appHandler() http.Handler {
	files := http.FileServerFS(appFiles)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/app/" && r.URL.Path != "/app/app.js" {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}
