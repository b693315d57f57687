-- Permissions and moderation in rtc.sfu rooms. Over WHIP/WHEP (modules/whip.lua on an
-- http.server in this process, luartc clients): a refused join, a refused publish (by
-- kind, and by source: a=content:slides is a screen share) and a refused subscribe (by
-- producer) each reach the client as 403 with the hook's message, and allowed ones go
-- through. With luartc bots on local peer connections: a moderator's mute
-- (producer:pause()) stops forwarding to every subscriber and keeps a subscriber's own
-- pause; resume starts at a keyframe; room:remove(pc) closes the member's producers,
-- its subscribers' consumers and its connection, and fires "leave" with the reason.
local rtc = require "rtc"
local sfu = require "rtc.sfu"
local http = require "http"
local whip = require "whip"
local loop = require "support.loop"
local pcpair = require "support.pcpair"
local child = require "support.child"
local clips = require "support.clips"
local run_task, wait_for = loop.run_task, loop.wait_for
local q = child.quote

local LOCAL = { bind_addresses = { "127.0.0.1" } }
local dir = child.tmpdir()
local function path(name) return dir .. "/" .. name end

setup(function() clips.vp8 { path = path("in.ivf") } end)
teardown(function() child.rmdir(dir) end)

-- An offer from a new client connection; `screen` marks its video section as slides.
local function offer(kinds, dir_, screen)
  local pc = assert(rtc.peer_connection(LOCAL))
  for _, k in ipairs(kinds) do assert(pc:add_transceiver(k, { direction = dir_ })) end
  assert(pc:set_local_description(assert(pc:create_offer())))
  pc:wait_gathering_complete()
  local sdp = pc.local_description.sdp
  if screen then
    sdp = sdp:gsub("(m=video[^\r\n]*\r\n)", "%1a=content:slides\r\n")
  end
  return pc, sdp
end

local function post(url, sdp, user)
  local headers = { ["Content-Type"] = "application/sdp" }
  if user then headers["X-User"] = user end
  return assert(http.request(url, { method = "POST", body = sdp, headers = headers }))
end

describe("rtc.sfu permissions over WHIP/WHEP", function()
  it("refusals of join, publish (kind, source) and subscribe reach the client as 403 + message", function()
    run_task(function()
      local srv = assert(http.server { host = "127.0.0.1", port = 0 })
      local asked = {}
      local svc = whip.serve(srv, { pc = LOCAL, on_room = function(room)
        sfu.room {
          name = room.name,
          can_join = function(_, _, req)
            local user = req.headers["x-user"]
            if not user then return false, "who are you?" end
            return true
          end,
          can_publish = function(_, _, track, req, source)
            asked[#asked + 1] = track.kind .. "/" .. tostring(source)
            local user = req.headers["x-user"]
            if source == "screen" and user ~= "presenter" then return false, "screen sharing is for presenters" end
            if track.kind == "audio" and user == "listener" then return false, "listeners do not speak" end
            return true
          end,
          can_subscribe = function(_, _, producer, req)
            if producer.source == "screen" and req.headers["x-user"] == "guest" then
              return false, "the screen is for members"
            end
            return true
          end,
        }
      end })
      local base = "http://127.0.0.1:" .. srv.port

      -- join: no user
      local pc, sdp = offer({ "audio" }, "sendonly")
      local r = post(base .. "/whip/class", sdp)
      assert.equal(403, r.status)
      assert.equal("who are you?\n", r.body)
      pc:close()

      -- publish by kind: a listener's microphone
      pc, sdp = offer({ "audio" }, "sendonly")
      r = post(base .. "/whip/class", sdp, "listener")
      assert.equal(403, r.status)
      assert.equal("listeners do not speak\n", r.body)
      pc:close()

      -- publish by source: a student's screen share
      pc, sdp = offer({ "video" }, "sendonly", true)
      r = post(base .. "/whip/class", sdp, "student")
      assert.equal(403, r.status)
      assert.equal("screen sharing is for presenters\n", r.body)
      pc:close()
      assert.same({ "audio/microphone", "video/screen" }, asked)

      -- the presenter's screen share is published, with its source
      local ppc, psdp = offer({ "video" }, "sendonly", true)
      r = post(base .. "/whip/class", psdp, "presenter")
      assert.equal(201, r.status)
      assert(ppc:set_remote_description { type = "answer", sdp = r.body })
      local room = sfu.rooms().class
      local producers = room:producers()
      assert.equal(1, #producers)
      assert.equal("screen", producers[1].source)
      assert.equal("video/screen", asked[#asked])

      -- subscribe by producer: a guest may not see the screen, a member may
      local gpc, gsdp = offer({ "video" }, "recvonly")
      r = post(base .. "/whep/class", gsdp, "guest")
      assert.equal(403, r.status)
      assert.equal("the screen is for members\n", r.body)
      gpc:close()
      local mpc, msdp = offer({ "video" }, "recvonly")
      r = post(base .. "/whep/class", msdp, "member")
      assert.equal(201, r.status)
      assert.equal(4, svc.stats.refused)
      svc.close()
      for _, c in ipairs { ppc, mpc } do c:close() end
      srv:close()
      room:close()
    end, 30000)
  end)

  it("room:join refusals and hook arguments in Lua", function()
    run_task(function()
      local room = sfu.room { name = "members", can_join = function(_, _, info)
        if info ~= "member" then return false, "members only" end
        return true
      end }
      local joined = {}
      room:on("join", function(pc, info) joined[#joined + 1] = info end)
      local pc = assert(rtc.peer_connection(LOCAL))
      local ok, err, name = room:join(pc, "stranger")
      assert.is_nil(ok)
      assert.equal("NotAllowedError: members only", err)
      assert.equal("NotAllowedError", name)
      assert.equal(0, #room:peers())
      assert.is_true(room:join(pc, "member"))
      assert.is_true(room:join(pc, "stranger"))    -- already a member: not asked again
      assert.same({ "member" }, joined)
      assert.equal(1, #room:peers())
      assert.has_error(function() room:join("x") end)
      assert.has_error(function() room:remove("x") end)
      local other = assert(rtc.peer_connection(LOCAL))
      local rok, rerr = room:remove(other)
      assert.is_nil(rok)
      assert.matches("^InvalidStateError", rerr)
      pc:close(); other:close()
      room:close()
    end)
  end)
end)

-- The publisher bot: VP8 from the IVF and a tone, on its own local connection pair.
local function publisher(room)
  local pc = assert(rtc.peer_connection(LOCAL))
  local cam, mic = rtc.media_track("video", { codec = "VP8" }), rtc.media_track("audio")
  assert(pc:add_transceiver(cam, { direction = "sendonly" }))
  assert(pc:add_transceiver(mic, { direction = "sendonly" }))
  local s = assert(rtc.peer_connection(LOCAL))
  local pub = { pc = pc, sfu_pc = s, producers = {} }
  s:on("track", function(track) pub.producers[track.kind] = assert(room:publish(track)) end)
  pcpair(pc, s)
  local v = assert(rtc.media.file_source(path("in.ivf"), { loop = true }))
  v:on("frame", function(f) cam:write_frame(f) end)
  local a = assert(rtc.media.tone_source { frequency = 440, amplitude = 0.3 })
  a:on("frame", function(f) mic:write_frame(f) end)
  v:start(); a:start()
  pub.sources = { v, a }
  return pub
end

local function subscriber(room, pub)
  local s = assert(rtc.peer_connection(LOCAL))
  local b = assert(rtc.peer_connection(LOCAL))
  local sub = { pc = b, sfu_pc = s, consumers = {}, frames = 0, packets = 0, keyframes = 0 }
  for kind, p in pairs(pub.producers) do sub.consumers[kind] = assert(room:subscribe(s, p)) end
  b:on("track", function(track)
    if track.kind == "video" then
      track:on("frame", function(f)
        if sub.watch_first and sub.first_after == nil then sub.first_after = f.keyframe end
        sub.frames = sub.frames + 1
      end)
    end
  end)
  pcpair(s, b)
  return sub
end

describe("rtc.sfu moderation", function()
  it("a moderator's mute stops forwarding to every subscriber; remove ends a member", function()
    run_task(function()
      local room = sfu.room { name = "moderated" }
      local left = {}
      room:on("leave", function(pc, reason) left[#left + 1] = { pc = pc, reason = reason } end)
      local pub = publisher(room)
      local vp, ap = pub.producers.video, pub.producers.audio
      local s1, s2 = subscriber(room, pub), subscriber(room, pub)
      wait_for(function() return s1.frames >= 10 and s2.frames >= 10 end, "frames at both", 15000)

      -- s2 pauses its own video first
      assert(s2.consumers.video:pause())
      local events = {}
      vp:on("pause", function() events[#events + 1] = "pause" end)
      vp:on("resume", function() events[#events + 1] = "resume" end)
      assert(vp:pause())
      assert(ap:pause())
      assert.is_true(vp.paused)
      for _, s in ipairs { s1, s2 } do
        for _, c in pairs(s.consumers) do assert.is_true(c.paused); assert.is_true(c:paused_by().moderator) end
      end
      assert.is_true(s2.consumers.video:paused_by().app)
      -- nothing forwarded while muted: the packets are dropped for every consumer
      local sent, dropped = {}, {}
      for i, s in ipairs { s1, s2 } do
        for kind, c in pairs(s.consumers) do
          local st = c:stats()
          sent[i .. kind], dropped[i .. kind] = st.packets_sent, st.dropped_paused
        end
      end
      wait_for(function()
        for i, s in ipairs { s1, s2 } do
          for kind, c in pairs(s.consumers) do
            if c:stats().dropped_paused < dropped[i .. kind] + 20 then return false end
          end
        end
        return true
      end, "packets dropped at every consumer", 15000)
      for i, s in ipairs { s1, s2 } do
        for kind, c in pairs(s.consumers) do
          -- at most a packet in flight when the mute came
          assert.is_true(c:stats().packets_sent <= sent[i .. kind] + 1, i .. kind)
        end
      end
      -- a subscriber joining while muted starts muted
      local s3 = subscriber(room, pub)
      assert.is_true(s3.consumers.video.paused)

      -- unmute: s1 and s3 get video again from a keyframe; s2's own pause holds
      s1.watch_first = true
      local f1 = s1.frames
      assert(vp:resume())
      assert(ap:resume())
      assert.same({ "pause", "resume" }, events)
      assert.is_false(s1.consumers.video.paused)
      assert.is_true(s2.consumers.video.paused)
      assert.same({ app = true }, s2.consumers.video:paused_by())
      assert.is_false(s2.consumers.audio.paused)
      wait_for(function() return s1.frames > f1 + 5 and s3.frames > 5 end, "frames after the unmute", 15000)
      assert.is_true(s1.first_after)
      local d2 = s2.consumers.video:stats().dropped_paused
      wait_for(function() return s2.consumers.video:stats().dropped_paused > d2 + 20 end, "s2 still paused")

      -- remove the publisher: its producers close, the subscribers' consumers with them,
      -- "leave" fires with the reason and the publisher's own connection ends
      local closed = 0
      for _, s in ipairs { s1, s2, s3 } do
        for _, c in pairs(s.consumers) do c:on("close", function() closed = closed + 1 end) end
      end
      assert.is_true(room:remove(pub.sfu_pc, "kicked"))
      assert.is_true(vp.closed and ap.closed)
      assert.equal(6, closed)
      assert.equal(1, #left)
      assert.equal(pub.sfu_pc, left[1].pc)
      assert.equal("kicked", left[1].reason)
      assert.equal("closed", pub.sfu_pc.connection_state)
      wait_for(function() return pub.pc.connection_state ~= "connected" end, "the publisher's connection to end", 40000)
      assert.equal(0, #room:producers())

      for _, s in ipairs(pub.sources) do s:stop() end
      for _, c in ipairs { pub.pc, s1.pc, s1.sfu_pc, s2.pc, s2.sfu_pc, s3.pc, s3.sfu_pc } do c:close() end
      room:close()
    end, 90000)
  end)
end)
