-- Loop benchmark: UDP echo round trips per second through Lua callbacks (one and 32
-- datagrams in flight) and 100k timers scheduled and fired, on luartc and on
-- lua5.4 + luv side by side.
--   luartc bench/loop.lua [rounds]        (LUA54=/path/to/lua5.4 to choose the interpreter for luv)
local rtc = require "rtc"

local function udp_echo(rounds, window)
  local a = assert(rtc.udp { host = "127.0.0.1" })
  local b = assert(rtc.udp { host = "127.0.0.1" })
  local _, bport = b:local_address()
  b:on("message", function(data, host, port) b:send(data, host, port) end)
  local done, sent, t0 = 0, 0, rtc.now()
  local me = coroutine.running()
  a:on("message", function()
    done = done + 1
    if sent < rounds then sent = sent + 1; a:send("ping", "127.0.0.1", bport) end
    if done == rounds then coroutine.resume(me) end
  end)
  for _ = 1, window do sent = sent + 1; a:send("ping", "127.0.0.1", bport) end
  coroutine.yield()
  local rate = rounds / ((rtc.now() - t0) / 1000)
  a:close(); b:close()
  return rate
end

local function timers(n)
  local fired, t0 = 0, rtc.now()
  local me = coroutine.running()
  for i = 1, n do
    rtc.set_timeout(i % 10, function()
      fired = fired + 1
      if fired == n then coroutine.resume(me) end
    end)
  end
  coroutine.yield()
  return n / ((rtc.now() - t0) / 1000)
end

local rounds = tonumber(arg[1]) or 50000
local ours = {
  udp_rt_w1 = udp_echo(rounds, 1),
  udp_rt_w32 = udp_echo(rounds, 32),
  timers = timers(100000),
}

local here = (arg[0]:match("^(.*)/[^/]*$") or ".")
local lua54 = os.getenv("LUA54") or "lua5.4"
local p = io.popen(string.format("%s %q %d", lua54, here .. "/loop_luv.lua", rounds))
local luv = {}
for line in p:lines() do
  local k, v = line:match("^(%S+)%s+(%S+)$")
  if k then luv[k] = tonumber(v) end
end
p:close()

local rows = {
  { "udp_rt_w1", "UDP echo round trips/s, 1 in flight" },
  { "udp_rt_w32", "UDP echo round trips/s, 32 in flight" },
  { "timers", "timers scheduled+fired/s (100k)" },
}
print(string.format("%-40s %14s %14s %8s", "benchmark", "luartc", "lua5.4+luv", "ratio"))
for _, r in ipairs(rows) do
  local a, b = ours[r[1]], luv[r[1]]
  print(string.format("%-40s %14.0f %14s %8s", r[2], a, b and string.format("%.0f", b) or "n/a",
                      b and string.format("%.2fx", a / b) or "n/a"))
end
