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
local clips = require "support.clips"

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

  it("a sender report a century off moves no frame already in the file: the next ones follow on, the file stays open", function()
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
    assert.equal(20, s.audio_frames)
    assert.equal(0, s.dropped)
    assert.equal(0, errors)
    assert.is_true(rec:close())
    local r = assert(rtc.media.open(path))
    for i = 0, 19 do assert.equal(i * 20, r:next().pts_ms) end
    r:close()
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

-- {====== timing on a virtual clock ======
-- The recorder module is a factory of (rtc, core): this one reads its clock from
-- `clock.now` and has no interval timer, so a test decides when every frame and SR
-- arrives. The media is real (ffmpeg makes a VP8 IVF and an Opus Ogg), so ffmpeg can
-- judge the recording; frames are recognised in the file by their bytes.
local function virtual_recorder()
  local clock = { now = 100000 }
  local vrtc = setmetatable({ set_interval = function() return { stop = function() end } end }, { __index = rtc })
  assert(loadfile(assert(package.searchpath("rtc.recorder", package.path)), "t", _ENV))()(vrtc, { now = function() return clock.now end })
  return vrtc.recorder, clock
end

local function stand_in(kind, pc)
  local t = { kind = kind, h = {}, _tr = { _pc = pc } }
  function t:on(ev, fn) self.h[ev] = fn; return self end
  return t
end

local function read_frames(path)
  local r = assert(rtc.media.open(path))
  local out = {}
  while true do
    local f = r:next()
    if not f then break end
    out[#out + 1] = f
  end
  r:close()
  return out
end

local media_dir, media
local function real_media()
  if media then return media end
  media_dir = tmpdir()
  local v, a = media_dir .. "/v.ivf", media_dir .. "/a.ogg"
  clips.vp8 { path = v, rate = 30, seconds = 10, gop = 30, bitrate = "256k" }
  clips.opus { path = a, seconds = 10, bitrate = "32k" }
  media = { video = read_frames(v), audio = read_frames(a) }
  return media
end

-- The file's frames of one kind, each with the index of the source frame it is
-- (matched by bytes, in order) and its time in the file.
local function recorded(path, kind, src)
  local got, j = {}, 1
  for _, f in ipairs(read_frames(path)) do
    if f.kind == kind then
      while j <= #src and src[j].data ~= f.data do j = j + 1 end
      assert(j <= #src, "a " .. kind .. " frame in the file that was never sent")
      got[#got + 1] = { i = j, pts = f.pts_ms }
      j = j + 1
    end
  end
  return got
end

-- Plays a schedule into stand-in tracks: events {at=, track=, frame=|sr=} in time order.
local function play(clock, events)
  table.sort(events, function(x, y) if x.at ~= y.at then return x.at < y.at end return x.seq < y.seq end)
  for _, e in ipairs(events) do
    if e.at > clock.now then clock.now = e.at end
    if e.frame then e.track.h.frame(e.frame) else e.track.h.sr(e.sr) end
  end
end

-- ffmpeg's two verdicts: plain `-f null` re-times video onto the frame rate it guesses
-- (so it also flags frame intervals that shrink: a file of one track, never slewed,
-- passes it); ffprobe.decode_errors keeps the file's own time base and flags only
-- times that do not increase.
local function ffmpeg_plain(path)
  return ffprobe.capture("ffmpeg -nostdin -v error -i '" .. path .. "' -f null -")
end

describe("rtc.recorder timing", function()
  local T0, NTP0 = 100000, 3.9e12
  local VBASE, ABASE = 0xfff00000, 123456
  teardown(function() if media_dir then rmdir(media_dir) end end)

  -- Video at 30 fps captured at c_i = i * 100/3 ms after T0. The first 500 ms of
  -- frames arrive in one burst at T0 + 520 (a paced keyframe), later ones 20 ms after
  -- capture. No SR for 4.5 s, so the track is anchored at arrival time first; then
  -- SRs once a second whose NTP/RTP pairing jitters (`jitter`, ms; a negative value
  -- maps earlier, like a sender's SR taken right after a frame it sent late).
  local function video_events(track, jitter, n, seq)
    local src = real_media().video
    local ev = {}
    for i = 0, n - 1 do
      local c = i * 100 / 3
      local at = c < 500 and T0 + 520 or T0 + math.floor(c) + 20
      ev[#ev + 1] = { at = at, seq = seq(), track = track,
                      frame = { data = src[i + 1].data, timestamp = (VBASE + i * 3000) & 0xffffffff,
                                keyframe = src[i + 1].keyframe, codec = "VP8" } }
    end
    for k, e in ipairs(jitter) do
      local c = 4500 + (k - 1) * 1000
      ev[#ev + 1] = { at = T0 + c + 5, seq = seq(), track = track,
                      sr = { ntp_ms = NTP0 + c + e, timestamp = (VBASE + c * 90) & 0xffffffff, received_ms = T0 + c + 5 } }
    end
    return ev
  end

  local function counter() local n = 0; return function() n = n + 1; return n end end

  it("IVF: an arrival-anchored video re-anchored by jittering SRs keeps the sender's frame intervals", function()
    local path = tmpfile(".ivf")
    local recorder, clock = virtual_recorder()
    clock.now = T0
    local v = stand_in("video", {})
    local rec = recorder(path, { tracks = { v } })
    play(clock, video_events(v, { -60, 50, -50, 40, 0 }, 270, counter()))
    assert.is_true(rec:close())
    local s = rec:stats()
    assert.equal(1, s.arrival_anchored)
    assert.is_true(s.synced.video)
    local got = recorded(path, "video", real_media().video)
    assert.is_true(#got >= 260, #got)
    for k = 2, #got do
      local want = (got[k].i - got[k - 1].i) * 100 / 3
      local d = got[k].pts - got[k - 1].pts
      assert.is_true(math.abs(d - want) <= 1, string.format("frame %d: %d ms after the previous, sent %.1f ms after", got[k].i, d, want))
    end
    assert.equal("", ffmpeg_plain(path))
    assert.equal("", ffprobe.decode_errors(path))
    os.remove(path)
  end)

  it("WebM: after an SR step, video slews toward audio within 10% per frame, audio stays back to back, sync returns", function()
    local path = tmpfile(".webm")
    local recorder, clock = virtual_recorder()
    clock.now = T0
    local pc = {}
    local v = stand_in("video", pc)
    local a = stand_in("audio", pc)
    a.sync = { ntp_ms = NTP0, timestamp = ABASE, received_ms = T0 + 5 }
    local rec = recorder(path, { tracks = { a, v } })
    local seq = counter()
    local ev = video_events(v, { -60, 50, -40, 0 }, 300, seq)
    -- (video_events bunches the first 500 ms; here the first 200 ms come in one burst)
    for _, e in ipairs(ev) do
      if e.frame then
        local i = ((e.frame.timestamp - VBASE) & 0xffffffff) // 3000
        local c = i * 100 / 3
        e.at = c < 200 and T0 + 220 or T0 + math.floor(c) + 20
      end
    end
    local asrc = real_media().audio
    for i = 0, 479 do
      ev[#ev + 1] = { at = T0 + i * 20 + 20, seq = seq(), track = a,
                      frame = { data = asrc[i + 1].data, timestamp = (ABASE + i * 960) & 0xffffffff, codec = "opus" } }
    end
    for k, e in ipairs { 30, -30, 20, 0 } do
      local c = 4000 + (k - 1) * 1000
      ev[#ev + 1] = { at = T0 + c + 5, seq = seq(), track = a,
                      sr = { ntp_ms = NTP0 + c + e, timestamp = (ABASE + c * 48) & 0xffffffff, received_ms = T0 + c + 5 } }
    end
    play(clock, ev)
    assert.is_true(rec:close())
    local s = rec:stats()
    assert.equal(1, s.arrival_anchored)
    assert.is_true(s.synced.audio and s.synced.video)
    local gv, ga = recorded(path, "video", real_media().video), recorded(path, "audio", asrc)
    assert.is_true(#gv >= 280 and #ga >= 450, #gv .. " video, " .. #ga .. " audio frames")
    for k = 2, #ga do
      assert.equal((ga[k].i - ga[k - 1].i) * 20, ga[k].pts - ga[k - 1].pts)
    end
    for k = 2, #gv do
      local want = (gv[k].i - gv[k - 1].i) * 100 / 3
      local d = gv[k].pts - gv[k - 1].pts
      assert.is_true(d >= want * 0.9 - 1 and d <= want * 1.1 + 1,
                     string.format("frame %d: %d ms after the previous, sent %.1f ms after", gv[k].i, d, want))
    end
    assert.equal(0, s.retimed)          -- no frame needed the +1 ms guard
    -- A/V offset: file time minus capture time, video against audio at the same time.
    local aoff = {}
    for _, f in ipairs(ga) do aoff[(f.i - 1) * 20] = f.pts - (f.i - 1) * 20 end
    local worst_end, first = 0, nil
    for _, f in ipairs(gv) do
      local c = (f.i - 1) * 100 / 3
      local ao = aoff[c // 20 * 20]
      if ao then
        local off = f.pts - c - ao
        first = first or off
        if c >= 9000 then worst_end = math.max(worst_end, math.abs(off)) end
      end
    end
    io.stderr:write(string.format("A/V offset: %.1f ms at the start (arrival time), %.1f ms at most after 9 s\n", first, worst_end))
    assert.is_true(worst_end <= 2, worst_end)
    assert.equal("", ffprobe.decode_errors(path))
    os.remove(path)
  end)
end)
-- }======
