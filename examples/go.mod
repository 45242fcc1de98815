module github.com/passauth/passauth/examples

go 1.26.0

require (
	github.com/passauth/passauth v0.1.0
	github.com/passauth/passauth/redisstore v0.1.0
	github.com/redis/go-redis/v9 v9.23.0
	github.com/stretchr/testify v1.12.1
	github.com/swaggest/swgui v1.8.5
	golang.org/x/crypto v0.59.0
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/golang-jwt/jwt/v5 v5.3.1 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/sys v0.50.0 // indirect
)

replace github.com/passauth/passauth => ../

replace github.com/passauth/passauth/redisstore => ../redisstore
