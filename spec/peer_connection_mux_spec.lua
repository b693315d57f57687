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
