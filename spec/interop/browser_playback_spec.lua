-- Playback to Chromium: luartc plays an Ogg/Opus file and an IVF VP8 file (made here
-- with ffmpeg) through its file sources (rtc.media.file_source, via the interop peer's
-- `audio` and `video` tests with --file), and headless Chromium's getStats shows the
-- media decoding all along: framesDecoded rising every second, totalAudioEnergy rising,
-- and packetsLost never below zero.
local interop = require "interop.helper"

local check = interop.check
local DURATION = 5

local function tmpdir()
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p '" .. dir .. "'"))
  return dir
end

local function sh(cmd) assert(os.execute(cmd), cmd) end

-- Chromium answers luartc's offer to play `file` as `kind`; returns both results.
local function play(kind, file)
  local res = interop.pair(
    interop.luartc { "--role", "offer", "--test", kind, "--file", file, "--duration", tostring(DURATION) },
    interop.browser { "--role", "answer", "--test", kind, "--duration", tostring(DURATION) })
  check(res, kind .. " playback")
  local samples = res.b.samples
  assert.equal(DURATION + 1, #samples)
  for i, s in ipairs(samples) do
    assert.is_true(s.packets_lost >= 0, "packetsLost " .. s.packets_lost .. " at sample " .. i)
  end
  return res, samples
end

describe("luartc plays files to Chromium", function()
  local dir
  setup(function() dir = tmpdir() end)
  teardown(function() os.execute("rm -rf '" .. dir .. "'") end)

  it("an Ogg/Opus file: Chromium's audio energy rises every second", function()
    local ogg = dir .. "/tone.ogg"
    -- Shorter than the test: the source loops it.
    sh("ffmpeg -nostdin -v error -y -f lavfi -i sine=frequency=440:duration=3 -c:a libopus -b:a 48k '" .. ogg .. "'")
    local res, samples = play("audio", ogg)
    assert.equal("audio/opus", res.b.codec)
    assert.is_true(res.a.frames_sent >= 50 * DURATION, tostring(res.a.frames_sent))
    for i = 2, #samples do
      assert.is_true(samples[i].total_audio_energy > samples[i - 1].total_audio_energy,
                     "totalAudioEnergy flat at sample " .. i)
      assert.is_true(samples[i].packets_received > samples[i - 1].packets_received + 40)
    end
    assert.is_true(res.b.total_audio_energy > 0)
    -- ffmpeg's sine is at 1/8 full scale: an RMS level near 0.09.
    assert.is_true(res.b.audio_energy > 0.03, tostring(res.b.audio_energy))
  end)

  it("an IVF VP8 file: Chromium's framesDecoded rises every second", function()
    local ivf = dir .. "/testsrc.ivf"
    sh("ffmpeg -nostdin -v error -y -f lavfi -i testsrc=size=320x240:rate=30 -t 2 -c:v libvpx -b:v 500k -g 30 '"
       .. ivf .. "'")
    local res, samples = play("video", ivf)
    assert.equal("video/VP8", res.b.codec)
    assert.is_true(res.a.frames_sent >= 30 * DURATION, tostring(res.a.frames_sent))
    for i = 2, #samples do
      -- 30 fps from the file: well over 20 new decoded frames each second, loops included.
      assert.is_true(samples[i].frames_decoded > samples[i - 1].frames_decoded + 20,
                     "framesDecoded " .. samples[i - 1].frames_decoded .. " -> " .. samples[i].frames_decoded)
    end
    assert.is_true(res.b.frames_decoded >= 25 * DURATION, tostring(res.b.frames_decoded))
  end)
end)
