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
