-- udp_echo.lua: a UDP echo server, and a client that checks it.
--   luartc examples/udp_echo.lua              -- self-test on a free port, then exit
--   luartc examples/udp_echo.lua serve 9000   -- serve on 127.0.0.1:9000 until Ctrl-C
local rtc = require "rtc"

local function serve(port)
  local sock = assert(rtc.udp { host = "127.0.0.1", port = port })
  sock:on("message", function(data, host, p) sock:send(data, host, p) end)
  rtc.on("shutdown", function() sock:close() end)
  return sock
end

if arg[1] == "serve" then
  local sock = serve(tonumber(arg[2]) or 9000)
  rtc.log.warn("echo", "serving on %s:%d", sock:local_address())
  return
end

local server = serve(0)
local _, port = server:local_address()
local client = assert(rtc.udp { host = "127.0.0.1" })
local me = coroutine.running()
client:on("message", function(data) coroutine.resume(me, data) end)

local rtts = {}
for i = 1, 5 do
  local t0 = rtc.now()
  client:send("ping " .. i, "127.0.0.1", port)
  local reply = coroutine.yield()
  assert(reply == "ping " .. i, "unexpected reply: " .. tostring(reply))
  rtts[#rtts + 1] = rtc.now() - t0
end
client:close()
server:close()
print(("5 echoes from 127.0.0.1:%d, max rtt %.3f ms"):format(port, math.max(table.unpack(rtts))))
