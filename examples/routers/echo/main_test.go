package main

import (
	"net/http"
	"testing"

	"github.com/passauth/passauth"
	"github.com/passauth/passauth/examples/routers/internal/routertest"
)

func TestRouter(t *testing.T) {
	routertest.Run(t, func(iss *passauth.TokenIssuer, hash string) http.Handler { return newRouter(iss, hash) })
}
