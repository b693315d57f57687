-- A call for the capture spec: a sends Opus frames and data channel messages to b,
-- a captures (pc:capture), then both close. arg[1] = capture path; arg[2], optional,
-- a VP8 IVF file a sends too. Prints the SDP payload types of Opus, VP8 and its RTX
-- and the packet count as JSON on stdout.
local rtc = require "rtc"
local pair = require "support.pcpair"
local path = assert(arg[1], "capture path")
local ivf = arg[2]   -- optional: a VP8 IVF file sent (looped) on a video track too

rtc.spawn(function()
  local a = assert(rtc.peer_connection { bind_addresses = { "127.0.0.1" } })
  local b = assert(rtc.peer_connection { bind_addresses = { "127.0.0.1" } })
  assert(a:capture(path))
  local track = rtc.media_track("audio")
  a:add_track(track)
  local cam
  if ivf then
    cam = rtc.media_track("video", { codec = "VP8" })
    a:add_track(cam)
  end
  local dc = a:create_data_channel("chat", { protocol = "demo" })
  local got = 0
  b:on("datachannel", function(ch) ch:on("message", function() got = got + 1 end) end)
  b:on("track", function() end)
  pair(a, b)
  while dc.ready_state ~= "open" do rtc.sleep(0.01) end
  local video
  if cam then
    video = assert(rtc.media.file_source(ivf, { loop = true }))
    video:on("frame", function(f) cam:write_frame(f) end)
    video:start()
  end
  -- 3 s of 20 ms frames: long enough for RTCP sender and receiver reports
  for i = 0, 150 do
    track:write_frame { data = string.char(0xfc, 0xff, 0xfe, i % 256), timestamp = i * 960 }
    if i % 25 == 0 then dc:send("hello " .. i) end
    rtc.sleep(0.02)
  end
  local pt = a.local_description.sdp:match("a=rtpmap:(%d+) opus/48000")
  local red = a.local_description.sdp:match("a=rtpmap:(%d+) red/48000")
  local vp8 = a.local_description.sdp:match("a=rtpmap:(%d+) VP8/90000")
  local rtx = vp8 and a.local_description.sdp:match("a=fmtp:(%d+) apt=" .. vp8 .. "\r?\n")
  if video then video:stop() end
  local n = assert(a:stop_capture())
  a:close()
  b:close()
  rtc.stdout:write(rtc.json.encode { opus_pt = tonumber(pt), red_pt = tonumber(red), vp8_pt = tonumber(vp8),
                                     rtx_pt = tonumber(rtx), packets = n, messages = got }, "\n")
end)
