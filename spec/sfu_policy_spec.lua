-- The example SFU policies (examples/sfu_policy_last_n.lua, sfu_policy_default.lua)
-- run on a room of three luartc bots, each publishing VP8 (an IVF) and an Opus track
-- whose frames carry the audio level; they take turns speaking (a tone; the others
-- send silence). One subscriber bot is subscribed to all six producers. Real peer
-- connections on 127.0.0.1 in this process. And examples/sfu.lua --policy as a child:
-- a WHIP publisher reaches a WHEP subscriber under the last-N policy.
-- Checked, after each "activespeaker" event (no timing is asserted):
--   last-N (N = 1): the speaker's video reaches the subscriber, the other two video
--   consumers are paused by the policy (and their packets dropped), audio flows;
--   default (an estimate with room for the audio, the speaker's video and one more):
--   the speaker's and the first other publisher's video flow, the third is paused;
--   with simulcast publishers and the subscriber connection's own estimate: the
--   speaker's video goes to the top layer, the others' stay at the lowest.
local rtc = require "rtc"
local sfu = require "rtc.sfu"
local http = require "http"
local loop = require "support.loop"
local pcpair = require "support.pcpair"
local child = require "support.child"
local clips = require "support.clips"
local run_task, wait_for = loop.run_task, loop.wait_for
local q = child.quote

local LOCAL = { bind_addresses = { "127.0.0.1" } }
local EXAMPLES = child.SOURCE_DIR .. "/examples/"
local dir = child.tmpdir()
local function path(name) return dir .. "/" .. name end

setup(function()
  clips.vp8 { path = path("in.ivf") }
  -- the simulcast layers: small rates (8, 16, 30 kbit/s), so that the top one fits a
  -- subscriber's share of even the estimate a connection starts with
  for i, sz in ipairs { { 64, 48, "8k" }, { 128, 96, "16k" }, { 256, 192, "30k" } } do
    clips.vp8 { path = path("l" .. i .. ".ivf"), size = sz[1] .. "x" .. sz[2], rate = 10, seconds = 4,
                gop = 20, bitrate = sz[3] }
  end
end)
teardown(function() child.rmdir(dir) end)

-- A publisher bot (VP8 + Opus) on its own connection pair into room.
local function bot(room, name)
  local pc = assert(rtc.peer_connection(LOCAL))
  local cam, mic = rtc.media_track("video", { codec = "VP8" }), rtc.media_track("audio")
  assert(pc:add_transceiver(cam, { direction = "sendonly" }))
  assert(pc:add_transceiver(mic, { direction = "sendonly" }))
  local s = assert(rtc.peer_connection(LOCAL))
  local b = { name = name, pc = pc, sfu_pc = s, producers = {} }
  s:on("track", function(track) b.producers[track.kind] = assert(room:publish(track)) end)
  pcpair(pc, s)
  b.video = assert(rtc.media.file_source(path("in.ivf"), { loop = true }))
  b.video:on("frame", function(f) cam:write_frame(f) end)
  b.video:start()
  function b.speak(on)
    if b.audio then b.audio:stop() end
    b.audio = assert(rtc.media.tone_source { frequency = on and 440 or 0, amplitude = 0.3 })
    b.audio:on("frame", function(f) mic:write_frame(f) end)
    b.audio:start()
  end
  function b.close()
    b.video:stop(); if b.audio then b.audio:stop() end
    pc:close(); s:close()
  end
  b.speak(false)
  return b
end

-- A publisher bot whose video is three simulcast layers (three transceivers, one
-- producer: 64x48, 128x96, 256x192 at 10 fps), and Opus.
local function layered_bot(room, name)
  local pc = assert(rtc.peer_connection(LOCAL))
  local cams = {}
  for i = 1, 3 do
    cams[i] = rtc.media_track("video", { codec = "VP8" })
    assert(pc:add_transceiver(cams[i], { direction = "sendonly" }))
  end
  local mic = rtc.media_track("audio")
  assert(pc:add_transceiver(mic, { direction = "sendonly" }))
  local s = assert(rtc.peer_connection(LOCAL))
  local b = { name = name, pc = pc, sfu_pc = s, producers = {}, videos = {} }
  local vtracks = {}
  s:on("track", function(track)
    if track.kind == "audio" then b.producers.audio = assert(room:publish(track))
    else vtracks[#vtracks + 1] = track end
  end)
  pcpair(pc, s)
  table.sort(vtracks, function(x, y) return tonumber(x._tr.mid) < tonumber(y._tr.mid) end)
  b.producers.video = assert(room:publish(vtracks))
  for i = 1, 3 do
    local src = assert(rtc.media.file_source(path("l" .. i .. ".ivf"), { loop = true }))
    src:on("frame", function(f) cams[i]:write_frame(f) end)
    src:start()
    b.videos[i] = src
  end
  function b.speak(on)
    if b.audio then b.audio:stop() end
    b.audio = assert(rtc.media.tone_source { frequency = on and 440 or 0, amplitude = 0.3 })
    b.audio:on("frame", function(f) mic:write_frame(f) end)
    b.audio:start()
  end
  function b.close()
    for _, v in ipairs(b.videos) do v:stop() end
    if b.audio then b.audio:stop() end
    pc:close(); s:close()
  end
  b.speak(false)
  return b
end

-- The subscriber bot, subscribed to every producer of the bots before it negotiates;
-- frames[producer] counts the video frames it got of that producer.
local function subscriber(room, bots)
  local s = assert(rtc.peer_connection(LOCAL))
  local b = assert(rtc.peer_connection(LOCAL))
  local sub = { pc = b, sfu_pc = s, consumers = {}, frames = {}, audio_packets = 0 }
  local by_mid = {}
  for _, x in ipairs(bots) do
    for _, kind in ipairs { "video", "audio" } do
      local c = assert(room:subscribe(s, x.producers[kind]))
      sub.consumers[x.producers[kind]] = c
    end
  end
  b:on("track", function(track)
    track:on("frame", function()
      local p = by_mid[track._tr.mid]
      if p then sub.frames[p] = (sub.frames[p] or 0) + 1 end
    end)
  end)
  pcpair(s, b)
  for p, c in pairs(sub.consumers) do
    if p.kind == "video" then by_mid[c.transceiver.mid] = p end
  end
  return sub
end

-- Makes `speaker` speak and waits until the room says so and the policy has acted:
-- the speaker's video arrives, the others' video consumers (but those in `also`) are
-- paused by `reason` and drop packets, every audio consumer forwards.
local function turn(room, bots, sub, speaker, reason, also)
  for _, b in ipairs(bots) do b.speak(b == speaker) end
  local sp = speaker.producers.audio
  wait_for(function() return room.active_speaker == sp end, "the active speaker to be " .. speaker.name, 20000)
  local v = speaker.producers.video
  local f0 = sub.frames[v] or 0
  wait_for(function() return (sub.frames[v] or 0) > f0 + 5 end, speaker.name .. "'s video at the subscriber", 15000)
  for _, b in ipairs(bots) do
    local c = sub.consumers[b.producers.video]
    if b == speaker or (also and also[b]) then
      assert.is_false(c.paused)
    else
      assert.is_true(c.paused)
      assert.is_true(c:paused_by()[reason])
      local d = c:stats().dropped_paused
      wait_for(function() return c:stats().dropped_paused > d + 5 end, b.name .. "'s video dropped")
    end
    assert.is_false(sub.consumers[b.producers.audio].paused)
  end
end

describe("example SFU policies", function()
  it("last-N forwards video only from the N most recent speakers", function()
    run_task(function()
      local room = sfu.room { name = "last-n", speaker = { interval = 0.2 } }
      local policy = dofile(EXAMPLES .. "sfu_policy_last_n.lua")(room, { n = 1 })
      local bots = { bot(room, "a"), bot(room, "b"), bot(room, "c") }
      local sub = subscriber(room, bots)
      -- before anyone speaks: the first publisher's video only
      assert.is_false(sub.consumers[bots[1].producers.video].paused)
      assert.is_true(sub.consumers[bots[2].producers.video].paused)
      assert.equal(bots[1].sfu_pc, policy.order()[1])
      turn(room, bots, sub, bots[2], "last_n")
      turn(room, bots, sub, bots[3], "last_n")
      turn(room, bots, sub, bots[1], "last_n")
      assert.same({ bots[1].sfu_pc, bots[3].sfu_pc, bots[2].sfu_pc }, policy.order())
      -- a leaving publisher drops out of the order
      bots[3].close()
      wait_for(function() return #policy.order() == 2 end, "c to leave the order")
      for _, b in ipairs { bots[1], bots[2] } do b.close() end
      sub.pc:close(); sub.sfu_pc:close()
      room:close()
    end, 120000)
  end)

  it("default: audio always, the speaker's video, the others' as the estimate allows", function()
    run_task(function()
      -- the estimate: three audio streams, the speaker's video and one more video fit
      local room = sfu.room { name = "default-policy", speaker = { interval = 0.2 } }
      dofile(EXAMPLES .. "sfu_policy_default.lua")(room, {
        audio_bps = 50000, speaker_bps = 500000, video_bps = 150000,
        estimate = function() return 3 * 50000 + 500000 + 150000 + 1000 end,
      })
      local bots = { bot(room, "a"), bot(room, "b"), bot(room, "c") }
      local sub = subscriber(room, bots)
      local function video(b) return sub.consumers[b.producers.video] end
      -- no speaker yet: nothing is kept for one, and all three videos fit
      for _, b in ipairs(bots) do assert.is_false(video(b).paused) end
      -- c speaks: c's video and a's (the first other) flow, b's is paused
      turn(room, bots, sub, bots[3], "policy", { [bots[1]] = true })
      -- a speaks: a's and b's flow, c's is paused
      turn(room, bots, sub, bots[1], "policy", { [bots[2]] = true })
      for _, b in ipairs(bots) do b.close() end
      sub.pc:close(); sub.sfu_pc:close()
      room:close()
    end, 120000)
  end)

  it("default with simulcast: the speaker's video at the top layer, the others' at the lowest", function()
    run_task(function()
      local room = sfu.room { name = "default-layers", speaker = { interval = 0.2 } }
      -- every video fits (the real estimate of each subscriber connection is used)
      dofile(EXAMPLES .. "sfu_policy_default.lua")(room, { audio_bps = 1, speaker_bps = 1, video_bps = 1 })
      local bots = { layered_bot(room, "a"), layered_bot(room, "b"), layered_bot(room, "c") }
      local sub = subscriber(room, bots)
      local function video(b) return sub.consumers[b.producers.video] end
      local function turn_layers(speaker)
        for _, b in ipairs(bots) do b.speak(b == speaker) end
        wait_for(function() return room.active_speaker == speaker.producers.audio end,
                 "the active speaker to be " .. speaker.name, 20000)
        -- the others are held at layer 0 at once; the speaker goes up as its share allows
        for _, b in ipairs(bots) do
          if b ~= speaker then
            wait_for(function() return video(b):current_layers().target_spatial == 0 end, b.name .. " at layer 0")
          end
        end
        wait_for(function() return video(speaker):current_layers().target_spatial == 2 end,
                 speaker.name .. "'s video at the top layer", 40000)
        for _, b in ipairs(bots) do
          assert.is_false(video(b).paused)
          assert.is_false(sub.consumers[b.producers.audio].paused)
        end
        local f0 = sub.frames[speaker.producers.video] or 0
        wait_for(function() return (sub.frames[speaker.producers.video] or 0) > f0 + 5 end, "the speaker's frames")
      end
      turn_layers(bots[2])
      turn_layers(bots[1])
      for _, b in ipairs(bots) do b.close() end
      sub.pc:close(); sub.sfu_pc:close()
      room:close()
    end, 150000)
  end)
end)

describe("examples/sfu.lua --policy", function()
  it("runs the last-N policy in its rooms; a bad policy file is a usage error", function()
    local code, _, err = child.run { EXAMPLES .. "sfu.lua", "--policy", path("missing.lua") }
    assert.equal(2, code)
    assert.matches("--policy", err, 1, true)

    run_task(function()
      local port = 21000 + (os.time() % 9000)
      local out, errf = path("sfu.out"), path("sfu.err")
      os.execute(string.format("%s %s --listen 127.0.0.1:%d --policy last-n --last-n 1 >%s 2>%s & echo $! >%s",
                               q(child.LUARTC), q(EXAMPLES .. "sfu.lua"), port, q(out), q(errf), q(path("pid"))))
      local pid = child.slurp(path("pid")):match("%d+")
      local ok, e = pcall(function()
        wait_for(function() return child.slurp(out):find("listening", 1, true) end, "the SFU to listen", 10000)
        assert.matches("policy last-n", child.slurp(out), 1, true)
        local base = "http://127.0.0.1:" .. port
        -- the publisher: VP8 and a tone (it speaks, so the policy forwards its video)
        local pc = assert(rtc.peer_connection(LOCAL))
        local cam, mic = rtc.media_track("video", { codec = "VP8" }), rtc.media_track("audio")
        assert(pc:add_transceiver(cam, { direction = "sendonly" }))
        assert(pc:add_transceiver(mic, { direction = "sendonly" }))
        assert(pc:set_local_description(assert(pc:create_offer())))
        pc:wait_gathering_complete()
        local r = assert(http.request(base .. "/whip", { method = "POST", body = pc.local_description.sdp,
                                                         headers = { ["Content-Type"] = "application/sdp" } }))
        assert.equal(201, r.status)
        assert(pc:set_remote_description { type = "answer", sdp = r.body })
        wait_for(function() return pc.connection_state == "connected" end, "the publisher connected")
        local v = assert(rtc.media.file_source(path("in.ivf"), { loop = true }))
        v:on("frame", function(f) cam:write_frame(f) end)
        local a = assert(rtc.media.tone_source { frequency = 440, amplitude = 0.3 })
        a:on("frame", function(f) mic:write_frame(f) end)
        v:start(); a:start()
        -- the subscriber gets the publisher's video
        local spc = assert(rtc.peer_connection(LOCAL))
        assert(spc:add_transceiver("video", { direction = "recvonly" }))
        assert(spc:add_transceiver("audio", { direction = "recvonly" }))
        local frames = 0
        spc:on("track", function(t) if t.kind == "video" then t:on("frame", function() frames = frames + 1 end) end end)
        assert(spc:set_local_description(assert(spc:create_offer())))
        spc:wait_gathering_complete()
        r = assert(http.request(base .. "/whep", { method = "POST", body = spc.local_description.sdp,
                                                   headers = { ["Content-Type"] = "application/sdp" } }))
        assert.equal(201, r.status)
        assert(spc:set_remote_description { type = "answer", sdp = r.body })
        wait_for(function() return frames >= 10 end, "video frames through the SFU", 15000)
        v:stop(); a:stop()
        pc:close(); spc:close()
      end)
      if pid then os.execute("kill -INT " .. pid .. " 2>/dev/null") end
      if not ok then error(e, 0) end
    end, 60000)
  end)
end)
