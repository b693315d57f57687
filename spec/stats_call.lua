-- A call inside one process for the stats page spec: two peer connections with an
-- audio track (Opus-shaped frames, so RTCP gives RTT and jitter) and a data channel
-- carrying about 20 kB/s, and the stats page (token "s3") on an http.server.
-- Prints "READY <port>" on stdout; runs until SIGTERM.
local rtc = require "rtc"
local http = require "http"
local stats = require "stats"
local pair = require "support.pcpair"

rtc.spawn(function()
  local srv = assert(http.server { port = 0 })
  local page = stats.mount(srv, "/stats", { token = "s3" })
  local a = assert(rtc.peer_connection { bind_addresses = { "127.0.0.1" } })
  local b = assert(rtc.peer_connection { bind_addresses = { "127.0.0.1" } })
  local track = rtc.media_track("audio")
  a:add_track(track)
  local dc = a:create_data_channel("load")
  b:on("track", function() end)
  b:on("datachannel", function(ch) ch:on("message", function(m) if #m < 100 then ch:send("ack") end end) end)
  pair(a, b)
  local running = true
  rtc.on("shutdown", function()
    running = false
    page:close()
    a:close(); b:close()
    srv:close()
  end)
  rtc.stdout:write("READY ", srv.port, "\n")
  local n = 0
  while running do
    n = n + 1
    -- the rate swings so the graph has a shape
    dc:send(string.rep("x", 600 + 500 * (n % 7)))
    if n % 10 == 0 then dc:send("ping") end
    track:write_frame { data = string.rep("\252", 40 + 30 * (n % 5)), timestamp = n * 960 }
    rtc.sleep(0.02)
  end
end)
