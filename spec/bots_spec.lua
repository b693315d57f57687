-- The example media bots (examples/echo_bot.lua, tone_bot.lua, recorder.lua), each run
-- as its own luartc process next to examples/signaling_server.lua, with a luartc peer
-- connection in this process playing a browser's part in the room.
local rtc = require "rtc"
local signaling = require "signaling"
local json = rtc.json
local loop = require "support.loop"
local ffprobe = require "support.ffprobe"
local bots = require "support.bots"
local run_task, wait_for = loop.run_task, loop.wait_for

local child = require "support.child"
local clips = require "support.clips"
local q = child.quote
local wait_log, kill_children = bots.wait_log, bots.kill_all

local dir
before_each(function() dir = child.tmpdir() end)
after_each(function()
  kill_children()
  child.rmdir(dir)
end)

local function start(script, args) return bots.start(dir, script, args) end

-- Joins the room after the bot, answers its offer (sending `send` tracks in the bot's
-- sections), plays a tone / VP8 file into them once connected and counts the frames
-- of each kind that arrive. Returns the counts after `seconds` of media, or, when
-- `seconds` is a function, once it returns true for the counts (at most 20 s: a
-- loaded host slows the echo down, which is no failure; echo that stops is). With
-- offer_first it offers to the bot instead.
local function join_and_play(url, send, seconds, offer_first)
  local me = assert(signaling.connect(url, { room = "r", info = { name = "tester" } }))
  local bot_id
  for id, info in pairs(me.peers) do if info.bot then bot_id = id end end
  assert.truthy(bot_id, "the bot is listed in the welcome")
  local pc = rtc.peer_connection { bind_addresses = { "127.0.0.1" } }
  bots.send_candidates(pc, me, bot_id)
  local got = { audio = 0, video = 0, keyframes = 0 }
  pc:on("track", function(track)
    track:on("frame", function(f)
      got[track.kind] = got[track.kind] + 1
      if f.keyframe and track.kind == "video" then got.keyframes = got.keyframes + 1 end
    end)
  end)
  -- Tracks added before the offer is applied take its sections (docs/media.md).
  local tracks = {}
  for _, kind in ipairs(send) do
    tracks[kind] = rtc.media_track(kind, kind == "video" and { codec = "VP8" } or nil)
    pc:add_track(tracks[kind])
  end
  if offer_first then
    -- The bot's own offer to the newcomer is superseded by ours (it answers and
    -- replaces that connection), as in spec/signaling_bot_spec.lua.
    local offer = assert(pc:create_offer())
    assert(pc:set_local_description(offer))
    me:send { type = "offer", to = bot_id, sdp = offer.sdp }
    local answer = assert(me:wait("answer", 10))
    assert(pc:set_remote_description { type = "answer", sdp = answer.sdp })
  else
    local offer = assert(me:wait("offer", 10))
    assert.equal(bot_id, offer.from)
    assert(pc:set_remote_description { type = "offer", sdp = offer.sdp })
    local answer = assert(pc:create_answer())
    assert(pc:set_local_description(answer))
    me:send { type = "answer", to = bot_id, sdp = answer.sdp }
  end
  bots.take_candidates_until(pc, me, function() return pc.connection_state == "connected" end)
  assert.equal("connected", pc.connection_state)
  local sources = {}
  if tracks.audio then
    sources[#sources + 1] = assert(rtc.media.tone_source { frequency = 440, channels = 1 })
    sources[#sources].track = tracks.audio
  end
  if tracks.video then
    local ivf = clips.vp8 { path = dir .. "/cam.ivf", rate = 30, seconds = 1, gop = 15, bitrate = "256k" }
    sources[#sources + 1] = assert(rtc.media.file_source(ivf, { loop = true }))
    sources[#sources].track = tracks.video
  end
  for _, s in ipairs(sources) do
    local track = s.track
    s:on("frame", function(f) track:write_frame(f) end)
    s:start()
  end
  if type(seconds) == "function" then
    local deadline = rtc.now() + 20000
    while not seconds(got) and rtc.now() < deadline do rtc.sleep(0.05) end
  else
    rtc.sleep(seconds)
  end
  for _, s in ipairs(sources) do s:stop() end
  pc:close()
  me:close()
  return got
end

-- What the echo tests wait for: a count of frames, not a count within a fixed time.
local function echoed(got) return got.audio > 20 and got.video > 10 and got.keyframes > 0 end

describe("media bots", function()
  it("echo bot returns a member's audio and video and echoes chat", function()
    run_task(function()
      local url = start("echo_bot.lua")
      local got = join_and_play(url, { "audio", "video" }, echoed)
      assert.is_true(got.audio > 20, "audio echoed: " .. got.audio)
      assert.is_true(got.video > 10, "video echoed: " .. got.video)
      assert.is_true(got.keyframes > 0)
    end, 45000)
  end)

  it("echo bot answers a member's offer and returns its audio and video", function()
    run_task(function()
      local url = start("echo_bot.lua")
      local got = join_and_play(url, { "audio", "video" }, echoed, true)
      assert.is_true(got.audio > 20, "audio echoed: " .. got.audio)
      assert.is_true(got.video > 10, "video echoed: " .. got.video)
    end, 45000)
  end)

  it("echo bot echoes chat on its data channel", function()
    run_task(function()
      local url = start("echo_bot.lua")
      local me = assert(signaling.connect(url, { room = "r", info = { name = "tester" } }))
      local bot_id
      for id, info in pairs(me.peers) do if info.bot then bot_id = id end end
      local pc = rtc.peer_connection { bind_addresses = { "127.0.0.1" } }
      bots.send_candidates(pc, me, bot_id)
      local dc, reply
      pc:on("datachannel", function(ch)
        dc = ch
        ch:on("message", function(data) reply = json.decode(data) end)
      end)
      local offer = assert(me:wait("offer", 10))
      assert(pc:set_remote_description { type = "offer", sdp = offer.sdp })
      local answer = assert(pc:create_answer())
      assert(pc:set_local_description(answer))
      me:send { type = "answer", to = bot_id, sdp = answer.sdp }
      bots.take_candidates_until(pc, me, function() return dc and dc.ready_state == "open" end)
      assert.truthy(dc and dc.ready_state == "open", "data channel open")
      dc:send(json.encode { from = "tester", text = "hello bot" })
      wait_for(function() return reply ~= nil end, "chat echo")
      assert.same({ from = "echo-bot", text = "hello bot" }, reply)
      pc:close()
      me:close()
    end, 30000)
  end)

  it("tone bot plays a tone, a VP8 IVF file and an Ogg/Opus file", function()
    run_task(function()
      local url = start("tone_bot.lua")
      local got = join_and_play(url, {}, 1.5)
      assert.is_true(got.audio > 20, "tone frames: " .. got.audio)
      assert.equal(0, got.video)
    end, 30000)
    kill_children()
    local ivf = clips.vp8 { path = dir .. "/clip.ivf", rate = 30, seconds = 1, gop = 15, bitrate = "256k" }
    run_task(function()
      local url = start("tone_bot.lua", { "--file", ivf })
      local got = join_and_play(url, {}, 1.5)
      assert.is_true(got.video > 10, "video frames: " .. got.video)
      assert.is_true(got.keyframes > 0)
      assert.equal(0, got.audio)
    end, 30000)
    kill_children()
    local ogg = clips.opus { path = dir .. "/clip.ogg", frequency = 300 }
    run_task(function()
      local url = start("tone_bot.lua", { "--file", ogg })
      local got = join_and_play(url, {}, 1.5)
      assert.is_true(got.audio > 20, "ogg frames: " .. got.audio)
      assert.equal(0, got.video)
    end, 30000)
  end)

  it("recorder writes a member's audio and video to a WebM file ffmpeg accepts", function()
    local out = dir .. "/rec"
    assert(os.execute("mkdir -p " .. q(out)))
    local file
    run_task(function()
      local url, bot = start("recorder.lua", { "--dir", out })
      -- 3 s played, at least 0.5 s recorded: the file starts at a keyframe after the
      -- connection is up, which a loaded host (two suites at once) delays by most of a
      -- second; what this checks is that the file is whole, not how fast it starts.
      join_and_play(url, { "audio", "video" }, 3)
      -- Leaving the room closes the member's file.
      file = wait_log(bot, "recorded (%S+%.webm)", "recording closed")
    end, 30000)
    ffprobe.check(file, { "vp8", "opus" }, 0.5)
  end)
end)
