package main

import (
	"testing"

	"github.com/passauth/passauth/examples/routers/internal/routertest"
)

func TestRouter(t *testing.T) { routertest.Run(t, newRouter) }
