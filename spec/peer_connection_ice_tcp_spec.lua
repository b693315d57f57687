-- ICE-TCP options of rtc.peer_connection: the passive TCP candidate in the SDP, bad
-- options, and hostile bytes on the listening port (RFC 4571 frames of junk, a frame
-- split across writes, a length the peer never completes, too many connections).
-- A real call over ICE-TCP is spec/interop/browser_ice_tcp_spec.lua (Chromium).
local rtc = require "rtc"
local loop = require "support.loop"
local run_task, wait_for = loop.run_task, loop.wait_for

local function tcp_candidate(sdp)
  local ip, port, rest = sdp:match("a=candidate:%S+ 1 tcp %d+ (%S+) (%d+) typ host([^\r\n]*)")
  return ip, tonumber(port), rest
end

describe("ICE-TCP options", function()
  it("refuses bad values", function()
    assert.has_error(function() rtc.peer_connection { ice_tcp = "yes" } end)
    assert.has_error(function() rtc.peer_connection { ice_tcp = true, ice_tcp_port = 70000 } end)
    assert.has_error(function() rtc.peer_connection { ice_tcp = true, ice_tcp_port = 1.5 } end)
  end)

  it("announces a passive TCP host candidate below the UDP one, on the port asked for", function()
    run_task(function()
      local plain = assert(rtc.peer_connection { bind_addresses = { "127.0.0.1" } })
      plain:create_data_channel("x")
      assert(plain:set_local_description())
      plain:wait_gathering_complete()
      assert.is_nil((tcp_candidate(plain.local_description.sdp)))
      plain:close()

      local probe = assert(rtc.tcp_listen { host = "127.0.0.1", port = 0 })
      local _, free_port = probe:local_address()
      probe:close()
      local pc = assert(rtc.peer_connection { bind_addresses = { "127.0.0.1" }, ice_tcp = true, ice_tcp_port = free_port })
      pc:create_data_channel("x")
      assert(pc:set_local_description())
      pc:wait_gathering_complete()
      local sdp = pc.local_description.sdp
      local ip, port, rest = tcp_candidate(sdp)
      assert.equal("127.0.0.1", ip)
      assert.equal(free_port, port)
      assert.matches("^ tcptype passive", rest)
      local tprio = tonumber(sdp:match("a=candidate:%S+ 1 tcp (%d+) "))
      local uprio = tonumber(sdp:match("a=candidate:%S+ 1 udp (%d+) "))
      assert.is_true(tprio < uprio)
      local seen = false
      for _, s in pairs(pc:get_stats()) do
        if s.type == "local-candidate" and s.protocol == "tcp" then
          seen = true
          assert.equal("passive", s.tcpType)
          assert.equal(free_port, s.port)
        end
      end
      assert.is_true(seen)
      pc:close()
    end, 10000)
  end)

  it("survives hostile bytes and too many connections on the listening port", function()
    run_task(function()
      local pc = assert(rtc.peer_connection { bind_addresses = { "127.0.0.1" }, ice_tcp = true })
      pc:create_data_channel("x")
      assert(pc:set_local_description())
      pc:wait_gathering_complete()
      local ip, port = tcp_candidate(pc.local_description.sdp)
      assert.is_number(port)
      local conns = {}
      for i = 1, 16 do conns[i] = assert(rtc.tcp_connect(ip, port)) end
      -- junk frames: a STUN-looking header with no valid body, DTLS-looking bytes from an
      -- address that never passed a check, an empty frame, a frame split across writes
      assert(conns[1]:write("\0\20" .. "\0\1\0\0\33\18\164\66" .. string.rep("\1", 12)))
      assert(conns[2]:write("\0\5\22\254\253\0\0"))
      assert(conns[3]:write("\0\0"))
      assert(conns[4]:write("\0\40\0\1"))
      rtc.sleep(0.05)
      assert(conns[4]:write(string.rep("x", 38)))
      -- a length announced and never completed
      assert(conns[5]:write("\255\255" .. string.rep("y", 1000)))
      -- the 17th connection is refused: closed at once
      local extra = assert(rtc.tcp_connect(ip, port))
      local d = extra:read()
      assert.is_nil(d)
      -- the connection is still alive and answers nothing unauthenticated
      assert.equal("new", pc.ice_connection_state)
      for _, c in ipairs(conns) do c:close() end
      extra:close()
      rtc.sleep(0.05)
      -- closed connections are forgotten: new ones are taken again
      local again = assert(rtc.tcp_connect(ip, port))
      assert(again:write("\0\0"))
      again:close()
      pc:close()
    end, 10000)
  end)
end)
