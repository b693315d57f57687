-- Single-port mode: many peer connections behind one UDP socket (rtc.udp_mux).
local rtc = require "rtc"
local loop = require "support.loop"
local run_task, wait_for = loop.run_task, loop.wait_for

describe("single-port mode", function()
  it("serves 20 peer connections on one UDP port, routed by ICE ufrag then by sender", function()
    run_task(function()
      local mux = assert(rtc.udp_mux { host = "127.0.0.1", port = 0 })
      local mux_ip, mux_port = mux:local_address()
      assert.equal("127.0.0.1", mux_ip)
      local N, echoed = 20, 0
      local servers, clients = {}, {}
      for i = 1, N do
        local server = assert(rtc.peer_connection { udp_mux = mux })
        assert.same({ "127.0.0.1:" .. mux_port }, server:local_addresses())
        server:on("datachannel", function(dc)
          dc:on("message", function(m) dc:send("server " .. i .. " got " .. m) end)
        end)
        local client = assert(rtc.peer_connection { bind_addresses = { "127.0.0.1" } })
        local dc = client:create_data_channel("c" .. i)
        dc:on("open", function() dc:send("hello " .. i) end)
        dc:on("message", function(m)
          assert.equal("server " .. i .. " got hello " .. i, m)   -- no cross-talk between connections
          echoed = echoed + 1
        end)
        servers[i], clients[i] = server, client
      end
      for i = 1, N do
        local c, s = clients[i], servers[i]
        assert(c:set_local_description(assert(c:create_offer())))
        c:wait_gathering_complete()
        assert(s:set_remote_description(c.local_description))
        assert(s:set_local_description())
        s:wait_gathering_complete()
        assert.matches("127%.0%.0%.1 " .. mux_port .. " typ host", s.local_description.sdp)
        assert(c:set_remote_description(s.local_description))
      end
      wait_for(function() return echoed == N end, "all echoes", 15000)
      local st = mux:stats()
      assert.equal(N, st.connections)
      assert.equal(N, st.senders)
      assert.is_true(st.routed > N)
      mux:close()                                   -- connections keep using the socket
      for i = 1, N / 2 do servers[i]:close(); clients[i]:close() end
      for i = N / 2 + 1, N do
        local got
        clients[i]:create_data_channel("late"):on("open", function() got = true end)
        wait_for(function() return got end, "a new channel after the mux was released")
        servers[i]:close(); clients[i]:close()
      end
    end, 30000)
  end)

  it("does not let a check that only names a ufrag claim its sender's address", function()
    run_task(function()
      local mux = assert(rtc.udp_mux { host = "127.0.0.1", port = 0 })
      local _, mux_port = mux:local_address()
      local s1 = assert(rtc.peer_connection { udp_mux = mux })
      local s2 = assert(rtc.peer_connection { udp_mux = mux })
      s2:on("datachannel", function(dc) dc:on("message", function(m) dc:send("echo " .. m) end) end)
      s1:create_data_channel("x")
      assert(s1:set_local_description(assert(s1:create_offer())))
      local s1_ufrag = s1.local_description.sdp:match("a=ice%-ufrag:(%S+)")
      -- An off-path sender names s1's ufrag (it travels in clear) from the address
      -- the next client will use; its MESSAGE-INTEGRITY is garbage.
      local spoof = assert(rtc.udp { host = "127.0.0.9", port = 0 })
      local _, port = spoof:local_address()
      local user = s1_ufrag .. ":abcd"
      user = user .. string.rep("\0", (4 - #user % 4) % 4)
      local attrs = string.pack(">I2I2", 0x0006, #(s1_ufrag .. ":abcd")) .. user ..
                    string.pack(">I2I2", 0x0008, 20) .. string.rep("\0", 20)
      local req = string.pack(">I2I2I4", 0x0001, #attrs, 0x2112A442) .. string.rep("t", 12) .. attrs
      for _ = 1, 3 do assert(spoof:send(req, "127.0.0.1", mux_port)) end
      rtc.sleep(0.1)
      assert.equal(0, mux:stats().senders)         -- routing learnt nothing from it
      spoof:close()
      rtc.sleep(0.05)
      -- The real client on that address reaches s2, checks, DTLS, data and all.
      local c2 = assert(rtc.peer_connection { bind_addresses = { "127.0.0.9" }, port = port })
      local got
      local dc = c2:create_data_channel("chat")
      dc:on("open", function() dc:send("hi") end)
      dc:on("message", function(m) got = m end)
      assert(c2:set_local_description(assert(c2:create_offer())))
      c2:wait_gathering_complete()
      assert.matches("127%.0%.0%.9 " .. port .. " typ host", c2.local_description.sdp)
      assert(s2:set_remote_description(c2.local_description))
      assert(s2:set_local_description())
      s2:wait_gathering_complete()
      assert(c2:set_remote_description(s2.local_description))
      wait_for(function() return got end, "echo from s2", 10000)
      assert.equal("echo hi", got)
      assert.equal(1, mux:stats().senders)         -- c2, learnt after its checks
      c2:close(); s1:close(); s2:close()
      mux:close()
    end, 20000)
  end)

  local function echo_through(mux, client_ip)
    local server = assert(rtc.peer_connection { udp_mux = mux })
    server:on("datachannel", function(dc) dc:on("message", function(m) dc:send("echo " .. m) end) end)
    local client = assert(rtc.peer_connection { bind_addresses = { client_ip } })
    local got
    local dc = client:create_data_channel("chat")
    dc:on("open", function() dc:send("hi") end)
    dc:on("message", function(m) got = m end)
    assert(client:set_local_description(assert(client:create_offer())))
    client:wait_gathering_complete()
    assert(server:set_remote_description(client.local_description))
    assert(server:set_local_description())
    server:wait_gathering_complete()
    assert(client:set_remote_description(server.local_description))
    wait_for(function() return got end, "echo through the shared port", 10000)
    assert.equal("echo hi", got)
    local sdp = server.local_description.sdp
    client:close(); server:close()
    return sdp
  end

  it("announces interface addresses, not 0.0.0.0, for a wildcard-bound port", function()
    run_task(function()
      local mux = assert(rtc.udp_mux { host = "0.0.0.0", port = 0 })
      local _, port = mux:local_address()
      local pc = assert(rtc.peer_connection { udp_mux = mux })
      local ips = pc:local_addresses()
      assert.is_true(#ips >= 1)
      for _, a in ipairs(ips) do
        assert.is_nil(a:match("^0%.0%.0%.0"))
        assert.equal(":" .. port, a:match(":%d+$"))
      end
      pc:close()
      -- A client reaches it on the first announced address.
      local first = ips[1]:match("^(.*):%d+$")
      local sdp = echo_through(mux, first)
      assert.is_nil(sdp:match("0%.0%.0%.0 %d+ typ host"))
      assert.matches(first:gsub("%.", "%%.") .. " " .. port .. " typ host", sdp)
      mux:close()
    end, 20000)
  end)

  it("announces configured addresses (a public address in front of the port)", function()
    run_task(function()
      local mux = assert(rtc.udp_mux { host = "0.0.0.0", port = 0, announced_addresses = { "127.0.0.1" } })
      local _, port = mux:local_address()
      local sdp = echo_through(mux, "127.0.0.1")
      local hosts = {}
      for ip, p in sdp:gmatch("a=candidate:%S+ 1 udp %d+ (%S+) (%d+) typ host") do hosts[#hosts + 1] = ip .. ":" .. p end
      assert.same({ "127.0.0.1:" .. port }, hosts)
      mux:close()
      assert.has_error(function() rtc.udp_mux { host = "127.0.0.1", port = 0, announced_addresses = { "nope" } } end)
      assert.has_error(function() rtc.udp_mux { host = "127.0.0.1", port = 0, announced_addresses = "1.2.3.4" } end)
      assert.has_error(function() rtc.udp_mux { host = "127.0.0.1", port = 0, announced_addresses = { "0.0.0.0" } } end)
    end, 20000)
  end)

  it("refuses a closed mux and bad arguments", function()
    run_task(function()
      local mux = assert(rtc.udp_mux { host = "127.0.0.1", port = 0 })
      mux:close()
      assert.has_error(function() rtc.peer_connection { udp_mux = mux } end)
      assert.has_error(function() rtc.udp_mux("x") end)
      assert.has_error(function() rtc.peer_connection { udp_mux = {} } end)
    end)
  end)
end)
