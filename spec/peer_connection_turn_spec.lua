-- Relay-only peer connections through a real TURN server (Debian's coturn), started
-- here on 127.0.0.1 and stopped at the end.
local rtc = require "rtc"
local loop = require "support.loop"
local coturn = require "support.coturn"
local tmp = require "support.tmp"
local run_task, wait_for = loop.run_task, loop.wait_for

describe("relay-only peer connections through coturn", function()
  local srv, port
  setup(function()
    srv = coturn.start { users = { "alice:secret" } }
    port = srv.port
  end)
  teardown(function()
    if srv then srv:stop() end
    tmp.clean()
  end)

  local function relay_pc(user, pass, transport)
    local url = "turn:127.0.0.1:" .. port .. (transport and ("?transport=" .. transport) or "")
    return assert(rtc.peer_connection {
      bind_addresses = { "127.0.0.1" }, ice_transport_policy = "relay",
      ice_servers = { { urls = url, username = user, credential = pass } },
    })
  end

  for _, transport in ipairs { "udp", "tcp" } do
  it("connects two peers through relayed candidates and carries data (TURN over " .. transport .. ")", function()
    run_task(function()
      local a, b = relay_pc("alice", "secret", transport), relay_pc("alice", "secret", transport)
      local types = {}
      local function wire(x, y)
        x:on("icecandidate", function(c)
          if c then
            types[#types + 1] = c.candidate:match("typ (%a+)")
            if y.remote_description then y:add_ice_candidate(c) end
          end
        end)
      end
      wire(a, b); wire(b, a)
      local got
      b:on("datachannel", function(dc) dc:on("message", function(m) got = m end) end)
      local dc = a:create_data_channel("relayed")
      dc:on("open", function() dc:send("through the relay") end)
      assert(a:set_local_description(assert(a:create_offer())))
      a:wait_gathering_complete()
      assert(b:set_remote_description(a.local_description))
      assert(b:set_local_description())
      b:wait_gathering_complete()
      assert(a:set_remote_description(b.local_description))
      wait_for(function() return got end, "relayed message")
      assert.equal("through the relay", got)
      for _, t in ipairs(types) do assert.equal("relay", t) end    -- no host candidate leaked
      assert.is_true(#types >= 2)
      local st = a:get_stats()
      local pair = st[st.T01.selectedCandidatePairId]
      assert.equal("relay", st[pair.localCandidateId].candidateType)
      a:close(); b:close()
    end)
  end)
  end

  -- W3C setConfiguration: a new iceTransportPolicy applies to the next gathering
  -- (JSEP 4.1.18), i.e. at the next ICE restart on a connection that is up.
  it("set_configuration changes ice_transport_policy at the next ICE restart, both ways", function()
    run_task(function()
      local url = "turn:127.0.0.1:" .. port
      local cfg = { bind_addresses = { "127.0.0.1" },
                    ice_servers = { { urls = url, username = "alice", credential = "secret" } } }
      local a = assert(rtc.peer_connection(cfg))
      local b = assert(rtc.peer_connection { bind_addresses = { "127.0.0.1" } })
      local got = {}
      b:on("datachannel", function(ch) ch:on("message", function(m) got[m] = true end) end)
      local dc = a:create_data_channel("policy")
      local pcpair = require "support.pcpair"
      pcpair(a, b)
      assert(dc:wait_open())
      local function local_type()
        local st = a:get_stats()
        local t = st.T01 and st.T01.selectedCandidatePairId and st[st.T01.selectedCandidatePairId]
        return t and st[t.localCandidateId].candidateType
      end
      local function types_in(desc)
        local t = {}
        for typ in desc.sdp:gmatch("a=candidate:[^\r\n]* typ (%a+)") do t[typ] = true end
        return t
      end
      assert.equal("host", local_type())
      assert.is_true(types_in(a.local_description).relay)    -- gathered under "all" too

      local function renegotiate(cands)
        local ended = false
        a.onicecandidate = function(c)
          if c then cands[#cands + 1] = c.candidate:match("typ (%a+)") else ended = true end
        end
        assert(a:restart_ice())
        assert(a:set_local_description())
        -- the events reach the script after the call; end-of-candidates comes last
        wait_for(function() return ended end, "end of candidates")
        assert(b:set_remote_description(a.local_description))
        assert(b:set_local_description())
        assert(a:set_remote_description(b.local_description))
      end

      -- "relay": nothing changes until the restart ...
      local c2 = a:get_configuration()
      c2.ice_transport_policy = "relay"
      assert(a:set_configuration(c2))
      assert.equal("relay", a:get_configuration().ice_transport_policy)
      rtc.sleep(0.3)
      assert.equal("host", local_type())
      assert.is_true(types_in(a.local_description).host)
      -- ... which signals relayed candidates only and moves the connection onto one
      local cands = {}
      renegotiate(cands)
      assert.same({ relay = true }, types_in(a.local_description))
      assert.is_true(#cands > 0)
      for _, t in ipairs(cands) do assert.equal("relay", t) end
      wait_for(function() return local_type() == "relay" end, "a relayed pair", 10000)
      dc:send("relayed")
      wait_for(function() return got.relayed end, "a message through the relay", 10000)

      -- back to "all": host candidates are signalled again and the direct pair wins
      c2.ice_transport_policy = "all"
      assert(a:set_configuration(c2))
      rtc.sleep(0.3)
      assert.equal("relay", local_type())
      cands = {}
      renegotiate(cands)
      local signalled = {}
      for _, t in ipairs(cands) do signalled[t] = true end
      assert.same({ host = true, relay = true }, signalled)
      assert.same({ host = true, relay = true }, types_in(a.local_description))
      wait_for(function() return local_type() == "host" end, "the direct pair again", 10000)
      dc:send("direct")
      wait_for(function() return got.direct end, "a message on the direct pair", 10000)
      a:close(); b:close()
    end, 40000)
  end)

  it("wrong TURN credentials gather no relay candidate and end gathering", function()
    run_task(function()
      local a = relay_pc("alice", "wrong")
      local cands = 0
      a:on("icecandidate", function(c) if c then cands = cands + 1 end end)
      a:create_data_channel("x")
      assert(a:set_local_description(assert(a:create_offer())))
      a:wait_gathering_complete()
      assert.equal(0, cands)
      a:close()
    end)
  end)
end)
