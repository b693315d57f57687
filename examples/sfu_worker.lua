-- A worker for examples/sfu_workers.lua: one SFU room on this worker's loop, luartc
-- bots as its publisher and subscribers, and a pipe carrying a producer from this
-- worker's room into another worker's (docs/workers.md, "A room bigger than one worker").
-- Commands from the main script:
--   {cmd = "publish", clip = path}   a bot publishes the VP8 clip (looped) into the room
--   {cmd = "pipe"}                   -> {pipe = desc}: the room's video producer piped out
--   {cmd = "pipe_from", desc = d}    the piped producer appears in this worker's room
--   {cmd = "fail"}                   install a policy that raises (a room handler and a timer)
--   {cmd = "subscribe", n = N}       N subscriber bots on this worker
--   {cmd = "stop"}                   close everything; the worker ends
-- Replies to the main script: {ready}, {published}, {piped}, {pipe}, and
-- {done = true, subs = {{frames, keyframes, bad}, ...}, ...} once every subscriber has
-- received `frames` frames (from a keyframe, each byte for byte one of the clip's).
local rtc = require "rtc"
local sfu = require "rtc.sfu"
local parent = assert(rtc.worker.parent, "run me with rtc.worker.spawn (see examples/sfu_workers.lua)")
local LOCAL = { bind_addresses = { "127.0.0.1" } }
local id = rtc.worker.id

local room = sfu.room { name = "big" }
local video                -- the room's video producer (published here or piped in)
local pcs, subs, sources, pipe = {}, {}, {}, nil
local clip_frames, want_frames = {}, 60

local function connect(a, b)
  assert(a:set_local_description(assert(a:create_offer())))
  a:wait_gathering_complete()
  assert(b:set_remote_description(a.local_description))
  assert(b:set_local_description(assert(b:create_answer())))
  b:wait_gathering_complete()
  assert(a:set_remote_description(b.local_description))
  local deadline = rtc.now() + 20000
  while a.connection_state ~= "connected" or b.connection_state ~= "connected" do
    if rtc.now() > deadline then error("not connected: " .. a.connection_state .. " / " .. b.connection_state) end
    rtc.sleep(0.02)
  end
end

local function new_pc()
  local pc = assert(rtc.peer_connection(LOCAL))
  pcs[#pcs + 1] = pc
  return pc
end

local function load_clip(path)
  local r = assert(rtc.media.open(path))
  while true do
    local f = r:next()
    if not f then break end
    clip_frames[f.data] = true
  end
  r:close()
end

local function publish(clip)
  load_clip(clip)
  local bot, s0 = new_pc(), new_pc()
  local cam = rtc.media_track("video", { codec = "VP8" })
  assert(bot:add_transceiver(cam, { direction = "sendonly" }))
  s0:on("track", function(track) video = assert(room:publish(track)) end)
  connect(bot, s0)
  while not video._id do rtc.sleep(0.01) end   -- forwarding once negotiated
  local src = assert(rtc.media.file_source(clip, { loop = true }))
  src:on("frame", function(f) cam:write_frame(f) end)
  src:start()
  sources[#sources + 1] = src
end

local function report()
  local out, done = {}, #subs > 0
  for i, s in ipairs(subs) do
    out[i] = { frames = s.frames, keyframes = s.keyframes, bad = s.bad }
    done = done and s.frames >= want_frames and s.keyframes >= 2
  end
  return out, done
end

local function subscribe(n, clip)
  if not next(clip_frames) then load_clip(clip) end
  for _ = 1, n do
    local s, b = new_pc(), new_pc()
    local sub = { frames = 0, keyframes = 0, bad = 0 }
    subs[#subs + 1] = sub
    assert(room:subscribe(s, video))
    b:on("track", function(track)
      track:on("frame", function(f)
        if sub.frames == 0 and not f.keyframe then sub.bad = sub.bad + 1 end
        if not clip_frames[f.data] then sub.bad = sub.bad + 1 end
        sub.frames = sub.frames + 1
        if f.keyframe then sub.keyframes = sub.keyframes + 1 end
      end)
    end)
    connect(s, b)
  end
  -- Report once every subscriber has its frames (checked a few times a second).
  local t
  t = rtc.set_interval(100, function()
    local list, done = report()
    if not done then return end
    t:stop()
    local ps = video:stats()
    parent:send({ worker = id, done = true, subs = list, producer_piped = video.piped == true,
                  producer_packets = ps.packets_received, pipe_stats = pipe and pipe:stats() or nil })
  end)
end

-- A policy with a bug: its handlers raise. The error is logged (and, from the timer,
-- reported to the main script); the room, its consumers and the pipe keep forwarding.
local function failing_policy(r)
  r:on("subscribe", function() error("policy failure in worker " .. id .. " (subscribe handler)") end)
  rtc.set_timeout(10, function() error("policy failure in worker " .. id) end)
end

parent:on("message", function(msg)
  if msg.cmd == "publish" then
    rtc.spawn(function()
      publish(msg.clip)
      parent:send({ worker = id, published = true })
    end)
  elseif msg.cmd == "pipe" then
    pipe = assert(room:pipe_to(video))
    parent:send({ worker = id, pipe = pipe.desc })
  elseif msg.cmd == "pipe_from" then
    video = assert(room:pipe_from(msg.desc))
    parent:send({ worker = id, piped = true, codec = video.codec, kind = video.kind })
  elseif msg.cmd == "fail" then
    failing_policy(room)
  elseif msg.cmd == "subscribe" then
    want_frames = msg.frames or want_frames
    rtc.spawn(function() subscribe(msg.n, msg.clip) end)
  elseif msg.cmd == "stop" then
    parent:on("message", nil)
    for _, s in ipairs(sources) do s:stop() end
    for _, pc in ipairs(pcs) do pc:close() end
    room:close()
  end
end)
parent:send({ worker = id, ready = true })
