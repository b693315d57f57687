-- A call inside one process for the stats page spec: two peer connections with an
-- audio track (Opus-shaped frames, so RTCP gives RTT and jitter) and a data channel
-- carrying about 20 kB/s, and the stats page (token "s3") on an http.server.
-- arg[1], when given, is a VP8 IVF file for an SFU call beside it (see sfu_call).
-- Prints "READY <port>" on stdout; runs until SIGTERM.
local rtc = require "rtc"
local http = require "http"
local stats = require "stats"
local pair = require "support.pcpair"

-- With an IVF file: an SFU call beside it, room "demo": a publisher sends the VP8 file
-- (looped) and an Opus tone to the SFU's connection, whose producers a second SFU
-- connection forwards to a subscriber. Returns the four connections.
local function sfu_call(ivf)
  if not ivf then return {} end
  local sfu = require "rtc.sfu"
  local LOCAL = { bind_addresses = { "127.0.0.1" } }
  local room = sfu.room { name = "demo" }
  local pub, s0 = assert(rtc.peer_connection(LOCAL)), assert(rtc.peer_connection(LOCAL))
  local cam, mic = rtc.media_track("video", { codec = "VP8" }), rtc.media_track("audio")
  assert(pub:add_transceiver(cam, { direction = "sendonly" }))
  assert(pub:add_transceiver(mic, { direction = "sendonly" }))
  local tracks = {}
  s0:on("track", function(t) tracks[#tracks + 1] = t end)
  pair(pub, s0)
  local producers = {}
  for _, t in ipairs(tracks) do producers[#producers + 1] = assert(room:publish(t)) end
  local v = assert(rtc.media.file_source(ivf, { loop = true }))
  v:on("frame", function(f) cam:write_frame(f) end)
  local tone = assert(rtc.media.tone_source { frequency = 440, amplitude = 0.3, duration = 3600 })
  tone:on("frame", function(f) mic:write_frame(f) end)
  v:start(); tone:start()
  local s1, sub = assert(rtc.peer_connection(LOCAL)), assert(rtc.peer_connection(LOCAL))
  for _, p in ipairs(producers) do assert(room:subscribe(s1, p)) end
  sub:on("track", function() end)
  pair(s1, sub)
  return { pub, s0, s1, sub }
end

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
  local sfu_pcs = sfu_call(arg[1])
  local running = true
  rtc.on("shutdown", function()
    running = false
    page:close()
    a:close(); b:close()
    for _, pc in ipairs(sfu_pcs) do pc:close() end
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
