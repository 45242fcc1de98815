package main

import (
	"net/http"
	"os"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/passauth/passauth"
	"github.com/passauth/passauth/examples/routers/internal/routertest"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.ReleaseMode)
	os.Exit(m.Run())
}

func TestRouter(t *testing.T) {
	routertest.Run(t, func(iss *passauth.TokenIssuer, hash string) http.Handler { return newRouter(iss, hash) })
}
