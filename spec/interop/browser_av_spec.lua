-- Audio and video between luartc and a real headless Chromium, both directions,
-- through the interop peer contract's `audio`, `video` and `av` tests (docs/interop.md),
-- inside a private network namespace. The sender is the offerer; the answerer reports
-- what it received: Opus decoded with energy, VP8 frames decoded, and a loss count that
-- never goes below zero.
local interop = require "interop.helper"

local check, tmpdir, rmdir = interop.check, interop.tmpdir, interop.rmdir

describe("luartc <-> Chromium audio and video", function()
  it("audio: luartc offers an Opus tone, Chromium answers and hears it", function()
    local res = interop.pair(interop.luartc { "--role", "offer", "--test", "audio", "--duration", "3" },
                             interop.browser { "--role", "answer", "--test", "audio", "--duration", "3" })
    check(res, "audio luartc->chromium")
    assert.is_true(res.a.frames_sent > 100, tostring(res.a.frames_sent))
    assert.equal("audio/opus", res.b.codec)
    assert.is_true(res.b.packets_received > 100, tostring(res.b.packets_received))
    -- A 0.25 full-scale sine has an RMS level of about 0.18.
    assert.is_true(res.b.audio_energy > 0.05, tostring(res.b.audio_energy))
    assert.is_true(res.b.packets_lost >= 0, tostring(res.b.packets_lost))
  end)

  it("video: luartc offers VP8 from an IVF file, Chromium answers and decodes it", function()
    local dir = tmpdir()
    local ivf = dir .. "/src.ivf"
    assert(os.execute("ffmpeg -nostdin -v error -y -f lavfi -i testsrc=size=320x240:rate=30 -t 2 -c:v libvpx -g 30 '"
                      .. ivf .. "'"))
    local res = interop.pair(interop.luartc { "--role", "offer", "--test", "video", "--file", ivf, "--duration", "3" },
                             interop.browser { "--role", "answer", "--test", "video", "--duration", "3" })
    rmdir(dir)
    check(res, "video luartc->chromium")
    assert.equal("video/VP8", res.b.codec)
    assert.is_true(res.a.frames_sent > 60, tostring(res.a.frames_sent))
    assert.is_true(res.b.frames_decoded > 60, tostring(res.b.frames_decoded))
    assert.is_true(res.b.packets_lost >= 0, tostring(res.b.packets_lost))
  end)

  it("audio: Chromium offers a WebAudio tone, luartc answers, decodes it and records Ogg", function()
    local dir = tmpdir()
    local rec = dir .. "/tone.ogg"
    local res = interop.pair(interop.browser { "--role", "offer", "--test", "audio", "--duration", "3" },
                             interop.luartc { "--role", "answer", "--test", "audio", "--duration", "3",
                                              "--record", rec })
    check(res, "audio chromium->luartc")
    assert.is_true(res.a.frames_sent > 100, tostring(res.a.frames_sent))
    assert.is_true(res.b.frames_received > 100, tostring(res.b.frames_received))
    assert.is_true(res.b.audio_energy > 0.05, tostring(res.b.audio_energy))
    assert.is_true(res.b.packets_lost >= 0, tostring(res.b.packets_lost))
    local p = assert(io.popen("ffmpeg -nostdin -v error -i '" .. rec .. "' -f null - 2>&1"))
    local errors = p:read("a")
    p:close()
    rmdir(dir)
    assert.equal("", errors)
  end)

  it("video: Chromium offers its fake camera as VP8, luartc answers and counts frames", function()
    local res = interop.pair(interop.browser { "--role", "offer", "--test", "video", "--duration", "3" },
                             interop.luartc { "--role", "answer", "--test", "video", "--duration", "3" })
    check(res, "video chromium->luartc")
    assert.equal("video/VP8", res.a.codec)
    -- The fake camera runs at about 20 fps once the encoder has ramped up.
    assert.is_true(res.b.frames_received > 30, tostring(res.b.frames_received))
    assert.is_true(res.b.packets_received >= res.b.frames_received)
    assert.is_true(res.b.packets_lost >= 0, tostring(res.b.packets_lost))
  end)

  it("av: Chromium offers tone and camera on one connection, luartc answers both", function()
    local res = interop.pair(interop.browser { "--role", "offer", "--test", "av", "--duration", "3" },
                             interop.luartc { "--role", "answer", "--test", "av", "--duration", "3" })
    check(res, "av chromium->luartc")
    assert.equal("audio/opus", res.a.audio.codec)
    assert.equal("video/VP8", res.a.video.codec)
    assert.is_true(res.b.audio.frames_received > 100, tostring(res.b.audio.frames_received))
    assert.is_true(res.b.audio.audio_energy > 0.05, tostring(res.b.audio.audio_energy))
    assert.is_true(res.b.video.frames_received > 30, tostring(res.b.video.frames_received))
    for _, k in ipairs { "audio", "video" } do
      assert.is_true(res.b[k].packets_lost >= 0, k .. " packetsLost " .. tostring(res.b[k].packets_lost))
    end
  end)
end)
