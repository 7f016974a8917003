-- wrk script: each connection registers its own 16 services once, then renews them round-robin.
-- Used by bench-renews.sh to measure durable renews/s with the same client as /healthz, and by
-- shared-bench's renews phase. An optional script argument (wrk URL -- PREFIX) prefixes the ids, so
-- two wrk processes register different services.
local counter = 0
local thread_id = 0
local prefix = "w"

init = function(args)
  if args[1] then prefix = args[1] end
end

setup = function(thread)
  thread:set("thread_id", counter)
  counter = counter + 1
end

local sent = 0
request = function()
  local i = sent % 1024
  local body = '{"id":"' .. prefix .. thread_id .. '-' .. i .. '","name":"bench-' .. (i % 64) .. '","node":"wrk-node"'
  local method = "PUT"
  -- wrk calls request() once before the run without sending it: registering one more than the
  -- pool (i = 0 twice) makes sure every renewed service was registered.
  if sent <= 1024 then
    method = "POST"
    body = body .. ',"network":"tcp","address":":80"'
  end
  sent = sent + 1
  return wrk.format(method, nil, {["Content-Type"] = "application/json"}, body .. "}")
end
