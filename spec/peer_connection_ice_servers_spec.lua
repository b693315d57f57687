-- pc:set_configuration{ice_servers=...} (W3C setConfiguration): the new servers are used
-- by the next gathering, at once before any description and at the next ICE restart
-- after. The STUN server here is a UDP socket that answers Binding requests with a
-- mapped address of its own choosing, so its answers show up as srflx candidates.
local rtc = require "rtc"
local loop = require "support.loop"
local pcpair = require "support.pcpair"
local run_task, wait_for = loop.run_task, loop.wait_for

-- A STUN server (RFC 5389 Binding only) that says every client is at `mapped_ip`.
local function stun_server(mapped_ip)
  local s = assert(rtc.udp { host = "127.0.0.1", port = 0 })
  local srv = { requests = 0, sock = s }
  local a, b, c, d = mapped_ip:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
  local ip = (tonumber(a) << 24 | tonumber(b) << 16 | tonumber(c) << 8 | tonumber(d)) ~ 0x2112A442
  s:on("message", function(data, host, port)
    if #data < 20 or data:byte(1) ~= 0 or data:byte(2) ~= 1 then return end
    srv.requests = srv.requests + 1
    local txid = data:sub(9, 20)
    local attr = string.pack(">I2I2BBI2I4", 0x0020, 8, 0, 1, port ~ 0x2112, ip)
    s:send(string.pack(">I2I2I4", 0x0101, #attr, 0x2112A442) .. txid .. attr, host, port)
  end)
  local _, port = s:local_address()
  srv.url = "stun:127.0.0.1:" .. port
  return srv
end

local function srflx_in(desc, ip)
  return desc.sdp:find(ip .. " %d+ typ srflx") ~= nil
end

describe("pc:set_configuration ice_servers", function()
  it("before any description: the first gathering asks the new server", function()
    run_task(function()
      local old, new = stun_server("192.0.2.1"), stun_server("192.0.2.2")
      local a = assert(rtc.peer_connection { bind_addresses = { "127.0.0.1" }, ice_servers = { { urls = old.url } } })
      assert(a:set_configuration { bind_addresses = { "127.0.0.1" }, ice_servers = { { urls = new.url } } })
      assert.equal(new.url, a:get_configuration().ice_servers[1].urls)
      a:create_data_channel("x")
      assert(a:set_local_description())
      assert(a:wait_gathering_complete())
      assert.is_true(srflx_in(a.local_description, "192.0.2.2"))
      assert.is_false(srflx_in(a.local_description, "192.0.2.1"))
      assert.equal(0, old.requests)
      assert.is_true(new.requests > 0)
      a:close(); old.sock:close(); new.sock:close()
    end)
  end)

  it("during a call: nothing changes until the next ICE restart, which gathers from the new server", function()
    run_task(function()
      local srv = stun_server("192.0.2.3")
      local a = assert(rtc.peer_connection { bind_addresses = { "127.0.0.1" } })
      local b = assert(rtc.peer_connection { bind_addresses = { "127.0.0.1" } })
      local dc = a:create_data_channel("x")
      local got
      b:on("datachannel", function(ch) ch:on("message", function(m) got = m end) end)
      pcpair(a, b)
      assert(dc:wait_open())
      assert(a:set_configuration { bind_addresses = { "127.0.0.1" }, ice_servers = { { urls = srv.url } } })
      rtc.sleep(0.2)
      assert.equal(0, srv.requests)   -- W3C: no action until the ICE agent gathers again
      local cands = {}
      a:on("icecandidate", function(c) if c then cands[#cands + 1] = c.candidate end end)
      assert(a:restart_ice())
      assert(a:set_local_description())
      assert(a:wait_gathering_complete())
      assert.is_true(srv.requests > 0)
      assert.is_true(srflx_in(a.local_description, "192.0.2.3"))
      local seen = false
      for _, c in ipairs(cands) do seen = seen or c:find("192.0.2.3 %d+ typ srflx") ~= nil end
      assert.is_true(seen, "the srflx candidate is announced")
      assert(b:set_remote_description(a.local_description))
      assert(b:set_local_description())
      assert(a:set_remote_description(b.local_description))
      -- the restarted connection carries data
      dc:send("after restart")
      wait_for(function() return got == "after restart" end, "message after the restart", 10000)
      -- dropping the server: the next restart does not ask it again
      assert(a:set_configuration { bind_addresses = { "127.0.0.1" }, ice_servers = {} })
      local before = srv.requests
      assert(a:restart_ice())
      assert(a:set_local_description())
      assert(a:wait_gathering_complete())
      rtc.sleep(0.2)
      assert.equal(before, srv.requests)
      a:close(); b:close(); srv.sock:close()
    end)
  end)

  it("keeps W3C's errors for what cannot change", function()
    run_task(function()
      local a = assert(rtc.peer_connection { bind_addresses = { "127.0.0.1" } })
      local cases = {
        { { bind_addresses = { "127.0.0.1" }, bundle_policy = "max-bundle" }, "InvalidModificationError" },
        { { bind_addresses = { "127.0.0.1" }, certificates = { rtc.generate_certificate() } }, "InvalidModificationError" },
        { { bind_addresses = { "127.0.0.2" } }, "InvalidModificationError" },
        { { bind_addresses = { "127.0.0.1" }, ice_servers = { { urls = "turn:127.0.0.1:3478" } } }, "InvalidAccessError" },
      }
      for _, c in ipairs(cases) do
        local ok, err, name = a:set_configuration(c[1])
        assert.is_nil(ok)
        assert.equal(c[2], name, err)
        assert.matches("^" .. c[2] .. ": ", err)
      end
      assert.same({}, a:get_configuration().ice_servers)   -- a refused change changes nothing
      assert.has_error(function() a:set_configuration { ice_servers = { { urls = "http://x" } } } end)
      a:close()
      local _, _, name = a:set_configuration {}
      assert.equal("InvalidStateError", name)
    end)
  end)
end)
