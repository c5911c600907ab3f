-- wrk script: PUT /v1/kv/bench/put-<n> with a small body, n cycling over a bounded set of
-- keys (PUT_KEYS, default 1000; PUT_BODY_BYTES, default 64). Each wrk thread starts at its
-- own offset so threads do not write the same key in lockstep. Used unchanged against nginx,
-- which answers any method with its fixed `return 200`, so both see the same request shape.
local keys = tonumber(os.getenv("PUT_KEYS") or "1000")
local body = string.rep("x", tonumber(os.getenv("PUT_BODY_BYTES") or "64"))
local headers = { ["Content-Type"] = "application/octet-stream" }
local threads = 0
local counter = 0

function setup(thread)
  thread:set("offset", (threads * 7919) % keys)
  threads = threads + 1
end

function init(args)
  counter = offset or 0
end

function request()
  counter = (counter + 1) % keys
  return wrk.format("PUT", "/v1/kv/bench/put-" .. counter, headers, body)
end
