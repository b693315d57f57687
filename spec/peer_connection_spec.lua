-- rtc.peer_connection and data channels between two peers in one process, on
-- 127.0.0.1, on stock lua5.4 with rtc.run().
local rtc = require "rtc"

local LOCAL = { bind_addresses = { "127.0.0.1" } }

-- Runs fn as a task and the loop until everything is done; fails on timeout.
local function run_task(fn, timeout_ms)
  local finished, err = false, nil
  local guard = rtc.set_timeout(timeout_ms or 10000, function()
    err = err or "timed out"
    rtc.stop()
  end)
  rtc.spawn(function()
    local ok, e = xpcall(fn, debug.traceback)
    finished = true
    guard:stop()
    if not ok then err = e end
    -- Peers a failed test left open must not keep the loop (and the next test) running.
    rtc.stop()
  end)
  rtc.run()
  if err then error(err, 0) end
  assert.is_true(finished)
end

-- Resolves when `pred()` holds, polling every ms (inside a task).
local function wait_for(pred, what, timeout_ms)
  local deadline = rtc.now() + (timeout_ms or 8000)
  while not pred() do
    if rtc.now() > deadline then error("timed out waiting for " .. what, 2) end
    rtc.sleep(0.002)
  end
end

-- Two peers with trickle wired both ways.
local function pair(cfg_a, cfg_b)
  local a = assert(rtc.peer_connection(cfg_a or LOCAL))
  local b = assert(rtc.peer_connection(cfg_b or LOCAL))
  a:on("icecandidate", function(c) if c and b.remote_description then assert(b:add_ice_candidate(c)) end end)
  b:on("icecandidate", function(c) if c and a.remote_description then assert(a:add_ice_candidate(c)) end end)
  return a, b
end

local function negotiate(a, b, opts)
  local offer = assert(a:create_offer(opts))
  assert(a:set_local_description(offer))
  assert(b:set_remote_description(offer))
  local answer = assert(b:create_answer())
  assert(b:set_local_description(answer))
  assert(a:set_remote_description(answer))
end

describe("peer_connection", function()
  it("opens a data channel and carries text, binary, empty and 256 KiB messages both ways", function()
    run_task(function()
      local a, b = pair()
      local states = {}
      a:on("connectionstatechange", function(s) states[#states + 1] = s end)
      local dc = assert(a:create_data_channel("chat"))
      assert.equal("chat", dc.label)
      assert.equal("connecting", dc.ready_state)
      local remote, got_a, got_b = nil, {}, {}
      b:on("datachannel", function(ch)
        remote = ch
        ch:on("message", function(data, binary)
          got_b[#got_b + 1] = { data = data, binary = binary }
          ch:send(data, binary)
        end)
      end)
      dc:on("message", function(data, binary) got_a[#got_a + 1] = { data = data, binary = binary } end)
      local opened = false
      dc:on("open", function() opened = true end)
      negotiate(a, b)
      assert.equal("stable", a.signaling_state)
      assert.equal("stable", b.signaling_state)
      wait_for(function() return opened and remote end, "channel open")
      assert.equal("open", dc.ready_state)
      assert.equal("chat", remote.label)
      assert.equal(dc.id, remote.id)
      assert.same({ "connecting", "connected" }, states)
      local big = string.rep("0123456789abcdef", 16384)         -- 256 KiB
      assert(dc:send("hello"))
      assert(dc:send("\0\1\2\255", true))
      assert(dc:send(""))
      assert(dc:send("", true))
      assert(dc:send(big, true))
      wait_for(function() return #got_a == 5 end, "echoes")
      assert.same({ data = "hello", binary = false }, got_a[1])
      assert.same({ data = "\0\1\2\255", binary = true }, got_a[2])
      assert.same({ data = "", binary = false }, got_a[3])
      assert.same({ data = "", binary = true }, got_a[4])
      assert.equal(#big, #got_a[5].data)
      assert.equal(big, got_a[5].data)
      assert.is_true(got_a[5].binary)
      -- Stats: W3C types and members, and both sides agree on the bytes of the channel.
      local sa, sb = a:get_stats(), b:get_stats()
      local function find(report, t)
        for _, s in pairs(report) do if s.type == t then return s end end
      end
      local ta = find(sa, "transport")
      assert.equal("connected", ta.dtlsState)
      assert.is_string(ta.selectedCandidatePairId)
      local pairst = sa[ta.selectedCandidatePairId]
      assert.equal("candidate-pair", pairst.type)
      assert.equal("host", sa[pairst.localCandidateId].candidateType)
      assert.is_true(pairst.bytesSent > #big)
      local da, db = find(sa, "data-channel"), find(sb, "data-channel")
      assert.equal(5, da.messagesSent)
      assert.equal(da.bytesSent, db.bytesReceived)
      assert.equal(da.messagesReceived, db.messagesSent)
      assert.equal(1, find(sa, "peer-connection").dataChannelsOpened)
      assert.equal(find(sb, "certificate").fingerprint ~= nil, true)
      a:close()
      b:close()
      assert.equal("closed", a.connection_state)
    end)
  end)

  it("works without trickle: descriptions carry the gathered candidates", function()
    run_task(function()
      local a = assert(rtc.peer_connection(LOCAL))
      local b = assert(rtc.peer_connection(LOCAL))
      local dc = a:create_data_channel("x")
      local got
      b:on("datachannel", function(ch) ch:on("message", function(m) got = m end) end)
      dc:on("open", function() dc:send("no trickle") end)
      assert(a:set_local_description(assert(a:create_offer())))
      a:wait_gathering_complete()
      assert.equal("complete", a.ice_gathering_state)
      local offer = a.local_description
      assert.matches("a=candidate:", offer.sdp)
      assert.matches("a=end%-of%-candidates", offer.sdp)
      assert(b:set_remote_description(offer))
      assert(b:set_local_description())                    -- implicit answer
      b:wait_gathering_complete()
      assert(a:set_remote_description(b.local_description))
      wait_for(function() return got end, "message")
      assert.equal("no trickle", got)
      a:close(); b:close()
    end)
  end)

  it("channel options: unordered, partial reliability, negotiated ids, protocol", function()
    run_task(function()
      local a, b = pair()
      local seen = {}
      b:on("datachannel", function(ch) seen[ch.label] = ch end)
      local u = a:create_data_channel("u", { ordered = false, max_retransmits = 0, protocol = "p1" })
      local t = a:create_data_channel("t", { max_packet_life_time = 500 })
      local na = a:create_data_channel("neg", { negotiated = true, id = 42 })
      local nb = b:create_data_channel("neg", { negotiated = true, id = 42 })
      local got
      nb:on("message", function(m) got = m end)
      negotiate(a, b)
      wait_for(function() return seen.u and seen.t and na.ready_state == "open" end, "channels")
      assert.is_false(seen.u.ordered)
      assert.equal(0, seen.u.max_retransmits)
      assert.equal("p1", seen.u.protocol)
      assert.equal(500, seen.t.max_packet_life_time)
      assert.is_nil(seen.neg)                              -- no DCEP for a negotiated channel
      assert.equal(42, na.id)
      assert(na:send("pre-negotiated"))
      wait_for(function() return got end, "negotiated message")
      assert.equal("pre-negotiated", got)
      assert.has_error(function() a:create_data_channel(42) end)
      local bad, err = a:create_data_channel("bad", { max_retransmits = 1, max_packet_life_time = 1 })
      assert.is_nil(bad)
      assert.matches("^TypeError:", err)
      a:close(); b:close()
    end)
  end)

  it("closing a channel from either side closes both ends", function()
    run_task(function()
      local a, b = pair()
      local d1, d2 = a:create_data_channel("one"), a:create_data_channel("two")
      local remote = {}
      b:on("datachannel", function(ch) remote[ch.label] = ch end)
      negotiate(a, b)
      wait_for(function() return remote.one and remote.two end, "channels")
      local closed = {}
      d1:on("close", function() closed.a1 = true end)
      remote.one:on("close", function() closed.b1 = true end)
      d2:on("close", function() closed.a2 = true end)
      remote.two:on("close", function() closed.b2 = true end)
      d1:close()
      remote.two:close()
      wait_for(function() return closed.a1 and closed.b1 and closed.a2 and closed.b2 end, "close events")
      assert.equal("closed", d1.ready_state)
      local ok, err = d1:send("late")
      assert.is_nil(ok)
      assert.matches("^InvalidStateError:", err)
      a:close(); b:close()
    end)
  end)

  it("renegotiates to add a data channel after connecting, and survives an ICE restart", function()
    run_task(function()
      local a, b = pair()
      local first = a:create_data_channel("first")
      local remote = {}
      b:on("datachannel", function(ch)
        remote[ch.label] = ch
        ch:on("message", function(m) ch:send("echo:" .. m) end)
      end)
      negotiate(a, b)
      wait_for(function() return remote.first end, "first channel")
      -- A second channel on the same association needs no renegotiation.
      local second = a:create_data_channel("second")
      wait_for(function() return remote.second end, "second channel")
      -- ICE restart from the answerer's side: new credentials, the channel stays open.
      local replies = {}
      first:on("message", function(m) replies[#replies + 1] = m end)
      local ufrag_before = a.local_description.sdp:match("a=ice%-ufrag:(%S+)")
      assert(b:restart_ice())
      negotiate(b, a)
      assert.are_not.equal(ufrag_before, a.local_description.sdp:match("a=ice%-ufrag:(%S+)"))
      assert(first:send("after restart"))
      wait_for(function() return #replies == 1 end, "echo after restart")
      assert.equal("echo:after restart", replies[1])
      assert.equal("open", second.ready_state)
      a:close(); b:close()
    end)
  end)

  it("rolls back a local offer", function()
    run_task(function()
      local a = assert(rtc.peer_connection(LOCAL))
      a:create_data_channel("x")
      assert(a:set_local_description(assert(a:create_offer())))
      assert.equal("have-local-offer", a.signaling_state)
      assert(a:set_local_description({ type = "rollback" }))
      assert.equal("stable", a.signaling_state)
      a:close()
    end)
  end)

  it("refuses bad input with W3C error names and keeps its state", function()
    run_task(function()
      local a = assert(rtc.peer_connection(LOCAL))
      local ok, err = a:create_answer()
      assert.is_nil(ok)
      assert.matches("^InvalidStateError:", err)
      ok, err = a:set_remote_description({ type = "answer", sdp = "v=0\r\n" })
      assert.is_nil(ok)
      assert.matches("^InvalidStateError:", err)
      ok, err = a:set_remote_description({ type = "offer", sdp = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=bogus\r\n" })
      assert.is_nil(ok)
      assert.matches("^InvalidAccessError: line 5:", err)
      assert.equal("stable", a.signaling_state)
      ok, err = a:set_remote_description({ type = "offer", sdp = "" })
      assert.matches("^InvalidAccessError:", err)
      ok, err = a:set_remote_description({ type = "bogus", sdp = "v=0" })
      assert.matches("^TypeError:", err)
      ok, err = a:add_ice_candidate({ candidate = "candidate:1 1 udp 1 127.0.0.1 9 typ host", sdp_mid = "0" })
      assert.matches("^InvalidStateError:", err)
      assert.has_error(function() a:set_remote_description("v=0") end)
      assert.has_error(function() a:on("nosuchevent", print) end)
      assert.has_error(function() rtc.peer_connection { ice_servers = { { urls = "http://x" } } } end)
      assert.has_error(function() rtc.peer_connection { ice_transport_policy = "none" } end)
      -- A browser-like offer with an unknown mid in a later candidate.
      local b = assert(rtc.peer_connection(LOCAL))
      b:create_data_channel("x")
      assert(b:set_local_description(assert(b:create_offer())))
      assert(a:set_remote_description(b.local_description))
      ok, err = a:add_ice_candidate({ candidate = "candidate:1 1 udp 1 127.0.0.1 9 typ host", sdp_mid = "9" })
      assert.is_nil(ok)
      assert.matches("^OperationError: no media section with mid 9", err)
      ok, err = a:add_ice_candidate({ candidate = "candidate:garbage", sdp_mid = "0" })
      assert.matches("^OperationError:", err)
      a:close(); b:close()
      ok, err = a:create_offer()
      assert.matches("^InvalidStateError:", err)
    end)
  end)

  it("keeps a stable certificate fingerprint across connections", function()
    run_task(function()
      local cert = assert(rtc.generate_certificate())
      assert.matches("^%x%x:", cert.fingerprint)
      local again = assert(rtc.load_certificate(cert.pem, cert.key_pem))
      assert.equal(cert.fingerprint, again.fingerprint)
      local a = assert(rtc.peer_connection { bind_addresses = { "127.0.0.1" }, certificates = { cert } })
      a:create_data_channel("x")
      local offer = assert(a:create_offer())
      assert.matches("a=fingerprint:sha%-256 " .. cert.fingerprint:gsub("%p", "%%%0"), offer.sdp)
      a:close()
      local bad, err = rtc.load_certificate("junk", "junk")
      assert.is_nil(bad)
      assert.is_string(err)
    end)
  end)
end)
