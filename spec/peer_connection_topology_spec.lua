-- Topologies with more than one socket towards one TURN server (Debian's coturn on
-- 127.0.0.1): two local addresses each with its own allocation, over UDP and TCP, and
-- many connections on one shared port (single-port mode) each with its own.
local rtc = require "rtc"
local loop = require "support.loop"
local coturn = require "support.coturn"
local tmp = require "support.tmp"
local run_task = loop.run_task

local function count(sdp, pat)
  local n = 0
  for _ in sdp:gmatch(pat) do n = n + 1 end
  return n
end

describe("TURN allocations from several sockets", function()
  local srv, port
  setup(function()
    srv = coturn.start { users = { "alice:secret" } }
    port = srv.port
  end)
  teardown(function()
    if srv then srv:stop() end
    tmp.clean()
  end)

  for _, transport in ipairs { "udp", "tcp" } do
    it("gives each of two local addresses its own allocation (TURN over " .. transport .. ")", function()
      run_task(function()
        local pc = assert(rtc.peer_connection {
          bind_addresses = { "127.0.0.1", "127.0.0.2" },
          ice_servers = { { urls = "turn:127.0.0.1:" .. port .. "?transport=" .. transport,
                            username = "alice", credential = "secret" } },
        })
        pc:create_data_channel("x")
        assert(pc:set_local_description(assert(pc:create_offer())))
        pc:wait_gathering_complete()
        local sdp = pc.local_description.sdp
        assert.equal(2, count(sdp, "typ host"))
        assert.equal(2, count(sdp, "typ relay"))
        -- Each relay candidate names the base it was allocated from.
        assert.matches("typ relay raddr 127%.0%.0%.1", sdp)
        assert.matches("typ relay raddr 127%.0%.0%.2", sdp)
        pc:close()
      end, 30000)
    end)
  end

  it("gives every connection on one shared port its own allocation", function()
    run_task(function()
      local mux = assert(rtc.udp_mux { host = "127.0.0.1", port = 0 })
      local _, mux_port = mux:local_address()
      local N, pcs = 5, {}
      for i = 1, N do
        pcs[i] = assert(rtc.peer_connection {
          udp_mux = mux,
          ice_servers = { { urls = "turn:127.0.0.1:" .. port, username = "alice", credential = "secret" } },
        })
        pcs[i]:create_data_channel("x")
        assert(pcs[i]:set_local_description(assert(pcs[i]:create_offer())))
      end
      local relays = {}
      for i = 1, N do
        pcs[i]:wait_gathering_complete()
        local sdp = pcs[i].local_description.sdp
        assert.matches("127%.0%.0%.1 " .. mux_port .. " typ host", sdp)
        local relay = sdp:match("a=candidate:%S+ 1 udp %d+ (127%.0%.0%.1 %d+) typ relay")
        assert.is_not_nil(relay, "connection " .. i .. " has no relay candidate")
        assert.is_nil(relays[relay])              -- one allocation each
        relays[relay] = true
      end
      for i = 1, N do pcs[i]:close() end
      mux:close()
    end, 30000)
  end)
end)
