-- WHIP/WHEP (modules/whip.lua) and examples/sfu.lua: luartc bots publish over WHIP and
-- subscribe over WHEP (real peer connections on 127.0.0.1, HTTP by http.request).
-- Checked: 201 + Location + an answer with candidates; the subscribers' video frames are
-- byte for byte the publisher's and their audio decodes to its 440 Hz tone; 503 +
-- Retry-After before anything is published; 401 without the bearer token; DELETE ends a
-- session (then 404); the example prints where it listens, uses its one UDP port and
-- stops cleanly on SIGINT. A room hook refusing a subscribe gives 403 with its message.
local rtc = require "rtc"
local http = require "http"
local loop = require "support.loop"
local child = require "support.child"
local pcm = require "support.pcm"
local run_task, wait_for = loop.run_task, loop.wait_for
local q = child.quote

local LOCAL = { bind_addresses = { "127.0.0.1" } }
local dir = child.tmpdir()
local function path(name) return dir .. "/" .. name end

setup(function()
  local p = assert(io.popen("ffmpeg -nostdin -v error -y -f lavfi -i testsrc=size=160x120:rate=25 -t 2 " ..
                            "-c:v libvpx -g 12 -b:v 300k " .. q(path("in.ivf")) .. " 2>&1"))
  local out = p:read("a")
  assert(p:close(), out)
end)
teardown(function() child.rmdir(dir) end)

local function post(url, sdp, token)
  local headers = { ["Content-Type"] = "application/sdp" }
  if token then headers.Authorization = "Bearer " .. token end
  return assert(http.request(url, { method = "POST", body = sdp, headers = headers }))
end

-- A WHIP publisher bot: VP8 from the IVF (looped) and an Opus tone.
local function whip_publish(url, token)
  local pc = assert(rtc.peer_connection(LOCAL))
  local cam, mic = rtc.media_track("video", { codec = "VP8" }), rtc.media_track("audio")
  assert(pc:add_transceiver(cam, { direction = "sendonly" }))
  assert(pc:add_transceiver(mic, { direction = "sendonly" }))
  assert(pc:set_local_description(assert(pc:create_offer())))
  pc:wait_gathering_complete()
  local resp = post(url, pc.local_description.sdp, token)
  local pub = { pc = pc, resp = resp, sent = {} }
  if resp.status ~= 201 then pc:close(); return pub end
  assert(pc:set_remote_description { type = "answer", sdp = resp.body })
  wait_for(function() return pc.connection_state == "connected" end, "publisher connected")
  local v = assert(rtc.media.file_source(path("in.ivf"), { loop = true }))
  v:on("frame", function(f) pub.sent[f.data] = true; cam:write_frame(f) end)
  local a = assert(rtc.media.tone_source { frequency = 440, amplitude = 0.3, duration = 60 })
  a:on("frame", function(f) mic:write_frame(f) end)
  v:start(); a:start()
  pub.sources = { v, a }
  return pub
end

-- A WHEP subscriber bot: recvonly audio and video.
local function whep_subscribe(url, pub, token)
  local pc = assert(rtc.peer_connection(LOCAL))
  assert(pc:add_transceiver("video", { direction = "recvonly" }))
  assert(pc:add_transceiver("audio", { direction = "recvonly" }))
  local sub = { pc = pc, frames = 0, bad = 0, audio = {} }
  pc:on("track", function(track)
    if track.kind == "video" then
      track:on("frame", function(f)
        if sub.frames == 0 and not f.keyframe then sub.bad = sub.bad + 1 end
        if not pub.sent[f.data] then sub.bad = sub.bad + 1 end
        sub.frames = sub.frames + 1
      end)
    else
      track:on("pcm", function(p) sub.audio[#sub.audio + 1] = p.samples end)
    end
  end)
  assert(pc:set_local_description(assert(pc:create_offer())))
  pc:wait_gathering_complete()
  sub.resp = post(url, pc.local_description.sdp, token)
  if sub.resp.status ~= 201 then pc:close(); return sub end
  assert(pc:set_remote_description { type = "answer", sdp = sub.resp.body })
  return sub
end

local function check_media(sub, what)
  assert.equal(0, sub.bad)
  local tone = table.concat(sub.audio, "", #sub.audio - 40, #sub.audio)
  local hz = pcm.zero_crossing_hz(tone)
  assert(hz and math.abs(hz - 440) < 15, what .. ": tone at " .. tostring(hz) .. " Hz")
end

describe("WHIP/WHEP", function()
  it("examples/sfu.lua forwards a WHIP publisher to two WHEP subscribers on one UDP port", function()
    local port = 21000 + (os.time() * 7 % 20000)
    local out, err = path("sfu.out"), path("sfu.err")
    local p = io.popen(string.format("%s %s --listen 127.0.0.1:%d --token s3cret >%s 2>%s & echo $!",
                                     q(child.LUARTC), q(child.SOURCE_DIR .. "/examples/sfu.lua"), port, q(out), q(err)))
    local pid = assert(tonumber(p:read("l")))
    p:close()
    local ok, e = pcall(run_task, function()
      wait_for(function() return child.slurp(out):find("listening", 1, true) end, "the SFU to listen", 10000)
      assert.equal(string.format("sfu: listening on http://127.0.0.1:%d (WHIP /whip, WHEP /whep, room default), " ..
                                 "media on udp 127.0.0.1:%d\n", port, port), child.slurp(out))
      local base = "http://127.0.0.1:" .. port
      -- nothing published yet
      local early = whep_subscribe(base .. "/whep", { sent = {} }, "s3cret")
      assert.equal(503, early.resp.status)
      assert.equal("2", early.resp.headers["retry-after"])
      -- no token
      local anon = whip_publish(base .. "/whip")
      assert.equal(401, anon.resp.status)
      assert.equal("Bearer", anon.resp.headers["www-authenticate"])
      assert.matches("bearer token", anon.resp.body)

      local pub = whip_publish(base .. "/whip", "s3cret")
      assert.equal(201, pub.resp.status)
      assert.equal("application/sdp", pub.resp.headers["content-type"])
      assert.matches("^/whip/default/%x+$", pub.resp.headers.location)
      -- the answer has its candidate, on the one port
      assert.matches("a=candidate:%S+ 1 udp %d+ 127%.0%.0%.1 " .. port .. " typ host", pub.resp.body)

      local s1 = whep_subscribe(base .. "/whep", pub, "s3cret")
      local s2 = whep_subscribe(base .. "/whep/default", pub, "s3cret")
      assert.equal(201, s1.resp.status)
      assert.equal(201, s2.resp.status)
      assert.matches("^/whep/default/%x+$", s1.resp.headers.location)
      assert.matches("a=candidate:%S+ 1 udp %d+ 127%.0%.0%.1 " .. port .. " typ host", s1.resp.body)
      wait_for(function() return s1.frames >= 25 and s2.frames >= 25 and #s1.audio >= 50 and #s2.audio >= 50 end,
               "media at both subscribers", 15000)
      check_media(s1, "s1")
      check_media(s2, "s2")

      -- DELETE ends s2's session; a second DELETE finds nothing
      local loc = base .. s2.resp.headers.location
      local d = assert(http.request(loc, { method = "DELETE", headers = { Authorization = "Bearer s3cret" } }))
      assert.equal(200, d.status)
      wait_for(function() return s2.pc.connection_state ~= "connected" end, "s2 to be disconnected", 15000)
      local d2 = assert(http.request(loc, { method = "DELETE", headers = { Authorization = "Bearer s3cret" } }))
      assert.equal(404, d2.status)
      local f1 = s1.frames
      wait_for(function() return s1.frames > f1 + 10 end, "s1 still receiving")
      for _, s in ipairs(pub.sources) do s:stop() end
      for _, pc in ipairs { pub.pc, s1.pc, s2.pc } do pc:close() end
    end, 40000)
    local stopped = child.interrupt(pid)
    local errtext = child.slurp(err)
    assert(ok, tostring(e) .. "\nSFU stderr:\n" .. errtext)
    assert.is_true(stopped, "the SFU did not stop on SIGINT:\n" .. errtext)
    assert.matches("shutting down %(SIGINT%)", errtext)
  end)

  it("a room hook refusing a subscribe gives the WHEP client 403 with its message", function()
    run_task(function()
      local sfu = require "rtc.sfu"
      local whip = require "whip"
      sfu.room { name = "vip", can_subscribe = function(_, _, _, req)
        if req.headers["x-member"] ~= "yes" then return false, "members only" end
        return true
      end }
      local srv = assert(http.server { host = "127.0.0.1", port = 0 })
      local svc = whip.serve(srv, { pc = LOCAL })
      local base = "http://127.0.0.1:" .. srv.port
      local pub = whip_publish(base .. "/whip/vip")
      assert.equal(201, pub.resp.status)
      wait_for(function() return next(pub.sent) ~= nil end, "publisher sending")
      local sub = whep_subscribe(base .. "/whep/vip", pub)
      assert.equal(403, sub.resp.status)
      assert.equal("members only\n", sub.resp.body)
      for _, prod in ipairs(sfu.room({ name = "vip" }):producers()) do assert.is_nil(next(prod._consumers)) end
      -- bad requests: not SDP, not an offer, an unknown session
      local r = assert(http.request(base .. "/whep/vip", { method = "POST", body = "hello",
                                                            headers = { ["Content-Type"] = "text/plain" } }))
      assert.equal(415, r.status)
      r = assert(http.request(base .. "/whip/vip", { method = "POST", body = "hello",
                                                     headers = { ["Content-Type"] = "application/sdp" } }))
      assert.equal(400, r.status)
      r = assert(http.request(base .. "/whip/vip/abcdef", { method = "DELETE" }))
      assert.equal(404, r.status)
      for _, s in ipairs(pub.sources) do s:stop() end
      pub.pc:close()
      svc.close()
      srv:close()
    end, 20000)
  end)
end)
