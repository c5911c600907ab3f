-- wrk script for bench/raft_etcd.sh: one request shape per run, chosen by RAFT_KV_MODE, over
-- RAFT_KV_KEYS keys (10,000) named bench/<n>, with RAFT_KV_VALUE_BYTES-byte values (128).
--   proconsul-put    PUT /v1/kv/bench/<n>, the value as the body
--   proconsul-get    GET /v1/kv/bench/<n>            (default mode: linearizable)
--   proconsul-stale  GET /v1/kv/bench/<n>?stale
--   etcd-put         POST /v3/kv/put   {"key": b64, "value": b64}
--   etcd-get         POST /v3/kv/range {"key": b64}  (linearizable)
--   etcd-stale       POST /v3/kv/range {"key": b64, "serializable": true}
-- Each wrk thread walks the keys in order from its own offset, so threads do not hit the same
-- key in lockstep and every key is touched once per RAFT_KV_KEYS requests of a thread. Bodies
-- are built once in init(), not per request.
local mode = os.getenv("RAFT_KV_MODE") or "proconsul-put"
local keys = tonumber(os.getenv("RAFT_KV_KEYS") or "10000")
local value = string.rep("v", tonumber(os.getenv("RAFT_KV_VALUE_BYTES") or "128"))
local threads = 0

local b64chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function base64(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local c1 = math.floor(n / 262144) % 64
    local c2 = math.floor(n / 4096) % 64
    local c3 = math.floor(n / 64) % 64
    local c4 = n % 64
    out[#out + 1] = b64chars:sub(c1 + 1, c1 + 1) .. b64chars:sub(c2 + 1, c2 + 1) ..
      (b and b64chars:sub(c3 + 1, c3 + 1) or "=") .. (c and b64chars:sub(c4 + 1, c4 + 1) or "=")
  end
  return table.concat(out)
end

function setup(thread)
  thread:set("offset", (threads * 7919) % keys)
  threads = threads + 1
end

local requests = {}
local counter = 0

function init(args)
  counter = offset or 0
  local value64 = base64(value)
  local json = { ["Content-Type"] = "application/json" }
  local octets = { ["Content-Type"] = "application/octet-stream" }
  for n = 0, keys - 1 do
    local key = "bench/" .. n
    local r
    if mode == "proconsul-put" then
      r = wrk.format("PUT", "/v1/kv/" .. key, octets, value)
    elseif mode == "proconsul-get" then
      r = wrk.format("GET", "/v1/kv/" .. key)
    elseif mode == "proconsul-stale" then
      r = wrk.format("GET", "/v1/kv/" .. key .. "?stale")
    elseif mode == "etcd-put" then
      r = wrk.format("POST", "/v3/kv/put", json,
        '{"key":"' .. base64(key) .. '","value":"' .. value64 .. '"}')
    elseif mode == "etcd-get" then
      r = wrk.format("POST", "/v3/kv/range", json, '{"key":"' .. base64(key) .. '"}')
    elseif mode == "etcd-stale" then
      r = wrk.format("POST", "/v3/kv/range", json,
        '{"key":"' .. base64(key) .. '","serializable":true}')
    else
      error("unknown RAFT_KV_MODE " .. mode)
    end
    requests[n] = r
  end
end

function request()
  counter = (counter + 1) % keys
  return requests[counter]
end
