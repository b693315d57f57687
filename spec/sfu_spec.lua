-- rtc.sfu with luartc bots: a publisher sends VP8 (from an IVF file ffmpeg made) and an
-- Opus tone to the SFU's connection; two subscribers get them through the C forwarding
-- core on their own connections. Real peer connections on 127.0.0.1 in one process.
-- Checked: every video frame a subscriber gets is byte for byte one the publisher sent,
-- starting at a keyframe; the subscriber's recording decodes cleanly with ffmpeg; the
-- audio decodes to the 440 Hz tone; pause stops a consumer and resume starts it again
-- at a keyframe; a refused subscribe gives the hook's message; closing a subscriber's
-- connection closes its consumers and fires the room's "leave".
local rtc = require "rtc"
local sfu = require "rtc.sfu"
local loop = require "support.loop"
local pcpair = require "support.pcpair"
local ffprobe = require "support.ffprobe"
local pcm = require "support.pcm"
local clips = require "support.clips"
local run_task, wait_for = loop.run_task, loop.wait_for

local LOCAL = { bind_addresses = { "127.0.0.1" } }
local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -p " .. dir))
local function path(name) return dir .. "/" .. name end

setup(function() clips.vp8 { path = path("in.ivf") } end)
teardown(function() os.execute("rm -rf '" .. dir .. "'") end)

-- The publisher: a peer connection sending the IVF (looped) and a tone; `sent` holds
-- every video frame's bytes.
local function publisher()
  local pc = assert(rtc.peer_connection(LOCAL))
  local cam, mic = rtc.media_track("video", { codec = "VP8" }), rtc.media_track("audio")
  assert(pc:add_transceiver(cam, { direction = "sendonly" }))
  assert(pc:add_transceiver(mic, { direction = "sendonly" }))
  local pub = { pc = pc, sent = {}, nsent = 0 }
  function pub.start()
    local v = assert(rtc.media.file_source(path("in.ivf"), { loop = true }))
    v:on("frame", function(f)
      pub.sent[f.data] = true
      pub.nsent = pub.nsent + 1
      cam:write_frame(f)
    end)
    local a = assert(rtc.media.tone_source { frequency = 440, amplitude = 0.3, duration = 30 })
    a:on("frame", function(f) mic:write_frame(f) end)
    v:start(); a:start()
    pub.sources = { v, a }
  end
  function pub.stop() for _, s in ipairs(pub.sources or {}) do s:stop() end end
  return pub
end

-- A subscriber bot and the SFU's connection to it, subscribed to every producer.
local function subscriber(room, producers, pub, name)
  local s = assert(rtc.peer_connection(LOCAL))       -- the SFU's side
  local b = assert(rtc.peer_connection(LOCAL))       -- the bot
  local sub = { pc = b, sfu_pc = s, consumers = {}, frames = 0, bad = 0, keyframes = 0, audio = {}, name = name }
  for _, p in ipairs(producers) do
    local c = assert(room:subscribe(s, p))
    sub.consumers[p.kind] = c
  end
  b:on("track", function(track)
    if track.kind == "video" then
      track:on("frame", function(f)
        if sub.frames == 0 and not f.keyframe then sub.bad = sub.bad + 1 end
        if not pub.sent[f.data] then sub.bad = sub.bad + 1 end
        if sub.resumed and sub.first_after_resume == nil then sub.first_after_resume = f.keyframe end
        sub.frames = sub.frames + 1
        if f.keyframe then sub.keyframes = sub.keyframes + 1 end
      end)
    else
      track:on("pcm", function(p) sub.audio[#sub.audio + 1] = p.samples end)
    end
  end)
  sub.recorder = rtc.recorder(path(name .. ".webm"), { pc = b })
  pcpair(s, b)
  return sub
end

describe("rtc.sfu with luartc bots", function()
  it("forwards a publisher's VP8 and Opus to two subscribers; pause/resume; leave", function()
    run_task(function()
      local room = sfu.room { name = "bots" }
      local published, left = {}, {}
      room:on("publish", function(p) published[#published + 1] = p end)
      room:on("leave", function(pc) left[#left + 1] = pc end)

      local pub = publisher()
      local s0 = assert(rtc.peer_connection(LOCAL))
      s0:on("track", function(track) assert(room:publish(track)) end)
      pcpair(pub.pc, s0)
      assert.equal(2, #published)
      local vp, ap
      for _, p in ipairs(published) do if p.kind == "video" then vp = p else ap = p end end
      assert.equal("VP8", vp.codec)
      assert.equal("opus", ap.codec:lower())
      pub.start()

      local b1 = subscriber(room, { vp, ap }, pub, "b1")
      local b2 = subscriber(room, { vp, ap }, pub, "b2")
      local starts = 0
      b2.consumers.video:on("start", function() starts = starts + 1 end)
      wait_for(function() return b1.frames >= 30 and b2.frames >= 30 and #b1.audio >= 50 and #b2.audio >= 50 end,
               "frames at both subscribers", 15000)
      for _, b in ipairs { b1, b2 } do
        assert.equal(0, b.bad)
        assert.is_true(b.keyframes >= 1)
        local tone = table.concat(b.audio, "", #b.audio - 40, #b.audio)   -- the last 0.8 s
        local hz = pcm.zero_crossing_hz(tone)
        assert(hz and math.abs(hz - 440) < 15, b.name .. ": tone at " .. tostring(hz) .. " Hz")
      end
      local vs = vp:stats()
      assert.is_true(vs.packets_received > 0 and vs.keyframes_received >= 1)
      local cs = b1.consumers.video:stats()
      assert.is_true(cs.packets_sent > 0 and cs.bytes_sent > 0)

      -- pause: B2's video stops while the SFU drops its packets; B1 goes on
      assert(b2.consumers.video:pause())
      local dropped0 = b2.consumers.video:stats().dropped_paused
      wait_for(function() return b2.consumers.video:stats().dropped_paused > dropped0 + 2 end, "packets dropped")
      local paused_frames, b1_frames = b2.frames, b1.frames
      wait_for(function() return b2.consumers.video:stats().dropped_paused > dropped0 + 60 end, "more packets dropped")
      assert.is_true(b2.frames <= paused_frames + 1)   -- one frame may have been in flight
      assert.is_true(b1.frames > b1_frames)
      -- resume: starts again at a keyframe
      b2.resumed = true
      assert(b2.consumers.video:resume())
      wait_for(function() return b2.frames > paused_frames + 10 end, "frames after resume", 10000)
      assert.is_true(b2.first_after_resume)
      assert.equal(0, b2.bad)

      -- B1's recording decodes
      b1.recorder:close()
      ffprobe.check(path("b1.webm"), { "vp8", "opus" })

      -- closing B2's SFU-side connection closes its consumers and B2 leaves the room
      local closed = 0
      b2.consumers.video:on("close", function() closed = closed + 1 end)
      b2.consumers.audio:on("close", function() closed = closed + 1 end)
      b2.sfu_pc:close()
      wait_for(function() return closed == 2 and #left == 1 end, "consumers closed")
      assert.equal(b2.sfu_pc, left[1])
      assert.is_true(b2.consumers.video.closed)
      local f1 = b1.frames
      wait_for(function() return b1.frames > f1 + 5 end, "B1 still receives")

      pub.stop()
      b2.recorder:close()
      for _, pc in ipairs { pub.pc, s0, b1.pc, b1.sfu_pc, b2.pc } do pc:close() end
      assert.is_true(vp.closed)
      room:close()
    end, 40000)
  end)

  it("a can_subscribe hook refusing gives NotAllowedError with its message", function()
    run_task(function()
      local room = sfu.room { name = "private", can_subscribe = function(_, _, _, info)
        if info ~= "member" then return false, "members only" end
        return true
      end }
      local pub = publisher()
      local s0 = assert(rtc.peer_connection(LOCAL))
      local producers = {}
      s0:on("track", function(track) producers[#producers + 1] = assert(room:publish(track)) end)
      pcpair(pub.pc, s0)
      local s1 = assert(rtc.peer_connection(LOCAL))
      local c, err, name = room:subscribe(s1, producers[1])
      assert.is_nil(c)
      assert.equal("NotAllowedError: members only", err)
      assert.equal("NotAllowedError", name)
      assert.equal(0, #s1:get_transceivers())            -- nothing was added
      assert(room:subscribe(s1, producers[1], { info = "member" }))
      assert.has_error(function() room:subscribe(s1, "x") end)
      assert.has_error(function() room:publish({}) end)
      for _, pc in ipairs { pub.pc, s0, s1 } do pc:close() end
      room:close()
    end)
  end)
end)
