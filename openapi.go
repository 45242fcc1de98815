package passauth

// SecurityScheme is an OpenAPI 3.1 Security Scheme Object. OpenAPIScheme
// returns one for the OAuth 2.0 password flow; marshal it with encoding/json
// under components.securitySchemes of the application's OpenAPI document.
type SecurityScheme struct {
	Type        string     `json:"type"`
	Description string     `json:"description,omitempty"`
	Flows       OAuthFlows `json:"flows"`
}

// OAuthFlows is an OpenAPI OAuth Flows Object with the one flow passauth
// serves.
type OAuthFlows struct {
	Password *OAuthFlow `json:"password,omitempty"`
}

// OAuthFlow is an OpenAPI OAuth Flow Object.
type OAuthFlow struct {
	TokenURL   string            `json:"tokenUrl"`
	RefreshURL string            `json:"refreshUrl,omitempty"`
	Scopes     map[string]string `json:"scopes"`
}

// OpenAPIScheme returns the security scheme of an API protected by
// passauth: the OAuth 2.0 password flow whose token endpoint is tokenURL
// (where TokenHandler is mounted; it also refreshes, so refreshURL is
// usually the same URL or empty), with the scopes the application grants,
// each with a description. Declaring it is what makes Swagger UI show its
// Authorize button, which logs in through TokenHandler and sends the token
// as a Bearer header. URLs may be relative to the document's server.
//
// Reference the scheme from each protected operation with a Security
// Requirement such as {"OAuth2PasswordBearer": ["me"]}.
func OpenAPIScheme(tokenURL, refreshURL string, scopes map[string]string) SecurityScheme {
	s := make(map[string]string, len(scopes)) // the OpenAPI field is required, even empty
	for k, v := range scopes {
		s[k] = v
	}
	return SecurityScheme{
		Type:        "oauth2",
		Description: "OAuth 2.0 password flow (RFC 6749 §4.3); send the access token as Authorization: Bearer.",
		Flows: OAuthFlows{Password: &OAuthFlow{
			TokenURL:   tokenURL,
			RefreshURL: refreshURL,
			Scopes:     s,
		}},
	}
}
