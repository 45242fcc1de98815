-- wrk script for scripts/loadtest.sh: POSTs the demo server's login form
-- (RFC 6749 §4.3 password grant) and counts the answers by HTTP status.
--
-- The user name and password come from LOADTEST_USERNAME and
-- LOADTEST_PASSWORD (default johndoe / secret), so they never appear on a
-- command line. With LOADTEST_PAD=N, the body starts with N bytes of empty
-- parameters ("a=&a=&..."), the costliest 16 KiB body of
-- BenchmarkLoginBeforeLimiter when the whole body comes to 16 KiB.

local threads = {}

-- setup runs once per thread, in the main Lua state: keep the threads to
-- read their counters in done.
function setup(thread)
	table.insert(threads, thread)
end

local function urlencode(s)
	return (s:gsub("[^%w%-%._~]", function(c)
		return string.format("%%%02X", string.byte(c))
	end))
end

-- init runs in each thread's own Lua state.
function init(args)
	statuses = {}
	local user = os.getenv("LOADTEST_USERNAME") or "johndoe"
	local pass = os.getenv("LOADTEST_PASSWORD") or "secret"
	wrk.method = "POST"
	wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
	local pad = string.rep("a=&", math.floor((tonumber(os.getenv("LOADTEST_PAD") or "0") or 0) / 3))
	wrk.body = pad .. "grant_type=password&username=" .. urlencode(user) .. "&password=" .. urlencode(pass)
end

function response(status, headers, body)
	local key = tostring(status)
	statuses[key] = (statuses[key] or 0) + 1
end

-- done prints one line, "statuses: 200=N 429=N 503=N ...", for the script
-- to read; 429 (throttled) and 503 (no hashing slot) are always listed.
function done(summary, latency, requests)
	local total = { ["200"] = 0, ["429"] = 0, ["503"] = 0 }
	for _, thread in ipairs(threads) do
		for k, n in pairs(thread:get("statuses")) do
			total[k] = (total[k] or 0) + n
		end
	end
	local keys = {}
	for k in pairs(total) do
		table.insert(keys, k)
	end
	table.sort(keys)
	local parts = {}
	for _, k in ipairs(keys) do
		table.insert(parts, k .. "=" .. total[k])
	end
	io.write("statuses: " .. table.concat(parts, " ") .. "\n")
end
