-- The W3C transceiver / sender / receiver API between two luartc peers in one process:
-- one transceiver list shared by C and Lua, attribute setters, senders and receivers,
-- and renegotiation that changes what a transceiver carries.
local rtc = require "rtc"
local loop = require "support.loop"
local run_task, wait_for = loop.run_task, loop.wait_for

local LOCAL = { bind_addresses = { "127.0.0.1" } }

local function fake_frame(kind, i)
  if kind == "audio" then return "\x78" .. string.rep(string.char(i % 256), 60) end
  return "\x10\0\0\x9d\x01\x2a" .. string.rep(string.char(i % 256), 300)
end

-- a offers, b answers; both with all candidates, then both connected.
local function negotiate(a, b, before_answer)
  assert(a:set_local_description())
  a:wait_gathering_complete()
  assert(b:set_remote_description(a.local_description))
  if before_answer then before_answer() end
  assert(b:set_local_description())
  b:wait_gathering_complete()
  assert(a:set_remote_description(b.local_description))
  wait_for(function() return a.connection_state == "connected" and b.connection_state == "connected" end, "connected")
end

-- Writes frames on track until `got()` is true.
local function pump(track, got, what)
  local ts, i = 0, 0
  wait_for(function()
    i = i + 1
    ts = ts + (track.kind == "audio" and 960 or 3000)
    track:write_frame { data = fake_frame(track.kind, i), timestamp = ts }
    return got()
  end, what)
end

describe("peer_connection transceivers", function()
  it("shows the transceivers a remote recvonly offer creates; add_track then answers with media", function()
    run_task(function()
      local a = assert(rtc.peer_connection(LOCAL))
      local b = assert(rtc.peer_connection(LOCAL))
      local viewer = assert(a:add_transceiver("video", { direction = "recvonly" }))
      local frames = 0
      a:on("track", function(track) track:on("frame", function() frames = frames + 1 end) end)
      local track = rtc.media_track("video")
      local reused
      negotiate(a, b, function()
        -- the standard answerer order: apply the offer, add the track, answer
        local trs = b:get_transceivers()
        assert.equal(1, #trs)
        assert.equal("video", trs[1].kind)
        assert.equal("0", trs[1].mid)
        assert.equal("recvonly", trs[1].direction)
        reused = assert(b:add_track(track))
        assert.equal(trs[1], reused)
        assert.equal(1, #b:get_transceivers())
      end)
      assert.matches("m=video[^\n]*\n.-a=sendonly", b.local_description.sdp)
      assert.equal("sendonly", reused.current_direction)
      assert.equal("recvonly", viewer.current_direction)
      pump(track, function() return frames > 3 end, "frames at the viewer")
      a:close(); b:close()
    end)
  end)

  it("lists each transceiver once whoever created it, and drops those a rollback removes", function()
    run_task(function()
      local a = assert(rtc.peer_connection(LOCAL))
      local b = assert(rtc.peer_connection(LOCAL))
      a:add_transceiver("audio")
      a:add_transceiver("video")
      assert(a:set_local_description())
      local mine = assert(b:add_track(rtc.media_track("audio")))
      assert(b:set_remote_description(a.local_description))
      local trs = b:get_transceivers()
      assert.equal(2, #trs)
      assert.equal(mine, trs[1])                   -- JSEP 5.10: add_track's takes the audio section
      assert.equal("0", mine.mid)
      assert.equal("video", trs[2].kind)
      assert.equal("1", trs[2].mid)
      assert(b:set_remote_description { type = "rollback" })
      trs = b:get_transceivers()
      assert.equal(1, #trs)
      assert.equal(mine, trs[1])
      assert.is_nil(mine.mid)
      a:close(); b:close()
    end)
  end)

  it("matches a remote offer's new sections by JSEP 5.10: by mid, then a free add_track transceiver of the kind", function()
    run_task(function()
      local a = assert(rtc.peer_connection(LOCAL))
      local b = assert(rtc.peer_connection(LOCAL))
      a:add_transceiver("audio")
      a:add_transceiver("video")
      a:add_transceiver("audio")
      -- b: one addTransceiver (never matched: it waits for a section of its own), two
      -- addTrack ones of each kind (the first free one of the kind is taken), one stopped
      local own = assert(b:add_transceiver(rtc.media_track("audio"), { direction = "sendrecv" }))
      local stopped = assert(b:add_track(rtc.media_track("video")))
      assert(stopped:stop())
      local v = assert(b:add_track(rtc.media_track("video")))
      local a1 = assert(b:add_track(rtc.media_track("audio")))
      local a2 = assert(b:add_track(rtc.media_track("audio")))
      assert(a:set_local_description())
      assert(b:set_remote_description(a.local_description))
      assert.is_nil(own.mid)
      assert.is_nil(stopped.mid)
      assert.equal("0", a1.mid)
      assert.equal("1", v.mid)
      assert.equal("2", a2.mid)
      assert.equal(5, #b:get_transceivers())    -- no transceiver made for the offer
      assert(b:set_local_description())
      -- the answer completes the stop of the one that never had a section (W3C)
      assert.is_true(stopped.stopped)
      assert.equal(4, #b:get_transceivers())
      assert.equal("sendrecv", a1.current_direction)   -- it sends on the section it took
      assert.equal("sendrecv", v.current_direction)
      assert(a:set_remote_description(b.local_description))
      -- a renegotiation matches by mid: nothing moves, nothing new
      assert(a:set_local_description(assert(a:create_offer())))
      assert(b:set_remote_description(a.local_description))
      assert.equal("0", a1.mid)
      assert.equal("1", v.mid)
      assert.equal("2", a2.mid)
      assert.is_nil(own.mid)
      assert.equal(4, #b:get_transceivers())
      a:close(); b:close()
    end)
  end)

  it("add_track does not reuse a transceiver that has sent", function()
    run_task(function()
      local a = assert(rtc.peer_connection(LOCAL))
      local b = assert(rtc.peer_connection(LOCAL))
      local t1 = rtc.media_track("audio")
      local tr1 = assert(a:add_track(t1))
      negotiate(a, b)
      assert(a:remove_track(tr1.sender))
      local tr2 = assert(a:add_track(rtc.media_track("audio")))
      assert.are_not.equal(tr1, tr2)
      assert.equal(2, #a:get_transceivers())
      local _, err = a:add_track(tr2.sender.track)
      assert.matches("^InvalidAccessError", err)
      a:close(); b:close()
    end)
  end)
end)

describe("peer_connection attribute setters", function()
  it("tr.direction = dir negotiates that direction; negotiated attributes are read-only", function()
    run_task(function()
      local a = assert(rtc.peer_connection(LOCAL))
      local b = assert(rtc.peer_connection(LOCAL))
      local tr = assert(a:add_transceiver("audio"))
      tr.direction = "recvonly"
      assert.equal("recvonly", tr.direction)
      assert.matches("a=recvonly", assert(a:create_offer()).sdp)
      negotiate(a, b)
      assert.equal("recvonly", tr.current_direction)
      assert.has_error(function() tr.direction = "upward" end,
        "attribute 'direction' must be sendrecv, sendonly, recvonly or inactive")
      assert.has_error(function() tr.mid = "7" end, "attribute 'mid' is read-only")
      assert.has_error(function() a.signaling_state = "stable" end, "attribute 'signaling_state' is read-only")
      a:close(); b:close()
    end)
  end)

  it("pc.ontrack, dc.onmessage and friends are handlers; assigning again replaces", function()
    run_task(function()
      local a = assert(rtc.peer_connection(LOCAL))
      local b = assert(rtc.peer_connection(LOCAL))
      local tracks, first, states = 0, 0, {}
      b.ontrack = function() first = first + 1 end
      b.ontrack = function(track) tracks = tracks + 1; assert.equal("video", track.kind) end
      assert.is_function(b.ontrack)
      b:on("connectionstatechange", function(s) states[#states + 1] = s end)
      local got
      b.ondatachannel = function(dc) dc.onmessage = function(m) got = m end end
      a:add_track(rtc.media_track("video"))
      local dc = a:create_data_channel("chat")
      local opened = false
      dc.onopen = function() opened = true end
      negotiate(a, b)
      wait_for(function() return opened end, "channel open")
      dc:send("hi")
      wait_for(function() return got == "hi" end, "the message")
      assert.equal(1, tracks)
      assert.equal(0, first)
      assert.is_true(#states > 0)                -- on() listeners stay beside the handler
      assert.has_error(function() b.ontrack = 5 end, "attribute 'ontrack' must be a function or nil")
      assert.has_error(function() dc.label = "x" end, "attribute 'label' is read-only")
      b.ontrack = nil
      assert.is_nil(b.ontrack)
      a:close(); b:close()
    end)
  end)
end)

describe("peer_connection codecs, senders and receivers", function()
  it("set_codec_preferences changes the codec by renegotiation; media flows in the new one", function()
    run_task(function()
      local a = assert(rtc.peer_connection(LOCAL))
      local b = assert(rtc.peer_connection(LOCAL))
      local caps = rtc.capabilities("video").codecs
      assert.equal("video/VP8", caps[1].mime_type)
      assert.has_error(function() rtc.capabilities("text") end)
      local track = rtc.media_track("video")
      local tr = assert(a:add_track(track))
      local codecs, remote = {}, nil
      b:on("track", function(t) remote = t; t:on("frame", function(f) codecs[#codecs + 1] = f.codec end) end)
      negotiate(a, b)
      assert.equal("VP8", tr.codec)
      pump(track, function() return #codecs > 2 end, "VP8 frames")
      local _, err = tr:set_codec_preferences { { mime_type = "audio/opus" } }
      assert.matches("^InvalidModificationError", err)
      for _, c in ipairs(caps) do
        if c.mime_type == "video/VP9" then assert(tr:set_codec_preferences { c }) end
      end
      negotiate(a, b)
      assert.equal("VP9", tr.codec)
      assert.equal("VP9", b:get_transceivers()[1].codec)
      codecs = {}
      local ts = 0
      wait_for(function()
        ts = ts + 3000
        -- a VP9 keyframe: profile 0, show_frame, frame marker
        track:write_frame { data = "\x82\x49\x83\x42\x00" .. string.rep("\x55", 200), timestamp = ts, keyframe = true }
        return #codecs > 2
      end, "VP9 frames")
      for _, c in ipairs(codecs) do assert.equal("VP9", c) end
      assert.equal(tr.sender, a:get_senders()[1])
      assert.equal(remote, b:get_receivers()[1].track)
      assert.equal(1, #b:get_senders())
      a:close(); b:close()
    end)
  end)
end)

describe("peer_connection waiting for states", function()
  it("pc:wait_connected() and dc:wait_open() yield until the state comes, or say why not", function()
    run_task(function()
      local a = assert(rtc.peer_connection(LOCAL))
      local b = assert(rtc.peer_connection(LOCAL))
      local dc = a:create_data_channel("chat")
      local results = {}
      rtc.spawn(function() results.conn = { a:wait_connected() } end)
      rtc.spawn(function() results.open = { dc:wait_open() } end)
      rtc.sleep(0.01)
      assert.is_nil(results.conn)
      assert.is_nil(results.open)
      assert(a:set_local_description())
      a:wait_gathering_complete()
      assert(b:set_remote_description(a.local_description))
      assert(b:set_local_description())
      b:wait_gathering_complete()
      assert(a:set_remote_description(b.local_description))
      wait_for(function() return results.conn and results.open end, "both waiters")
      assert.same({ true }, results.conn)
      assert.same({ true }, results.open)
      assert.equal("connected", a.connection_state)
      assert.equal("open", dc.ready_state)
      assert.is_true(dc:wait_open())             -- already open: at once
      -- a waiter on a connection that closes under it wakes with the reason
      local c = assert(rtc.peer_connection(LOCAL))
      local dc2 = c:create_data_channel("x")
      rtc.spawn(function() results.closed = { c:wait_connected() } end)
      rtc.spawn(function() results.closed_dc = { dc2:wait_open() } end)
      rtc.sleep(0.01)
      c:close()
      wait_for(function() return results.closed and results.closed_dc end, "woken by close")
      assert.is_nil(results.closed[1])
      assert.matches("^InvalidStateError", results.closed[2])
      assert.is_nil(results.closed_dc[1])
      assert.matches("^InvalidStateError", results.closed_dc[2])
      a:close(); b:close()
    end)
  end)
end)

describe("peer_connection sender parameters", function()
  it("set_parameters caps the send-side estimate with max_bitrate and pauses with active = false", function()
    run_task(function()
      local a = assert(rtc.peer_connection(LOCAL))
      local b = assert(rtc.peer_connection(LOCAL))
      local track = rtc.media_track("video")
      local tr = assert(a:add_track(track))
      local frames = 0
      b:on("track", function(t) t:on("frame", function() frames = frames + 1 end) end)
      negotiate(a, b)
      local p = tr.sender:get_parameters()
      assert.is_string(p.transaction_id)
      assert.equal(1, #p.encodings)
      assert.is_true(p.encodings[1].active)
      assert.is_nil(p.encodings[1].max_bitrate)
      -- not the last get_parameters: a stale transaction id, then none at all
      local stale = tr.sender:get_parameters()
      local p2 = tr.sender:get_parameters()
      local _, err, name = tr.sender:set_parameters(stale)
      assert.equal("InvalidModificationError", name, err)
      p2.encodings[1].max_bitrate = 100000            -- below the 300 kbit/s start
      assert(tr.sender:set_parameters(p2))
      _, err, name = tr.sender:set_parameters(p2)    -- used once
      assert.equal("InvalidStateError", name, err)
      local p3 = tr.sender:get_parameters()
      assert.equal(100000, p3.encodings[1].max_bitrate)
      p3.encodings[1].max_bitrate = -1
      _, _, name = tr.sender:set_parameters(p3)
      assert.equal("RangeError", name)
      p3.encodings = {}
      _, _, name = tr.sender:set_parameters(p3)
      assert.equal("InvalidModificationError", name)
      -- the bound holds in every estimate while media flows
      local bws = {}
      a:on("bandwidth", function(bps) bws[#bws + 1] = bps end)
      pump(track, function() return frames > 10 and a:bandwidth() ~= nil and #bws > 0 end, "frames and an estimate")
      assert.is_true(a:bandwidth().bps <= 100000, "estimate " .. a:bandwidth().bps)
      for _, bps in ipairs(bws) do assert.is_true(bps <= 100000, "estimate event " .. bps) end
      -- active = false: write_frame sends nothing until active again
      local p4 = tr.sender:get_parameters()
      p4.encodings[1].active = false
      assert(tr.sender:set_parameters(p4))
      assert.equal(0, track:write_frame { data = fake_frame("video", 1), timestamp = 1 })
      assert.is_false(tr.sender:get_parameters().encodings[1].active)
      local p5 = tr.sender:get_parameters()
      p5.encodings[1].active = true
      assert(tr.sender:set_parameters(p5))
      assert.is_true(track:write_frame { data = fake_frame("video", 2), timestamp = 2 } > 0)
      a:close(); b:close()
      _, _, name = tr.sender:set_parameters(tr.sender:get_parameters())
      assert.equal("InvalidStateError", name)
    end)
  end)
end)

describe("peer_connection replace_track", function()
  it("replace_track swaps the track mid-call without renegotiation; nil stops sending", function()
    run_task(function()
      local a = assert(rtc.peer_connection(LOCAL))
      local b = assert(rtc.peer_connection(LOCAL))
      local t1, t2 = rtc.media_track("video"), rtc.media_track("video")
      local tr = assert(a:add_track(t1))
      local frames, tracks = {}, 0
      b:on("track", function(t)
        tracks = tracks + 1
        t:on("frame", function(f) frames[#frames + 1] = f.data end)
      end)
      negotiate(a, b)
      pump(t1, function() return #frames > 2 end, "frames of the first track")
      local needed = 0
      a:on("negotiationneeded", function() needed = needed + 1 end)
      assert(tr.sender:replace_track(t2))
      assert.equal(t2, tr.sender.track)
      local _, err = t1:write_frame { data = fake_frame("video", 1), timestamp = 1 }
      assert.matches("^InvalidStateError", err)
      -- t2's frames (a byte no frame of t1 had) reach the same remote track
      local ts = 0
      wait_for(function()
        ts = ts + 3000
        t2:write_frame { data = "\x10\0\0\x9d\x01\x2a" .. string.rep("\xee", 300), timestamp = ts }
        return frames[#frames]:sub(-1) == "\xee"
      end, "frames of the second track")
      assert.equal(1, tracks)
      assert.equal("stable", a.signaling_state)
      local _, _, name = tr.sender:replace_track(rtc.media_track("audio"))
      assert.equal("TypeError", name)
      assert(tr.sender:replace_track(nil))
      assert.is_nil(tr.sender.track)
      _, err = t2:write_frame { data = fake_frame("video", 2), timestamp = ts + 3000 }
      assert.matches("^InvalidStateError", err)
      assert.equal("sendrecv", tr.direction)          -- still sending, as far as SDP goes
      rtc.sleep(0.05)
      assert.equal(0, needed)
      assert(tr.sender:replace_track(t1))
      assert.is_true(t1:write_frame { data = fake_frame("video", 3), timestamp = ts + 6000 } > 0)
      a:close(); b:close()
      _, _, name = tr.sender:replace_track(t2)
      assert.equal("InvalidStateError", name)
    end)
  end)
end)

describe("peer_connection transceiver:stop()", function()
  it("stops at once, rejects the section (port 0) at the next negotiation, other media go on", function()
    run_task(function()
      local a = assert(rtc.peer_connection(LOCAL))
      local b = assert(rtc.peer_connection(LOCAL))
      local audio, video = rtc.media_track("audio"), rtc.media_track("video")
      local atr = assert(a:add_track(audio))
      assert(a:add_track(video))
      local frames = {}
      b:on("track", function(t) t:on("frame", function() frames[t.kind] = (frames[t.kind] or 0) + 1 end) end)
      negotiate(a, b)
      pump(audio, function() return (frames.audio or 0) > 2 end, "audio frames")
      local needed = 0
      a:on("negotiationneeded", function() needed = needed + 1 end)
      assert.is_false(atr.stopping)
      assert(atr:stop())
      assert.is_true(atr.stopping)
      assert.is_false(atr.stopped)
      assert.is_nil(atr.sender.track)
      local _, err = audio:write_frame { data = fake_frame("audio", 1), timestamp = 1 }
      assert.matches("^InvalidStateError", err)
      wait_for(function() return needed > 0 end, "negotiationneeded")
      negotiate(a, b)
      assert.matches("m=audio 0 ", a.local_description.sdp)
      assert.matches("m=audio 0 ", b.local_description.sdp)
      assert.is_not.matches("BUNDLE 0 ", a.local_description.sdp)
      assert.is_true(atr.stopped)
      -- W3C: a transceiver whose stop completed leaves the list, on both sides
      assert.equal(1, #a:get_transceivers())
      assert.equal(1, #b:get_transceivers())
      assert.equal("video", b:get_transceivers()[1].kind)
      assert.is_false(b:get_transceivers()[1].stopped)
      frames.video = 0
      pump(video, function() return frames.video > 2 end, "video frames after the stop")
      a:close(); b:close()
    end)
  end)
end)

describe("peer_connection stopped transceivers", function()
  it("leave get_transceivers once the negotiation completes the stop (W3C); the section is recycled", function()
    run_task(function()
      local a = assert(rtc.peer_connection(LOCAL))
      local b = assert(rtc.peer_connection(LOCAL))
      local audio = rtc.media_track("audio")
      local atr = assert(a:add_track(audio))
      local vtr = assert(a:add_track(rtc.media_track("video")))
      local remote = {}
      b:on("track", function(t, tr) remote[t.kind] = { track = t, tr = tr } end)
      negotiate(a, b)
      local btr = remote.audio.tr
      assert.equal(2, #b:get_transceivers())
      assert(atr:stop())
      -- stopping, not stopped: still listed until the negotiation completes
      assert.equal(2, #a:get_transceivers())
      assert.equal(atr, a:get_transceivers()[1])
      assert(a:set_local_description())
      assert(b:set_remote_description(a.local_description))
      assert.equal(2, #a:get_transceivers())         -- have-local-offer: not yet
      assert.equal(2, #b:get_transceivers())         -- have-remote-offer: not yet
      assert(b:set_local_description())
      assert.same({ remote.video.tr }, b:get_transceivers())   -- b's answer completed it
      assert.equal(1, #b:get_senders())
      assert.equal(1, #b:get_receivers())
      assert.is_true(btr.stopped)                   -- a view held by the script says so
      assert.equal("ended", remote.audio.track.ready_state)
      assert(a:set_remote_description(b.local_description))
      assert.same({ vtr }, a:get_transceivers())
      assert.same({ vtr.sender }, a:get_senders())
      assert.is_true(atr.stopped)
      -- its section's slot is recycled by the next transceiver, under a new mid
      local ntr = assert(a:add_transceiver("audio"))
      assert.same({ vtr, ntr }, a:get_transceivers())
      negotiate(a, b)
      assert.equal("2", ntr.mid)
      local first = a.local_description.sdp:match("\nm=([^\r\n]*)")
      assert.matches("^audio [1-9]", first)               -- the first section, live again
      assert.is_nil(a.local_description.sdp:find("a=mid:0\r\n", 1, true))
      local bl = b:get_transceivers()
      assert.equal(2, #bl)
      assert.equal("1", bl[1].mid)
      assert.equal("2", bl[2].mid)
      assert.is_nil(b._transceivers[btr._h])
      -- b stops one and offers: a's answer completes it on a, applying that answer on b
      assert(bl[2]:stop())
      assert(b:set_local_description())
      assert(a:set_remote_description(b.local_description))
      assert(a:set_local_description())
      assert.same({ vtr }, a:get_transceivers())
      assert(b:set_remote_description(a.local_description))
      assert.equal(1, #b:get_transceivers())
      a:close(); b:close()
    end)
  end)
end)

describe("peer_connection track ended", function()
  it("a remote track ends once when the peer stops its transceiver, the rest when the pc closes", function()
    run_task(function()
      local a = assert(rtc.peer_connection(LOCAL))
      local b = assert(rtc.peer_connection(LOCAL))
      local atr = assert(a:add_track(rtc.media_track("audio")))
      assert(a:add_track(rtc.media_track("video")))
      local ended, remote = {}, {}
      b:on("track", function(t)
        remote[t.kind] = t
        t:on("ended", function() ended[t.kind] = (ended[t.kind] or 0) + 1 end)
      end)
      negotiate(a, b)
      assert.equal("live", remote.audio.ready_state)
      assert(atr:stop())
      negotiate(a, b)
      assert.equal(1, ended.audio)
      assert.equal("ended", remote.audio.ready_state)
      assert.is_nil(ended.video)
      assert.equal("live", remote.video.ready_state)
      negotiate(a, b)                                -- once only
      assert.equal(1, ended.audio)
      b:close()
      assert.equal(1, ended.video)
      assert.equal(1, ended.audio)
      assert.equal("ended", remote.video.ready_state)
      a:close()
    end)
  end)
end)

describe("peer_connection descriptions and configuration", function()
  it("current_* and pending_* descriptions follow the signaling state; get_configuration copies", function()
    run_task(function()
      local cfg = { bind_addresses = { "127.0.0.1" }, ice_servers = { { urls = "stun:127.0.0.1:3478" } } }
      local a = assert(rtc.peer_connection(cfg))
      local b = assert(rtc.peer_connection(LOCAL))
      local c = a:get_configuration()
      assert.equal("stun:127.0.0.1:3478", c.ice_servers[1].urls)
      assert.equal("all", c.ice_transport_policy)
      assert.same({ "127.0.0.1" }, c.bind_addresses)
      c.ice_servers[1].urls = "changed"
      assert.equal("stun:127.0.0.1:3478", a:get_configuration().ice_servers[1].urls)
      assert(a:set_configuration(a:get_configuration()))
      assert(a:set_configuration(cfg))
      local _, _, name = a:set_configuration { bind_addresses = { "127.0.0.1" }, ice_servers = cfg.ice_servers,
                                               bundle_policy = "max-bundle" }
      assert.equal("InvalidModificationError", name)
      _, _, name = a:set_configuration { bind_addresses = { "127.0.0.1" }, ice_servers = cfg.ice_servers,
                                         certificates = { rtc.generate_certificate() } }
      assert.equal("InvalidModificationError", name)
      assert(a:set_configuration { bind_addresses = { "127.0.0.1" } })   -- new ICE servers: none
      assert.same({}, a:get_configuration().ice_servers)
      a:add_track(rtc.media_track("audio"))
      assert(a:set_local_description())
      assert.equal("offer", a.pending_local_description.type)
      assert.is_nil(a.current_local_description)
      assert.is_nil(a.current_remote_description)
      assert(b:set_remote_description(a.local_description))
      assert.equal("offer", b.pending_remote_description.type)
      assert.is_nil(b.current_remote_description)
      assert(b:set_local_description())
      assert(a:set_remote_description(b.local_description))
      assert.is_nil(a.pending_local_description)
      assert.is_nil(a.pending_remote_description)
      local first = a.current_local_description
      assert.equal("offer", first.type)
      assert.equal("answer", a.current_remote_description.type)
      assert.equal("answer", b.current_local_description.type)
      -- a renegotiation: the current ones stay until it completes
      a:add_track(rtc.media_track("video"))
      assert(a:set_local_description())
      assert.equal(first.sdp, a.current_local_description.sdp)
      assert.matches("m=video", a.pending_local_description.sdp)
      assert.is_not.matches("m=video", a.current_local_description.sdp)
      assert.equal("answer", a.current_remote_description.type)
      assert(a:set_local_description { type = "rollback" })
      assert.is_nil(a.pending_local_description)
      assert.equal(first.sdp, a.current_local_description.sdp)
      assert.has_error(function() a.current_local_description = {} end,
        "attribute 'current_local_description' is read-only")
      a:close(); b:close()
      assert.is_nil(a.current_local_description)
    end)
  end)
end)
