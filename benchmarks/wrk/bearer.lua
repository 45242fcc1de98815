-- wrk script for benchmarks/wrk.sh: sends the access token mebench wrote
-- to MEBENCH_TOKEN_FILE as "Authorization: Bearer", so that the token is
-- never on a command line. It sets the header once, in init: the request
-- stays static, and wrk runs no Lua per request.

function init(args)
	local f = assert(io.open(os.getenv("MEBENCH_TOKEN_FILE"), "r"))
	local token = f:read("*l")
	f:close()
	wrk.headers["Authorization"] = "Bearer " .. token
end
