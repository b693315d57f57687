-- A call for the capture spec: a sends Opus frames and data channel messages to b,
-- a captures (pc:capture), then both close. arg[1] = capture path. Prints the SDP
-- payload type of Opus and the packet count as JSON on stdout.
local rtc = require "rtc"
local pair = require "support.pcpair"
local path = assert(arg[1], "capture path")

rtc.spawn(function()
  local a = assert(rtc.peer_connection { bind_addresses = { "127.0.0.1" } })
  local b = assert(rtc.peer_connection { bind_addresses = { "127.0.0.1" } })
  assert(a:capture(path))
  local track = rtc.media_track("audio")
  a:add_track(track)
  local dc = a:create_data_channel("chat", { protocol = "demo" })
  local got = 0
  b:on("datachannel", function(ch) ch:on("message", function() got = got + 1 end) end)
  b:on("track", function() end)
  pair(a, b)
  while dc.ready_state ~= "open" do rtc.sleep(0.01) end
  -- 3 s of 20 ms frames: long enough for RTCP sender and receiver reports
  for i = 0, 150 do
    track:write_frame { data = string.char(0xfc, 0xff, 0xfe, i % 256), timestamp = i * 960 }
    if i % 25 == 0 then dc:send("hello " .. i) end
    rtc.sleep(0.02)
  end
  local pt = a.local_description.sdp:match("a=rtpmap:(%d+) opus/48000")
  local red = a.local_description.sdp:match("a=rtpmap:(%d+) red/48000")
  local n = assert(a:stop_capture())
  a:close()
  b:close()
  rtc.stdout:write(rtc.json.encode { opus_pt = tonumber(pt), red_pt = tonumber(red), packets = n, messages = got }, "\n")
end)
