-- rtc.media: readers, writers, paced sources and Opus helpers from Lua (stock lua5.4
-- with require "rtc"). Real files come from ffmpeg; results are checked with ffprobe.
local rtc = require "rtc"
local clips = require "support.clips"

local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -p " .. dir))
local function path(name) return dir .. "/" .. name end
local function sh(cmd)
  local p = assert(io.popen(cmd .. " 2>&1"))
  local out = p:read("a")
  local ok = p:close()
  assert(ok, cmd .. "\n" .. out)
  return out
end
local function probe(file)
  return sh("ffprobe -v error -show_entries stream=codec_name:format=duration -of default=nw=1 '" .. file .. "'")
end

setup(function()
  clips.vp8 { path = path("in.ivf"), size = "64x48", seconds = 1, gop = 25, bitrate = "256k" }
  clips.opus { path = path("in.ogg"), seconds = 0.4 }
end)
teardown(function() os.execute("rm -rf '" .. dir .. "'") end)

describe("rtc.media readers and writers", function()
  it("read an IVF and an Ogg file, mux them into WebM that ffprobe accepts", function()
    local v = assert(rtc.media.open(path("in.ivf")))
    local a = assert(rtc.media.open(path("in.ogg")))
    assert.equal("VP8", v:info().codec)
    assert.equal(64, v:info().width)
    assert.equal(1, a:info().channels)
    local w <close> = assert(rtc.media.writer(path("out.webm"), { audio = true, channels = 1, video = "VP8" }))
    local frames = {}
    for f in function() return v:next() or nil end do frames[#frames + 1] = f end
    for f in function() return a:next() or nil end do frames[#frames + 1] = f end
    assert.equal(25, #frames - 21)                        -- 25 video, 21 audio (pre-skip included)
    table.sort(frames, function(x, y) return x.pts_ms < y.pts_ms end)
    for _, f in ipairs(frames) do assert.is_true(w:write(f)) end
    local st = w:stats()
    assert.equal(25, st.video_frames)
    assert.equal(21, st.audio_frames)
    assert.is_true(w:close())
    assert.is_true(w:close())                             -- idempotent
    local p = probe(path("out.webm"))
    assert.matches("codec_name=vp8", p)
    assert.matches("codec_name=opus", p)
    local d = tonumber(p:match("duration=([%d.]+)"))
    assert.is_true(d > 0.95 and d < 1.05, tostring(d))
    -- and our reader gets the frames back
    local r = assert(rtc.media.open(path("out.webm")))
    local info = r:info()
    assert.equal(2, #info.tracks)
    local n = 0
    while r:next() do n = n + 1 end
    assert.equal(46, n)
    r:close()
    assert.has_error(function() r:next() end, "attempt to use a closed media reader")
  end)

  it("reports bad files and bad arguments", function()
    local f = assert(io.open(path("bad.ogg"), "wb"))
    f:write("OggS not really")
    f:close()
    local r, err, name = rtc.media.open(path("bad.ogg"))
    assert.is_nil(r)
    assert.equal("SyntaxError", name)
    assert.matches("^SyntaxError: ", err)
    local _, err2, name2 = rtc.media.open(path("missing.ivf"))
    assert.equal("NotFoundError", name2)
    assert.matches("NotFoundError", err2)
    assert.has_error(function() rtc.media.writer(path("x.mp4"), {}) end)
    assert.has_error(function() rtc.media.writer(path("x.ivf"), { codec = "H264" }) end)
    local _, werr = rtc.media.writer("/nonexistent-dir/x.ogg")
    assert.matches("NotFoundError", werr)
    local w = assert(rtc.media.writer(path("w.ogg")))
    local ok, e = w:write{ data = "", pts_ms = 0 }
    assert.is_nil(ok)
    assert.matches("SyntaxError", e)
    assert.is_true(w:close())
  end)
end)

describe("rtc.media.rtp_clock", function()
  it("unwraps 32-bit RTP time and re-anchors on sender reports", function()
    local c = rtc.media.rtp_clock(90000)
    assert.equal(1000, c:to_ms(0xFFFFF000, 1000))       -- anchored at its arrival
    assert.equal(1001, c:to_ms(0xFFFFF000 + 90, 5000))   -- later arrivals do not move it
    assert.equal(1100, c:to_ms(0xFFFFF000 + 9000 - 0x100000000))   -- across the wrap
    assert.equal(1050, c:to_ms(0xFFFFF000 + 4500))        -- a late frame from before the wrap
    -- An SR says RTP 0x2000 is NTP 50000 ms: the same frames move onto that clock.
    c:sender_report(0x2000, 50000)
    assert.equal(50000 + (0xFFFFF000 + 9000 - 0x100000000 - 0x2000) * 1000 // 90000,
                 c:to_ms(0xFFFFF000 + 9000 - 0x100000000))
    local a = rtc.media.rtp_clock(48000)
    a:sender_report(123456, 50000)
    assert.equal(50020, a:to_ms(123456 + 960))
    assert.has_error(function() rtc.media.rtp_clock(0) end)
    assert.has_error(function() a:to_ms(1.5) end)
  end)
end)

describe("rtc.media sources", function()
  it("a tone source paces 20 ms Opus frames; they decode to the tone", function()
    local src = assert(rtc.media.tone_source{ frequency = 1000, duration = 0.3, speed = 4 })
    local frames, ended = {}, false
    src:on("frame", function(f) frames[#frames + 1] = f end)
    src:on("ended", function() ended = true end)
    src:start()
    rtc.run()
    assert.is_true(ended)
    assert.equal(15, #frames)
    for i, f in ipairs(frames) do
      assert.equal((i - 1) * 960, f.timestamp)
      assert.equal("opus", f.codec)
    end
    local dec = rtc.media.opus_decoder(48000, 1)
    local pcm
    for _, f in ipairs(frames) do pcm = dec:decode(f.data) end
    assert.equal(960 * 2, #pcm)
    -- 1 kHz over 20 ms: 40 zero crossings
    local z, prev = 0, nil
    for i = 1, #pcm, 2 do
      local s = string.unpack("<i2", pcm, i)
      if prev and (prev < 0) ~= (s < 0) then z = z + 1 end
      prev = s
    end
    assert.is_true(z >= 38 and z <= 42, tostring(z))
    assert.equal(960 * 2, #dec:decode(nil))               -- concealment of a lost frame
    -- the frames make an Ogg file of the right length
    local w = assert(rtc.media.writer(path("tone.ogg"), { channels = 1 }))
    for _, f in ipairs(frames) do assert(w:write(f)) end
    assert.is_true(w:close())
    local d = tonumber(probe(path("tone.ogg")):match("duration=([%d.]+)"))
    assert.is_true(d > 0.28 and d < 0.32, tostring(d))
  end)

  it("a looping file source continues its timestamps; pause and resume keep them", function()
    local src = assert(rtc.media.file_source(path("in.ivf"), { loop = true, speed = 8 }))
    local ts, paused = {}, false
    src:on("frame", function(f)
      ts[#ts + 1] = f.timestamp
      if #ts == 10 and not paused then
        paused = true
        src:pause()
        assert.equal("paused", src:state())
        rtc.set_timeout(30, function() src:resume() end)
      end
      if #ts == 60 then src:stop() end
    end)
    src:start()
    rtc.run()
    assert.equal(60, #ts)
    for i = 2, #ts do assert.is_true(ts[i] > ts[i - 1]) end
    assert.equal(0, ts[1])
    assert.equal(25 * 3600, ts[26])                       -- second pass starts after 1 s (90 kHz)
    assert.equal("ended", src:state())
  end)

  it("a corrupt file ends its source with an error event", function()
    local data = assert(io.open(path("in.ivf"), "rb")):read("a")
    local f = assert(io.open(path("cut.ivf"), "wb"))
    f:write(data:sub(1, #data - 5))
    f:close()
    local src = assert(rtc.media.file_source(path("cut.ivf"), { speed = 20 }))
    local n, err, ended = 0, nil, false
    src:on("frame", function() n = n + 1 end)
    src:on("error", function(e) err = e end)
    src:on("ended", function() ended = true end)
    src:start()
    rtc.run()
    assert.equal(24, n)
    assert.matches("SyntaxError", err)
    assert.is_true(ended)
  end)
end)
