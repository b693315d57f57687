-- The Lua media API between two peer connections in one luartc process on loopback:
-- transceivers and tracks, frames both ways (an echo), keyframe requests, and the
-- W3C RTP stats. Runs the script under the luartc executable.

local SCRIPT = [=[
local rtc = require "rtc"
local json = rtc.json
local a = rtc.peer_connection { bind_addresses = { "127.0.0.1" } }
local b = rtc.peer_connection { bind_addresses = { "127.0.0.1" } }
local cam = rtc.media_track("video", { codec = "VP8" })
local mic = rtc.media_track("audio")
local tr_v = a:add_track(cam)
local tr_a = a:add_transceiver(mic, { direction = "sendonly" })
local echo = rtc.media_track("video")
local out = { frames = {}, echoed = 0, tracks = {}, keyframe_requests = 0, mismatch = 0 }
b:add_track(echo)                       -- before the offer: takes the video section (sendrecv)
local sent = {}
local remote_video
b:on("track", function(track, tr)
  out.tracks[#out.tracks + 1] = track.kind .. ":" .. tostring(track.mid) .. ":" .. tostring(track.remote)
  if track.kind == "video" then remote_video = track end
  track:on("frame", function(f)
    out.frames[f.codec] = (out.frames[f.codec] or 0) + 1
    if f.codec == "VP8" and sent[f.timestamp] ~= f.data then out.mismatch = out.mismatch + 1 end
    if track.kind == "video" then echo:write_frame { data = f.data, timestamp = f.timestamp, keyframe = f.keyframe } end
  end)
end)
a:on("track", function(track)
  track:on("frame", function(f) if sent[f.timestamp] == f.data then out.echoed = out.echoed + 1 end end)
end)
cam:on("keyframerequest", function() out.keyframe_requests = out.keyframe_requests + 1 end)
rtc.spawn(function()
  out.early = select(2, cam:write_frame { data = "x", timestamp = 0 })
  require("support.pcpair")(a, b)
  out.video_mid, out.video_dir, out.video_codec = tr_v.mid, tr_v.current_direction, tr_v.codec
  out.audio_dir = tr_a.current_direction
  for i = 0, 59 do
    local key = i % 30 == 0
    local frame = (key and "\16\0\0\157\1\42" or "\17\0\0") .. string.rep(string.char(i), 2500 + i * 10)
    sent[i * 3000] = frame
    assert(cam:write_frame { data = frame, timestamp = i * 3000, keyframe = key })
    assert(mic:write_frame { data = "\120" .. string.rep("a", 60), timestamp = i * 960 })
    if i == 30 then remote_video:request_keyframe() end
    rtc.sleep(0.02)
  end
  rtc.sleep(0.5)
  out.stats = {}
  for _, s in pairs(b:get_stats()) do
    if s.type == "inbound-rtp" or s.type == "outbound-rtp" or s.type == "codec" or s.type == "remote-inbound-rtp" then
      out.stats[s.type .. ":" .. (s.kind or "") .. ":" .. (s.mimeType or "")] = s
    end
  end
  for _, s in pairs(a:get_stats()) do
    if s.type == "outbound-rtp" or s.type == "remote-inbound-rtp" then out.stats["a:" .. s.type .. ":" .. s.kind] = s end
  end
  a:close(); b:close()
  io.stdout:write(json.encode(out), "\n")
end)
]=]

describe("media between two peer connections (Lua API)", function()
  it("negotiates, sends, echoes, asks for keyframes and reports W3C stats", function()
    local out = require("support.child").run_json(SCRIPT)
    assert.matches("^InvalidStateError", out.early)
    assert.same({ "video:0:true", "audio:1:true" }, out.tracks)
    assert.equal("0", out.video_mid)
    assert.equal("sendrecv", out.video_dir)
    assert.equal("sendonly", out.audio_dir)
    assert.equal("VP8", out.video_codec)
    assert.equal(60, out.frames.VP8)
    assert.equal(60, out.frames.opus)
    assert.equal(0, out.mismatch)
    assert.equal(60, out.echoed)
    assert.is_true(out.keyframe_requests >= 1)
    local inv = out.stats["inbound-rtp:video:"]
    assert.equal(60, inv.framesReceived)
    assert.is_true(inv.packetsReceived >= 120 and inv.bytesReceived > 150000)
    assert.equal(0, inv.packetsLost)
    assert.is_true(inv.pliCount >= 1)
    assert.equal(0, inv.nackCount)
    local codec = out.stats["codec:video:video/VP8"] or out.stats["codec::video/VP8"]
    for k, s in pairs(out.stats) do if s.type == "codec" and s.mimeType == "video/VP8" then codec = s end end
    assert.equal(96, codec.payloadType)
    assert.equal(90000, codec.clockRate)
    local outv = out.stats["outbound-rtp:video:"]
    assert.equal(60, outv.framesSent)
    assert.equal(inv.packetsReceived, out.stats["a:outbound-rtp:video"].packetsSent)
    assert.equal(1, out.stats["a:outbound-rtp:video"].pliCount)
    assert.equal("remote-inbound-rtp", out.stats["a:remote-inbound-rtp:video"].type)   -- RTT: test_pc_media.c
    assert.is_true(out.stats["inbound-rtp:audio:"].packetsReceived == 60)
  end)
end)
