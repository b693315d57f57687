-- A bot and a recorder over two peer connections in one luartc process: the bot
-- plays a VP8 file and an Opus tone (rtc.media sources) into its tracks; the other
-- side records the remote tracks' frames into WebM. ffprobe and ffmpeg check the file.
local child = require "support.child"
local tmp = require "support.tmp"
local clips = require "support.clips"

local SCRIPT = [=[
local rtc = require "rtc"
local IVF, OUT = ...
local a = rtc.peer_connection { bind_addresses = { "127.0.0.1" } }
local b = rtc.peer_connection { bind_addresses = { "127.0.0.1" } }
local cam = rtc.media_track("video", { codec = "VP8" })
local mic = rtc.media_track("audio")
a:add_transceiver(cam, { direction = "sendonly" })
a:add_transceiver(mic, { direction = "sendonly" })
local w = assert(rtc.media.writer(OUT, { audio = true, channels = 2, video = "VP8" }))
local result = { frames = 0 }
-- RTP time to the recorder's clock: each track's first frame is placed at its arrival
-- time, later frames by their RTP timestamp (90 kHz video, 48 kHz audio).
b:on("track", function(track)
  local clock = rtc.media.rtp_clock(track.kind == "video" and 90000 or 48000)
  track:on("frame", function(f)
    local pts = clock:to_ms(f.timestamp)
    local ok, err = w:write { data = f.data, pts_ms = pts, keyframe = f.keyframe, kind = track.kind }
    if ok == nil then result.err = err end
    result.frames = result.frames + 1
  end)
end)
rtc.spawn(function()
  require("support.pcpair")(a, b)
  local video = assert(rtc.media.file_source(IVF))
  local tone = assert(rtc.media.tone_source { frequency = 440, channels = 2, duration = 2 })
  local ended = 0
  video:on("frame", function(f) cam:write_frame(f) end):on("ended", function() ended = ended + 1 end)
  tone:on("frame", function(f) mic:write_frame(f) end):on("ended", function() ended = ended + 1 end)
  video:start(); tone:start()
  while ended < 2 do rtc.sleep(0.05) end
  rtc.sleep(0.3)
  result.stats = w:stats()
  result.closed = w:close()
  a:close(); b:close()
  io.stdout:write(rtc.json.encode(result), "\n")
end)
]=]

-- child.script files (and the names they reserved) go at the end.
teardown(tmp.clean)

describe("recording a peer connection's media (rtc.media + tracks)", function()
  it("a file and tone bot recorded to WebM that ffprobe and ffmpeg accept", function()
    local dir = child.tmpdir()
    local ivf, out = dir .. "/cam.ivf", dir .. "/rec.webm"
    clips.vp8 { path = ivf, rate = 30, gop = 30, bitrate = "256k" }
    local res = child.run_json(SCRIPT, { ivf, out })
    assert.is_nil(res.err)
    assert.is_true(res.closed)
    assert.equal(60, res.stats.video_frames)
    assert.is_true(res.stats.audio_frames >= 95, tostring(res.stats.audio_frames))
    local p = assert(io.popen("ffprobe -v error -show_entries stream=codec_name,start_time:format=duration -of default=nw=1 '" .. out .. "' 2>&1"))
    local probe = p:read("a")
    p:close()
    assert.matches("codec_name=vp8", probe)
    assert.matches("codec_name=opus", probe)
    local d = tonumber(probe:match("duration=([%d.]+)%s*$"))
    assert.is_true(d and d > 1.9 and d < 2.3, probe)
    local s1, s2 = probe:match("start_time=([%-%d.]+).-start_time=([%-%d.]+)")
    assert.is_true(math.abs(tonumber(s1) - tonumber(s2)) < 0.1, probe)
    p = assert(io.popen("ffmpeg -nostdin -v error -i '" .. out .. "' -f null - 2>&1"))
    local errs = p:read("a")
    p:close()
    assert.equal("", errs)
    child.rmdir(dir)
  end)
end)
