-- Frame transforms through the Lua API between two peer connections in one luartc
-- process on loopback: rtc.transforms.aes_gcm on video (C per frame), a Lua function
-- pair on audio, a wrong key, a removed transform (the wire format shows), a send
-- transform that drops, and argument errors.

local SCRIPT = [=[
local rtc = require "rtc"
local json = rtc.json
local a = rtc.peer_connection { bind_addresses = { "127.0.0.1" } }
local b = rtc.peer_connection { bind_addresses = { "127.0.0.1" } }
local cam = rtc.media_track("video", { codec = "VP8" })
local mic = rtc.media_track("audio")
local tr_v = a:add_track(cam)
local tr_a = a:add_transceiver(mic, { direction = "sendonly" })
local KEY = string.rep("k", 16)
local out = { phase = {}, errors = {} }
local sent, phase = {}, "both"
local rx = {}
local function count(k) out.phase[phase] = out.phase[phase] or {}; local t = out.phase[phase]; t[k] = (t[k] or 0) + 1 end

-- argument errors raise; wrong sizes too
out.errors.number = not pcall(tr_v.sender.set_transform, tr_v.sender, 42)
out.errors.short_key = not pcall(rtc.transforms.aes_gcm, "short")
out.errors.empty_xor = not pcall(rtc.transforms.xor, "")
out.errors.bad_salt = not pcall(rtc.transforms.aes_gcm, KEY, "xy")
out.tostring = tostring(rtc.transforms.aes_gcm(KEY))

tr_v.sender.transform = rtc.transforms.aes_gcm(KEY)      -- the W3C attribute form
out.attr = tostring(tr_v.sender.transform)
out.errors.attr = not pcall(function() tr_v.sender.transform = "nope" end)
-- audio: a Lua pair that wraps each frame (slow path; one call per frame)
assert(tr_a.sender:set_transform(function(data, info)
  assert(info.direction == "send" and info.kind == "audio")
  return data .. "|sealed"
end))
collectgarbage()   -- the pc holds its own reference to the C transform

b:on("track", function(track, tr)
  rx[track.kind] = tr
  if track.kind == "video" then assert(tr.receiver:set_transform(rtc.transforms.aes_gcm(KEY)))
  else
    assert(tr.receiver:set_transform(function(data, info)
      assert(info.direction == "receive" and info.codec == "opus")
      return data:match("^(.*)|sealed$")
    end))
  end
  track:on("frame", function(f)
    local want = sent[track.kind .. f.timestamp]
    if f.data == want then count(track.kind .. "_exact")
    elseif #f.data == #want + 28 and f.data:sub(1, f.keyframe and 10 or 3) == want:sub(1, f.keyframe and 10 or 3) then
      count(track.kind .. "_sealed")
    else count(track.kind .. "_other") end
  end)
end)

local ts = 0
local function burst(n)
  for i = 1, n do
    local key = i == 1
    local frame = (key and "\16\0\0\157\1\42\64\1\240\0" or "\17\0\0") .. string.rep(string.char(i % 256), 1800 + i * 7)
    sent["video" .. ts * 3000] = frame
    local audio = "\120" .. string.rep(string.char(i), 50)
    sent["audio" .. ts * 960] = audio
    assert(cam:write_frame { data = frame, timestamp = ts * 3000, keyframe = key })
    out.audio_result = mic:write_frame { data = audio, timestamp = ts * 960 }
    ts = ts + 1
    rtc.sleep(0.02)
  end
  rtc.sleep(0.4)
end

rtc.spawn(function()
  require("support.pcpair")(a, b)
  burst(30)
  out.send_stats = tr_v.sender:transform_stats()
  out.recv_stats = rx.video.receiver:transform_stats()

  phase = "wrong_key"
  assert(rx.video.receiver:set_transform(rtc.transforms.aes_gcm(string.rep("x", 16))))
  burst(10)
  out.wrong_stats = rx.video.receiver:transform_stats()

  phase = "none"
  assert(rx.video.receiver:set_transform(nil))
  burst(10)

  phase = "dropping"
  assert(tr_a.sender:set_transform(function() return nil end))
  burst(5)
  a:close(); b:close()
  io.stdout:write(json.encode(out), "\n")
end)
]=]

describe("frame transforms (Lua API)", function()
  it("AES-GCM in C and Lua functions transform frames end to end", function()
    local out = require("support.child").run_json(SCRIPT)
    assert.same({ number = true, short_key = true, empty_xor = true, bad_salt = true, attr = true }, out.errors)
    assert.equal("rtc.frame_transform(aes-gcm)", out.attr)
    assert.equal("rtc.frame_transform(aes-gcm)", out.tostring)
    local both = out.phase.both
    assert.equal(30, both.video_exact)
    assert.equal(30, both.audio_exact)
    assert.is_nil(both.video_other)
    assert.is_nil(both.audio_other)
    assert.equal(30, out.send_stats.frames)
    assert.equal(out.send_stats.bytes_in + 28 * 30, out.send_stats.bytes_out)
    assert.equal(30, out.recv_stats.frames)
    assert.equal(0, out.recv_stats.failed)
    -- the wrong key: every video frame fails authentication, none reaches Lua
    assert.is_nil(out.phase.wrong_key.video_exact)
    assert.is_nil(out.phase.wrong_key.video_other)
    assert.equal(10, out.wrong_stats.failed)
    assert.equal(10, out.phase.wrong_key.audio_exact)
    -- no receive transform: the documented wire format (clear header, +28 bytes)
    assert.equal(10, out.phase.none.video_sealed)
    -- a send transform returning nil drops: nothing is sent
    assert.equal(0, out.audio_result)
    assert.is_nil(out.phase.dropping.audio_exact)
    assert.equal(5, out.phase.dropping.video_sealed)
  end)
end)
