-- rtc.recorder: A/V sync through RTCP sender reports between two luartc peer
-- connections in one process, and a failing disk.
--
-- The sender stamps each frame with its capture time (in the payload) and uses random,
-- unrelated RTP bases for audio and video. Its video starts late: the frames of the
-- first 600 ms go out in one burst, so arrival times put video 600 ms behind audio;
-- audio pauses for a second in the middle (a muted track). In the file every frame's
-- time minus its capture time must be the same constant for audio and video.
local rtc = require "rtc"
local loop = require "support.loop"
local ffprobe = require "support.ffprobe"

local function tmpfile(ext)
  local base = os.tmpname()
  os.remove(base)
  return base .. ext
end

local tmpdir, rmdir = require("support.child").tmpdir, require("support.child").rmdir

-- Payloads a depacketizer and the file writers accept, carrying the capture time.
local function opus_frame(ms) return string.char(0xFC) .. "CAPT" .. string.pack(">i8", ms) .. string.rep("\0", 40) end
local function vp8_frame(ms, key)
  -- Frame tag (bit 0 clear = keyframe, show_frame set), then the keyframe start code
  -- and 160x120, then our marker.
  local head = key and (string.char(0x10, 0, 0, 0x9d, 0x01, 0x2a) .. string.pack("<I2I2", 160, 120))
                   or string.char(0x11, 0, 0)
  return head .. "CAPT" .. string.pack(">i8", ms) .. string.rep("\1", 200)
end
local function capture_of(data)
  local at = data:find("CAPT", 1, true)
  return at and string.unpack(">i8", data, at + 4)
end

describe("rtc.recorder", function()
  it("maps audio and video through sender reports onto one timeline (random RTP bases, late video, a muted gap)", function()
    local dir = tmpdir()
    local path = dir .. "/sync.webm"
    local res = {}
    loop.run_task(function()
      local a = rtc.peer_connection { bind_addresses = { "127.0.0.1" } }
      local b = rtc.peer_connection { bind_addresses = { "127.0.0.1" } }
      local cam = rtc.media_track("video", { codec = "VP8" })
      local mic = rtc.media_track("audio")
      a:add_transceiver(cam, { direction = "sendonly" })
      a:add_transceiver(mic, { direction = "sendonly" })
      local rec = rtc.recorder(path, { pc = b })
      rec:on("error", function(e) res.error = e end)
      local first_arrival, srs = {}, {}
      b:on("track", function(track)
        track:on("frame", function() first_arrival[track.kind] = first_arrival[track.kind] or rtc.now() end)
        track:on("sr", function(sr)
          assert(track.sync == sr)
          srs[#srs + 1] = { kind = track.kind, ntp_ms = sr.ntp_ms, timestamp = sr.timestamp, received_ms = sr.received_ms }
        end)
      end)
      require("support.pcpair")(a, b)
      local base_a, base_v = math.random(0, 0xffffffff), math.random(0, 0xffffffff)
      local t0 = rtc.now()
      res.wall_t0 = os.time() * 1000
      local na, nv = 0, 0
      local LATE, DUR = 600, 3600
      -- A live source: a frame is captured when it is due and sent at once, stamped
      -- with the time it is actually taken (a loaded machine runs this loop late, and
      -- the sender's SRs extrapolate from when its last frame went out). Only the
      -- video's first 600 ms are held back and sent together.
      local function mtime() return math.floor(rtc.now() - t0) end
      local function rtp(base, ms, rate) return (base + ms * rate) & 0xffffffff end
      while true do
        local t = mtime()
        if t > DUR then break end
        if na * 20 <= t then
          -- muted from 1.6 s to 2.6 s: nothing is sent
          if t < 1600 or t >= 2600 then mic:write_frame { data = opus_frame(t), timestamp = rtp(base_a, t, 48) } end
          na = t // 20 + 1
        end
        if t >= LATE then
          while nv * 50 <= t do
            local ms = nv * 50 < LATE and nv * 50 or t
            local key = nv % 20 == 0
            cam:write_frame { data = vp8_frame(ms, key), timestamp = rtp(base_v, ms, 90), keyframe = key }
            nv = nv < LATE // 50 and nv + 1 or t // 50 + 1
          end
        end
        rtc.sleep(0.005)
      end
      rtc.sleep(0.2)
      res.stats = rec:stats()
      res.closed = rec:close()
      res.late_by = first_arrival.video - first_arrival.audio
      -- Each SR: its RTP time, as capture time, is about when it arrived (loopback).
      res.srs = #srs
      res.sr_error = 0
      for _, sr in ipairs(srs) do
        local base, rate = base_a, 48
        if sr.kind == "video" then base, rate = base_v, 90 end
        -- (the RTP clocks count ms of rtc.now() since t0, as the frames were stamped)
        local captured = ((sr.timestamp - base) & 0xffffffff) / rate
        res.sr_error = math.max(res.sr_error, math.abs(captured - (sr.received_ms - t0)))
        res.ntp_error = math.max(res.ntp_error or 0, math.abs(sr.ntp_ms - res.wall_t0 - (sr.received_ms - t0)))
      end
      a:close(); b:close()
    end, 20000)
    assert.is_nil(res.error)
    assert.is_true(res.closed)
    -- The scenario: arrival times alone would put video this far behind audio.
    assert.is_true(res.late_by >= 400, "video arrived " .. tostring(res.late_by) .. " ms after audio")
    assert.is_true(res.srs >= 2)
    assert.is_true(res.sr_error < 50, "SR RTP time off by " .. res.sr_error .. " ms")
    assert.is_true(res.ntp_error < 2000, "SR NTP time off the wall clock by " .. res.ntp_error .. " ms")
    assert.is_true(res.stats.synced.audio and res.stats.synced.video)
    assert.equal(0, res.stats.arrival_anchored)
    -- Every frame: file time - capture time. One constant for both kinds.
    local r = assert(rtc.media.open(path))
    local lo, hi, n = {}, {}, { audio = 0, video = 0 }
    local first = {}
    while true do
      local f = r:next()
      if not f then break end
      local cap = assert(capture_of(f.data), "frame without capture time")
      local d = f.pts_ms - cap
      lo[f.kind] = math.min(lo[f.kind] or d, d)
      hi[f.kind] = math.max(hi[f.kind] or d, d)
      first[f.kind] = first[f.kind] or f.pts_ms
      n[f.kind] = n[f.kind] + 1
    end
    r:close()
    local msg = string.format("file time - capture time: audio %s..%s ms, video %s..%s ms (%d/%d frames)",
                              lo.audio, hi.audio, lo.video, hi.video, n.audio, n.video)
    io.stderr:write(msg, "; video arrived ", tostring(res.late_by), " ms late\n")
    assert.is_true(n.audio >= 120 and n.video >= 50, msg)
    assert.is_true(hi.audio - lo.audio <= 40, msg)       -- the muted second stays a gap in time
    assert.is_true(hi.video - lo.video <= 40, msg)
    assert.is_true(math.abs(lo.audio - lo.video) <= 40, msg)
    assert.is_true(math.abs(first.audio - first.video) <= 40, msg)
    local probe = ffprobe.probe(path)
    assert.equal(2, #probe.streams)
    rmdir(dir)
  end)

  it("reports a failed write, closes the file and drops later frames", function()
    local handlers = {}
    local track = { kind = "video", on = function(self, ev, fn) handlers[ev] = fn; return self end,
                    sync = { ntp_ms = 1e12, timestamp = 1000, received_ms = rtc.now() } }
    local rec = rtc.recorder("/dev/full", { format = "webm" })
    local errors, closes = {}, 0
    rec:on("error", function(e) errors[#errors + 1] = e end)
    rec:on("close", function() closes = closes + 1 end)
    assert.is_true(rec:add(track))
    for i = 0, 99 do
      handlers.frame { data = vp8_frame(i * 50, i % 10 == 0) .. string.rep("x", 30000), timestamp = 1000 + i * 4500,
                       keyframe = i % 10 == 0, codec = "VP8" }
    end
    assert.equal(1, #errors)
    assert.matches("media writer", errors[1])
    assert.equal(1, closes)
    local ok, err = rec:close()
    assert.is_nil(ok)
    assert.equal(errors[1], err)
    assert.is_nil((rec:add { kind = "audio", on = track.on }))
  end)

  it("closing before any sender report writes what was held, timed by arrival and RTP time", function()
    local path = tmpfile(".webm")
    local function fake(kind)
      local t = { kind = kind, handlers = {} }
      function t:on(ev, fn) self.handlers[ev] = fn; return self end
      return t
    end
    local a, v = fake("audio"), fake("video")
    local rec = rtc.recorder(path, { tracks = { a, v } })
    -- 2 s of each, unrelated RTP bases, all arriving now: nothing is written yet
    for i = 0, 99 do
      a.handlers.frame { data = opus_frame(i * 20), timestamp = (0xfffff000 + i * 960) & 0xffffffff, codec = "opus" }
    end
    for i = 0, 39 do
      v.handlers.frame { data = vp8_frame(i * 50, i == 0), timestamp = 12345 + i * 4500, keyframe = i == 0, codec = "VP8" }
    end
    assert.is_false(rec:stats().started)
    assert.is_true(rec:close())
    local s = rec:stats()
    assert.equal(2, s.arrival_anchored)
    assert.equal(100, s.audio_frames)
    assert.equal(40, s.video_frames)
    local r = assert(rtc.media.open(path))
    local last = {}
    while true do
      local f = r:next()
      if not f then break end
      -- both start at their first frame's arrival (the video's came a few ms after the
      -- audio's, which is fed first): file time = capture time
      assert.is_true(math.abs(f.pts_ms - capture_of(f.data)) <= 5, f.kind .. " " .. f.pts_ms)
      last[f.kind] = f.pts_ms
    end
    r:close()
    assert.is_true(math.abs(last.audio - 1980) <= 5, last.audio)   -- the RTP wrap in the audio stream is unwrapped
    assert.is_true(math.abs(last.video - 1950) <= 5, last.video)
    os.remove(path)
  end)

  it("holds a track waiting for its first SR only up to a memory bound", function()
    local path = tmpfile(".ivf")
    local handlers = {}
    local v = { kind = "video", on = function(self, ev, fn) handlers[ev] = fn; return self end }
    local rec = rtc.recorder(path, { tracks = { v }, holdback_ms = 60000 })
    local big = string.rep("z", 1024 * 1024)
    for i = 0, 39 do
      handlers.frame { data = vp8_frame(i * 50, i == 0) .. big, timestamp = i * 4500, keyframe = i == 0, codec = "VP8" }
    end
    -- 32 MiB held: anchored at arrival and written, long before the holdback ends
    local s = rec:stats()
    assert.is_true(s.started)
    assert.equal(1, s.arrival_anchored)
    assert.equal(40, s.video_frames)
    assert.is_true(rec:close())
    os.remove(path)
  end)

  it("a sender report a century off drops the frames it maps out of range, the file stays open", function()
    local path = tmpfile(".ogg")
    local handlers = {}
    local a = { kind = "audio", on = function(self, ev, fn) handlers[ev] = fn; return self end,
                sync = { ntp_ms = 1e12, timestamp = 0, received_ms = rtc.now() } }
    local rec = rtc.recorder(path, { tracks = { a } })
    local errors = 0
    rec:on("error", function() errors = errors + 1 end)
    for i = 0, 9 do handlers.frame { data = opus_frame(i * 20), timestamp = i * 960, codec = "opus" } end
    handlers.sr { ntp_ms = 1e12 + 100 * 365 * 86400e3, timestamp = 10 * 960, received_ms = rtc.now() }
    for i = 10, 19 do handlers.frame { data = opus_frame(i * 20), timestamp = i * 960, codec = "opus" } end
    local s = rec:stats()
    assert.equal(10, s.audio_frames)
    assert.equal(10, s.dropped)
    assert.equal(0, errors)
    assert.is_true(rec:close())
    os.remove(path)
  end)

  it("reports a file it cannot create when the first frames are ready", function()
    local handlers = {}
    local a = { kind = "audio", on = function(self, ev, fn) handlers[ev] = fn; return self end,
                sync = { ntp_ms = 1e12, timestamp = 0, received_ms = rtc.now() } }
    local rec = rtc.recorder("/nonexistent-dir/call.ogg", { tracks = { a } })
    local errors = {}
    rec:on("error", function(e) errors[#errors + 1] = e end)
    handlers.frame { data = opus_frame(0), timestamp = 0, codec = "opus" }
    handlers.frame { data = opus_frame(20), timestamp = 960, codec = "opus" }
    assert.equal(1, #errors)
    assert.matches("NotFoundError", errors[1])
    local ok, err = rec:close()
    assert.is_nil(ok)
    assert.equal(errors[1], err)
  end)

  it("refuses a track its file cannot hold", function()
    local rec = rtc.recorder(tmpfile(".ogg"))
    local t = { kind = "video", on = function(self) return self end }
    local ok, err = rec:add(t)
    assert.is_nil(ok)
    assert.matches("NotSupportedError", err)
    assert.is_true(rec:close())
  end)
end)
