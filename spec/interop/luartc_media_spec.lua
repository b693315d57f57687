-- Two luartc processes paired through the interop peer contract with media: an Opus
-- tone (`audio`) and a VP8 IVF file (`video`), each recorded on the answering side.
local interop = require "interop.helper"

local check, tmpdir, rmdir = interop.check, interop.tmpdir, interop.rmdir

-- ffprobe names the codec and a positive duration; ffmpeg decodes it without a word.
local function check_file(path, codec) require("support.ffprobe").check(path, { codec }) end

describe("luartc <-> luartc media across processes", function()
  it("audio: an Opus tone arrives, decodes with energy and records to Ogg", function()
    local dir = tmpdir()
    local rec = dir .. "/tone.ogg"
    local res = interop.pair(interop.luartc { "--role", "offer", "--test", "audio", "--duration", "2" },
                             interop.luartc { "--role", "answer", "--test", "audio", "--duration", "2",
                                              "--record", rec })
    check(res, "audio")
    assert.is_true(res.b.packets_received > 0)
    assert.is_true(res.b.frames_received > 50, tostring(res.b.frames_received))
    assert.is_true(res.b.audio_energy > 0.01, tostring(res.b.audio_energy))
    check_file(rec, "opus")
    rmdir(dir)
  end)

  it("video: VP8 frames from an IVF file arrive and record to IVF and WebM", function()
    local dir = tmpdir()
    local ivf = dir .. "/src.ivf"
    assert(os.execute("ffmpeg -nostdin -v error -y -f lavfi -i testsrc=size=160x120:rate=30 -t 1 -c:v libvpx -g 30 '" .. ivf .. "'"))
    for _, ext in ipairs { "ivf", "webm" } do
      local rec = dir .. "/rec." .. ext
      local res = interop.pair(interop.luartc { "--role", "offer", "--test", "video", "--file", ivf, "--duration", "2" },
                               interop.luartc { "--role", "answer", "--test", "video", "--duration", "2",
                                                "--record", rec })
      check(res, "video " .. ext)
      assert.is_true(res.b.packets_received > 0)
      assert.is_true(res.b.frames_received > 30, tostring(res.b.frames_received))
      assert.is_true(res.a.frames_sent > 30)
      check_file(rec, "vp8")
    end
    rmdir(dir)
  end)
end)
