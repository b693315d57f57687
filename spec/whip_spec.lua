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
local clips = require "support.clips"
local run_task, wait_for = loop.run_task, loop.wait_for
local q = child.quote

local LOCAL = { bind_addresses = { "127.0.0.1" } }
local dir = child.tmpdir()
local function path(name) return dir .. "/" .. name end

setup(function() clips.vp8 { path = path("in.ivf") } end)
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

-- A raw HTTP/1.1 exchange over a TCP connection: the bytes as written here, the answer
-- read to its end (Connection: close) -> { status=, headers={lowercase=value}, body= }.
local function raw(port, method, target, headers, body)
  local conn = assert(rtc.tcp_connect("127.0.0.1", port))
  local lines = { method .. " " .. target .. " HTTP/1.1", "Host: 127.0.0.1:" .. port, "Connection: close" }
  for k, v in pairs(headers or {}) do lines[#lines + 1] = k .. ": " .. v end
  if body then lines[#lines + 1] = "Content-Length: " .. #body end
  conn:write(table.concat(lines, "\r\n") .. "\r\n\r\n" .. (body or ""))
  local buf = {}
  while true do
    local data = conn:read()
    if not data then break end
    buf[#buf + 1] = data
  end
  conn:close()
  local text = table.concat(buf)
  local head, rest = text:match("^(.-)\r\n\r\n(.*)$")
  assert(head, "no complete answer: " .. text)
  local resp = { headers = {} }
  resp.status = tonumber(head:match("^HTTP/1%.1 (%d%d%d)"))
  for k, v in head:gmatch("\r\n([^:\r\n]+):%s*([^\r\n]*)") do resp.headers[k:lower()] = v end
  resp.body = rest:sub(1, tonumber(resp.headers["content-length"] or #rest))
  return resp
end

-- The ICE parts of an SDP: ufrag, pwd and its candidate lines (without "a=").
local function ice_of(sdp)
  local cands = {}
  for c in sdp:gmatch("a=(candidate:[^\r\n]+)") do cands[#cands + 1] = c end
  return sdp:match("a=ice%-ufrag:([^\r\n]+)"), sdp:match("a=ice%-pwd:([^\r\n]+)"), cands
end
local function no_candidates(sdp)
  return (sdp:gsub("a=candidate:[^\r\n]*\r\n", ""):gsub("a=end%-of%-candidates\r\n", ""))
end
local function frag(ufrag, pwd, cands, done)
  local t = { "a=ice-ufrag:" .. ufrag, "a=ice-pwd:" .. pwd, "m=video 9 UDP/TLS/RTP/SAVPF 96", "a=mid:0" }
  for _, c in ipairs(cands) do t[#t + 1] = "a=" .. c end
  if done then t[#t + 1] = "a=end-of-candidates" end
  return table.concat(t, "\r\n") .. "\r\n"
end
local FRAG = "application/trickle-ice-sdpfrag"

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
  it("PATCH: trickle with the session's ETag, 428/412/415/422/400/404 refusals, ICE restart with If-Match *, 405 when off", function()
    run_task(function()
      local whip = require "whip"
      local srv = assert(http.server { host = "127.0.0.1", port = 0 })
      local svc = whip.serve(srv, { pc = LOCAL })
      local port = srv.port
      local pc = assert(rtc.peer_connection(LOCAL))
      local cam = rtc.media_track("video", { codec = "VP8" })
      assert(pc:add_transceiver(cam, { direction = "sendonly" }))
      assert(pc:set_local_description(assert(pc:create_offer())))
      pc:wait_gathering_complete()
      local ufrag, pwd, cands = ice_of(pc.local_description.sdp)
      assert.is_true(#cands > 0)
      -- the offer goes out without candidates: they follow by PATCH
      local r = raw(port, "POST", "/whip", { ["Content-Type"] = "application/sdp" }, no_candidates(pc.local_description.sdp))
      assert.equal(201, r.status)
      local etag, loc = r.headers.etag, r.headers.location
      assert.matches('^"%x+"$', etag)
      assert.matches("ETag", r.headers["access-control-expose-headers"])
      local s = svc.sessions[loc:match("(%x+)$")]
      assert(pc:set_remote_description { type = "answer", sdp = r.body })
      local first_ufrag = ice_of(r.body)

      local function remote_host_ports()
        local ports = {}
        for _, st in pairs(s.pc:get_stats()) do
          if st.type == "remote-candidate" and st.candidateType == "host" and st.port then ports[st.port] = true end
        end
        return ports
      end
      local cport = tonumber(cands[1]:match("^candidate:%S+ %d+ %a+ %d+ %S+ (%d+)"))
      assert.is_nil(remote_host_ports()[cport])
      local body = frag(ufrag, pwd, cands, true)
      r = raw(port, "PATCH", loc, { ["Content-Type"] = FRAG }, body)
      assert.equal(428, r.status)
      r = raw(port, "PATCH", loc, { ["Content-Type"] = FRAG, ["If-Match"] = '"0123"' }, body)
      assert.equal(412, r.status)
      assert.equal(etag, r.headers.etag)
      r = raw(port, "PATCH", loc, { ["Content-Type"] = "application/sdp", ["If-Match"] = etag }, body)
      assert.equal(415, r.status)
      -- not an SDP fragment (RFC 8840 allows only a= and m= lines), an empty one, a bad candidate: 400
      r = raw(port, "PATCH", loc, { ["Content-Type"] = FRAG, ["If-Match"] = etag }, "hello\r\n" .. body)
      assert.equal(400, r.status)
      r = raw(port, "PATCH", loc, { ["Content-Type"] = FRAG, ["If-Match"] = etag }, "")
      assert.equal(400, r.status)
      r = raw(port, "PATCH", loc, { ["Content-Type"] = FRAG, ["If-Match"] = etag },
              frag(ufrag, pwd, { "candidate:1 1 udp nonsense" }, false))
      assert.equal(400, r.status)
      -- an unknown session, or one of the other kind: 404
      r = raw(port, "PATCH", loc:gsub("%x+$", "0123abcd"), { ["Content-Type"] = FRAG, ["If-Match"] = etag }, body)
      assert.equal(404, r.status)
      r = raw(port, "PATCH", loc:gsub("^/whip", "/whep"), { ["Content-Type"] = FRAG, ["If-Match"] = etag }, body)
      assert.equal(404, r.status)
      r = raw(port, "PATCH", loc, { ["Content-Type"] = FRAG, ["If-Match"] = etag }, frag("other", pwd, cands, true))
      assert.equal(422, r.status)
      assert.is_nil(remote_host_ports()[cport])
      r = raw(port, "PATCH", loc, { ["Content-Type"] = FRAG, ["If-Match"] = '"x", ' .. etag }, body)
      assert.equal(204, r.status)
      assert.equal("", r.body)
      assert.is_true(remote_host_ports()[cport])
      wait_for(function() return pc.connection_state == "connected" and s.pc.connection_state == "connected" end,
               "connected after the trickle")

      -- ICE restart: the client's new credentials and candidates, If-Match: *
      -- responses to checks on the pairs of the current ICE generation
      local function responses()
        local n = 0
        for id, st in pairs(pc:get_stats()) do
          if st.type == "candidate-pair" and not id:find("_prev$") then n = n + st.responsesReceived end
        end
        return n
      end
      assert(pc:restart_ice())
      assert(pc:set_local_description(assert(pc:create_offer())))
      pc:wait_gathering_complete()
      local u2, p2, c2 = ice_of(pc.local_description.sdp)
      assert.are_not.equal(ufrag, u2)
      local restart_body = frag(u2, p2, c2, true)
      -- still the old ICE session's tag: not a restart, and the fragment's ufrag is unknown
      r = raw(port, "PATCH", loc, { ["Content-Type"] = FRAG, ["If-Match"] = etag }, restart_body)
      assert.equal(422, r.status)
      r = raw(port, "PATCH", loc, { ["Content-Type"] = FRAG, ["If-Match"] = "*" }, restart_body)
      assert.equal(200, r.status)
      assert.equal(FRAG, r.headers["content-type"])
      local etag2 = r.headers.etag
      assert.matches('^"%x+"$', etag2)
      assert.are_not.equal(etag, etag2)
      local su, sp, sc = ice_of(r.body)
      assert.are_not.equal(first_ufrag, su)
      assert.equal(su, s.pc.local_description.sdp:match("a=ice%-ufrag:([^\r\n]+)"))
      assert.is_true(#sc > 0)
      assert.matches("a=end%-of%-candidates\r\n$", r.body)
      -- the client applies the answer's new credentials and candidates; checks under them get answers
      local answer = no_candidates(pc.remote_description.sdp)
        :gsub("a=ice%-ufrag:[^\r\n]*", "a=ice-ufrag:" .. su):gsub("a=ice%-pwd:[^\r\n]*", "a=ice-pwd:" .. sp)
      local before = responses()
      assert(pc:set_remote_description { type = "answer", sdp = answer })
      for _, c in ipairs(sc) do assert(pc:add_ice_candidate { candidate = c, sdp_mid = "0" }) end
      wait_for(function() return responses() > before end, "checks answered under the new credentials")
      assert.equal("connected", pc.connection_state)
      -- trickle for the old ICE session: 412; for the new one: 204
      r = raw(port, "PATCH", loc, { ["Content-Type"] = FRAG, ["If-Match"] = etag }, frag(u2, p2, {}, false))
      assert.equal(412, r.status)
      r = raw(port, "PATCH", loc, { ["Content-Type"] = FRAG, ["If-Match"] = etag2 }, frag(u2, p2, {}, false))
      assert.equal(204, r.status)
      -- DELETE ignores entity-tags
      r = raw(port, "DELETE", loc, { ["If-Match"] = etag })
      assert.equal(200, r.status)
      pc:close()
      svc.close()
      srv:close()

      -- a server without trickle answers 422 to it; without either, PATCH is 405
      local opts = { pc = LOCAL, trickle = false }
      local srv2 = assert(http.server { host = "127.0.0.1", port = 0 })
      local svc2 = whip.serve(srv2, opts)
      local pc2 = assert(rtc.peer_connection(LOCAL))
      assert(pc2:add_transceiver(rtc.media_track("video", { codec = "VP8" }), { direction = "sendonly" }))
      assert(pc2:set_local_description(assert(pc2:create_offer())))
      pc2:wait_gathering_complete()
      local u3, p3, c3 = ice_of(pc2.local_description.sdp)
      r = raw(srv2.port, "POST", "/whip", { ["Content-Type"] = "application/sdp" }, pc2.local_description.sdp)
      assert.equal(201, r.status)
      local loc2, tag3 = r.headers.location, r.headers.etag
      r = raw(srv2.port, "PATCH", loc2, { ["Content-Type"] = FRAG, ["If-Match"] = tag3 }, frag(u3, p3, c3, true))
      assert.equal(422, r.status)
      opts.ice_restart = false
      r = raw(srv2.port, "PATCH", loc2, { ["Content-Type"] = FRAG, ["If-Match"] = "*" }, frag("new1", p3, c3, true))
      assert.equal(405, r.status)
      assert.equal("DELETE", r.headers.allow)
      pc2:close()
      svc2.close()
      srv2:close()
    end, 30000)
  end)
end)
