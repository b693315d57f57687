-- The loop benchmark's workload on lua5.4 + luv (Debian lua-luv), for comparison
-- with bench/loop.lua. Prints one "name value" line per figure.
local uv = require "luv"

local function udp_echo(rounds, window)
  local a, b = uv.new_udp(), uv.new_udp()
  assert(a:bind("127.0.0.1", 0)); assert(b:bind("127.0.0.1", 0))
  local bport = b:getsockname().port
  local aport = a:getsockname().port
  b:recv_start(function(err, data, addr) if data then b:send(data, addr.ip, addr.port, nil) end end)
  local done, t0 = 0, uv.hrtime()
  local sent = 0
  a:recv_start(function(err, data)
    if not data then return end
    done = done + 1
    if sent < rounds then sent = sent + 1; a:send("ping", "127.0.0.1", bport, nil) end
    if done == rounds then a:close(); b:close() end
  end)
  for _ = 1, window do sent = sent + 1; a:send("ping", "127.0.0.1", bport, nil) end
  uv.run()
  local _ = aport
  return rounds / ((uv.hrtime() - t0) / 1e9)
end

local function timers(n)
  local fired, t0 = 0, uv.hrtime()
  for i = 1, n do
    local t = uv.new_timer()
    t:start(i % 10, 0, function() fired = fired + 1; t:close() end)
  end
  uv.run()
  assert(fired == n)
  return n / ((uv.hrtime() - t0) / 1e9)
end

local rounds = tonumber(arg[1]) or 50000
print("udp_rt_w1", udp_echo(rounds, 1))
print("udp_rt_w32", udp_echo(rounds, 32))
print("timers", timers(100000))
