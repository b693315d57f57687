-- Playback to Chromium: luartc plays an Ogg/Opus file and an IVF VP8 file (made here
-- with ffmpeg) on one connection through its file sources (rtc.media.file_source, via
-- the interop peer's `av` test), and headless Chromium's getStats shows both decoding
-- all along: framesDecoded and totalAudioEnergy rising every second, packetsLost never
-- below zero.
local interop = require "interop.helper"

local check = interop.check
local DURATION = 5

local function sh(cmd) assert(os.execute(cmd), cmd) end

describe("luartc plays files to Chromium", function()
  local dir, res

  setup(function()
    dir = os.tmpname()
    os.remove(dir)
    sh("mkdir -p '" .. dir .. "'")
    local ogg, ivf = dir .. "/tone.ogg", dir .. "/testsrc.ivf"
    -- Both shorter than the test: the sources loop them.
    sh("ffmpeg -nostdin -v error -y -f lavfi -i sine=frequency=440:duration=3 -c:a libopus -b:a 48k '" .. ogg .. "'")
    sh("ffmpeg -nostdin -v error -y -f lavfi -i testsrc=size=320x240:rate=30 -t 2 -c:v libvpx -b:v 500k -g 30 '"
       .. ivf .. "'")
    res = interop.pair(
      interop.luartc { "--role", "offer", "--test", "av", "--file", ivf, "--audio-file", ogg,
                       "--duration", tostring(DURATION) },
      interop.browser { "--role", "answer", "--test", "av", "--duration", tostring(DURATION) })
  end)
  teardown(function() os.execute("rm -rf '" .. dir .. "'") end)

  local function samples_of(kind)
    check(res, "av playback")
    local samples = res.b[kind].samples
    assert.equal(DURATION + 1, #samples)
    for i, s in ipairs(samples) do
      assert.is_true(s.packets_lost >= 0, kind .. " packetsLost " .. s.packets_lost .. " at sample " .. i)
    end
    return res.b[kind], samples
  end

  it("the Ogg/Opus file: Chromium's audio energy rises every second", function()
    local audio, samples = samples_of("audio")
    assert.equal("audio/opus", audio.codec)
    assert.is_true(res.a.audio.frames_sent >= 50 * DURATION, tostring(res.a.audio.frames_sent))
    for i = 2, #samples do
      assert.is_true(samples[i].total_audio_energy > samples[i - 1].total_audio_energy,
                     "totalAudioEnergy flat at sample " .. i)
      assert.is_true(samples[i].packets_received > samples[i - 1].packets_received + 40)
    end
    assert.is_true(audio.total_audio_energy > 0)
    -- ffmpeg's sine is at 1/8 full scale.
    assert.is_true(audio.audio_energy > 0.03, tostring(audio.audio_energy))
  end)

  it("the IVF VP8 file: Chromium's framesDecoded rises every second", function()
    local video, samples = samples_of("video")
    assert.equal("video/VP8", video.codec)
    assert.is_true(res.a.video.frames_sent >= 30 * DURATION, tostring(res.a.video.frames_sent))
    for i = 2, #samples do
      -- 30 fps from the file: about 30 new decoded frames each second, loops included;
      -- half that leaves room for a loaded machine.
      assert.is_true(samples[i].frames_decoded > samples[i - 1].frames_decoded + 15,
                     "framesDecoded " .. samples[i - 1].frames_decoded .. " -> " .. samples[i].frames_decoded)
    end
    assert.is_true(video.frames_decoded >= 25 * DURATION, tostring(video.frames_decoded))
  end)
end)
