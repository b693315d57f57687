-- Chromium sends its fake camera and microphone to luartc for 10 s; luartc records the
-- peer connection with rtc.recorder to WebM, Ogg and IVF at once
-- (spec/interop/record_peer.lua). ffprobe and ffmpeg check the files against the real
-- recording time luartc measured with rtc.now.
local interop = require "interop.helper"
local ffprobe = require "support.ffprobe"

local SRC, LUARTC, BROWSER = interop.SRC, interop.LUARTC, interop.BROWSER
local SECONDS = 10

local describe_browser = interop.have_browser() and describe or function(name) pending(name .. " (no chromium)") end

describe_browser("recording Chromium's camera and microphone with rtc.recorder", function()
  local dir, res, real
  local files = {}

  setup(function()
    dir = interop.tmpdir()
    files = { webm = dir .. "/call.webm", ogg = dir .. "/call.ogg", ivf = dir .. "/call.ivf" }
    -- The browser keeps sending a while after luartc stops recording. Its fake camera
    -- at its own rate (about 20 fps): on a loaded machine it stamps a frame tens of ms
    -- late and the next one on time, so the video's frame rate varies; the decode
    -- check keeps the files' own time base (support/ffprobe.lua), where that is right.
    local browser = { "env", "-u", "LD_PRELOAD", "node", BROWSER .. "/media_peer.js", "--codec", "VP8",
                      "--duration", tostring(SECONDS + 4) }
    local luartc = { LUARTC, SRC .. "/spec/interop/record_peer.lua", "--duration", tostring(SECONDS),
                     "--out", files.webm, "--out", files.ogg, "--out", files.ivf }
    res = interop.pair(browser, luartc, { timeout = SECONDS + 60 })
    interop.check(res, "recording")
    real = res.b.real_ms / 1000
    io.stderr:write(string.format("recorded %.3f s; %d sender reports\n", real, res.b.srs or 0))
  end)

  teardown(function()
    if dir then interop.rmdir(dir) end
  end)

  local function check_duration(probe, what)
    local d = probe.format.duration
    io.stderr:write(string.format("%s: %.3f s\n", what, d))
    assert.is_true(math.abs(d - real) <= 0.05 * real, string.format("%s lasts %.3f s, recorded for %.3f s", what, d, real))
  end

  it("WebM: one Opus and one VP8 stream, in sync from the start, as long as the recording, decoding cleanly", function()
    local s = res.b.files[files.webm]
    assert.is_true(s.synced.audio and s.synced.video, "both tracks mapped through sender reports")
    local probe = ffprobe.probe(files.webm)
    assert.equal(2, #probe.streams, probe.text)
    local a, v = ffprobe.stream(probe, "opus"), ffprobe.stream(probe, "vp8")
    assert.is_not_nil(a, probe.text)
    assert.is_not_nil(v, probe.text)
    check_duration(probe, "WebM")
    io.stderr:write(string.format("WebM start: audio %.3f video %.3f\n", a.start_time, v.start_time))
    assert.is_true(math.abs(a.start_time - v.start_time) <= 0.1, probe.text)
    assert.equal("", ffprobe.decode_errors(files.webm))
  end)

  it("Ogg: the Opus track alone, as long as the recording, decoding cleanly", function()
    local probe = ffprobe.probe(files.ogg)
    assert.equal(1, #probe.streams, probe.text)
    assert.is_not_nil(ffprobe.stream(probe, "opus"), probe.text)
    check_duration(probe, "Ogg")
    assert.equal("", ffprobe.decode_errors(files.ogg))
  end)

  it("IVF: the VP8 track alone, as long as the recording, decoding cleanly", function()
    local probe = ffprobe.probe(files.ivf)
    assert.equal(1, #probe.streams, probe.text)
    assert.is_not_nil(ffprobe.stream(probe, "vp8"), probe.text)
    check_duration(probe, "IVF")
    assert.equal("", ffprobe.decode_errors(files.ivf))
  end)
end)
