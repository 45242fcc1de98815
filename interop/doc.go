// Package interop tests passauth against third-party OAuth 2.0 clients, such
// as golang.org/x/oauth2. It is a module of its own so that those clients
// never enter the requirements of github.com/passauth/passauth; it has no API.
package interop
