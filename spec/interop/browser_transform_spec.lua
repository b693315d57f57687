-- Encoded frame transforms against Chromium's RTCRtpScriptTransform: the browser page
-- (spec/browser/transform_page.js + transform_worker.js) and luartc
-- (spec/interop/transform_peer.lua: rtc.transforms.xor, the same XOR as a Lua function,
-- or rtc.transforms.aes_gcm against WebCrypto) use the frame formats of docs/media.md.
-- With the transform on both sides the video decodes; with it on one side only it does not.
local interop = require "interop.helper"

local SRC, LUARTC, BROWSER, quote = interop.SRC, interop.LUARTC, interop.BROWSER, interop.quote
local KEY = "luartc-e2ee-demo"

local function sh(cmd)
  local p = assert(io.popen(cmd .. " 2>&1", "r"))
  local out = p:read("a")
  local ok = p:close()
  return out, ok
end

-- run{side=, browser=, luartc=, record=, file=} -> browser result, luartc result
-- side: "send" when the browser sends (luartc records), "recv" when luartc sends.
local function run(o)
  local duration = 5
  local browser = { "node", BROWSER .. "/transform_peer.js", "--side", o.side, "--transform", o.browser,
                    "--key", KEY, "--duration", tostring(duration) }
  local luartc = { LUARTC, SRC .. "/spec/interop/transform_peer.lua", "--side", o.side == "send" and "recv" or "send",
                   "--transform", o.luartc, "--key", KEY, "--duration", tostring(duration) }
  if o.record then luartc[#luartc + 1] = "--record"; luartc[#luartc + 1] = o.record end
  if o.file then luartc[#luartc + 1] = "--file"; luartc[#luartc + 1] = o.file end
  local res = interop.pair(browser, luartc, { timeout = duration + 50 })
  interop.check(res, "transform pairing")
  return res.a, res.b
end

-- ffmpeg's verdict on a recording: error lines and the number of frames it decoded.
-- The fake camera's frame rate varies on a loaded machine (a frame stamped tens of ms
-- late, the next on time). Passthrough alone does not stop ffmpeg's null output from
-- putting frames on 1/(the frame rate it guesses) ticks, where two such frames land
-- on one and are reported as non-monotonic dts; ffprobe.DECODE_ARGS also keeps the
-- file's own time base, so only times that do not increase in the file are reported.
local DECODE_ARGS = require("support.ffprobe").DECODE_ARGS
local function decode(path)
  local errors = sh("ffmpeg -v error -i " .. quote(path) .. " " .. DECODE_ARGS .. " -f null -")
  local md5 = sh("ffmpeg -v error -i " .. quote(path) .. " -f framemd5 -")
  local frames = 0
  for l in md5:gmatch("[^\n]+") do if not l:match("^#") and l:match("^%s*0,") then frames = frames + 1 end end
  return errors, frames
end

local describe_browser = interop.have_browser(true) and describe
                         or function(name) pending(name .. " (no chromium or ffmpeg)") end

describe_browser("frame transforms with Chromium's RTCRtpScriptTransform", function()
  local dir
  setup(function() dir = interop.tmpdir() end)
  teardown(function() interop.rmdir(dir) end)

  it("Chromium's XOR'd VP8 recorded through luartc's XOR decodes; recorded without it, it does not", function()
    local with, without = dir .. "/with.ivf", dir .. "/without.ivf"
    local b1, l1 = run { side = "send", browser = "xor", luartc = "xor", record = with }
    assert.is_true(b1.worker_frames > 20, "frames through the browser's transform: " .. tostring(b1.worker_frames))
    assert.equal("video/VP8", b1.video_out.codec)
    assert.is_true(l1.frames_received >= 60, "frames: " .. tostring(l1.frames_received))
    assert.equal(l1.frames_received, l1.transform.frames)
    assert.equal(0, l1.transform.failed + l1.transform.dropped)
    local errors, frames = decode(with)
    assert.is_true(errors == "", "ffmpeg: " .. errors:sub(1, 600))
    assert.is_true(frames >= l1.frames_received - 1, "decoded " .. frames .. " of " .. l1.frames_received)

    local b2, l2 = run { side = "send", browser = "xor", luartc = "none", record = without }
    assert.is_true(b2.worker_frames > 20)
    assert.is_true(l2.frames_received >= 60)
    errors, frames = decode(without)
    io.stderr:write(string.format("without the transform: %d of %d frames decode; ffmpeg: %s\n", frames,
                                  l2.frames_received, errors:match("[^\n]*")))
    assert.is_true(errors ~= "", "ffmpeg decoded the XOR'd recording without an error")
    assert.is_true(frames < l2.frames_received // 2, "decoded " .. frames .. " of " .. l2.frames_received)
  end)

  it("the same XOR as a Lua function on luartc's receiver decodes too", function()
    local path = dir .. "/lua.ivf"
    local _, l = run { side = "send", browser = "xor", luartc = "lua", record = path }
    assert.is_true(l.frames_received >= 60)
    local errors, frames = decode(path)
    assert.is_true(errors == "", "ffmpeg: " .. errors:sub(1, 600))
    assert.is_true(frames >= l.frames_received - 1)
  end)

  it("AES-GCM both ways: WebCrypto in Chromium's worker and rtc.transforms.aes_gcm agree", function()
    local path, file = dir .. "/gcm.ivf", dir .. "/gcm_src.ivf"
    local b1, l1 = run { side = "send", browser = "aes-gcm", luartc = "aes-gcm", record = path }
    assert.is_true(b1.worker_frames > 20)
    assert.is_true(l1.frames_received >= 60)
    assert.equal(0, l1.transform.failed)
    assert.equal(l1.transform.bytes_in - 28 * l1.transform.frames, l1.transform.bytes_out)
    local errors, frames = decode(path)
    assert.is_true(errors == "", "ffmpeg: " .. errors:sub(1, 600))
    assert.is_true(frames >= l1.frames_received - 1)

    local out, ok = sh("ffmpeg -v error -y -f lavfi -i testsrc=size=320x240:rate=30 -t 4 -c:v libvpx -g 30 -b:v 500k "
                       .. quote(file))
    assert.is_true(ok, out)
    local b2, l2 = run { side = "recv", browser = "aes-gcm", luartc = "aes-gcm", file = file }
    assert.is_true(l2.frames_sent >= 60)
    assert.equal(0, b2.worker_failed)
    assert.is_true(b2.video_in.framesDecoded >= 60, "framesDecoded " .. tostring(b2.video_in.framesDecoded))
  end)

  it("luartc's XOR'd IVF decodes in Chromium through its transform; without it, it does not", function()
    local file = dir .. "/src.ivf"
    local out, ok = sh("ffmpeg -v error -y -f lavfi -i testsrc=size=320x240:rate=30 -t 4 -c:v libvpx -g 30 -b:v 500k "
                       .. quote(file))
    assert.is_true(ok, out)
    local b1, l1 = run { side = "recv", browser = "xor", luartc = "xor", file = file }
    assert.equal("video/VP8", b1.video_in.codec)
    assert.is_true(l1.frames_sent >= 60)
    assert.equal(l1.frames_sent, l1.transform.frames)
    assert.is_true(b1.worker_frames > 20)
    assert.is_true(b1.video_in.framesDecoded >= 60, "framesDecoded " .. tostring(b1.video_in.framesDecoded))

    local b2, l2 = run { side = "recv", browser = "none", luartc = "xor", file = file }
    assert.is_true(l2.frames_sent >= 60)
    assert.is_true(b2.video_in.framesReceived >= 60, "the frames did arrive")
    io.stderr:write(string.format("without the browser's transform: %d received, %d decoded, %d PLIs\n",
                                  b2.video_in.framesReceived, b2.video_in.framesDecoded, b2.video_in.pliCount or 0))
    -- libvpx takes the odd scrambled frame without complaint (the VP8 header is in the
    -- clear); the rest fail to decode, and every failure makes the browser ask for a
    -- keyframe.
    assert.is_true(b2.video_in.framesDecoded < b2.video_in.framesReceived // 4,
                   "framesDecoded " .. tostring(b2.video_in.framesDecoded))
    assert.is_true(b1.video_in.framesDecoded > 4 * b2.video_in.framesDecoded)
    assert.is_true((b2.video_in.pliCount or 0) >= 5, "PLIs " .. tostring(b2.video_in.pliCount))
  end)
end)
