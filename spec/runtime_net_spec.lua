-- UDP and TCP between tasks in one process, on loopback (IPv4 and IPv6).
local rtc = require "rtc"

-- Two tasks: a server task that echoes until told to stop, and a client task.
local function udp_echo(host)
  local got, sport = {}, nil
  local server = rtc.spawn(function()
    local sock = assert(rtc.udp { host = host, port = 0 })
    sport = select(2, sock:local_address())
    local me, stop = coroutine.running(), false
    sock:on("message", function(data, h, p)
      if data == "stop" then stop = true; coroutine.resume(me) return end
      sock:send("echo:" .. data, h, p)
    end)
    repeat coroutine.yield() until stop
    sock:close()
    return "server done"
  end)
  local client = rtc.spawn(function()
    local sock = assert(rtc.udp { host = host })
    local me = coroutine.running()
    local waiting = false
    sock:on("message", function(data, h, p)
      got[#got + 1] = { data, h, p }
      if waiting then waiting = false; coroutine.resume(me) end
    end)
    for i = 1, 20 do
      assert(sock:send("ping" .. i, host, sport))
      if #got < i then waiting = true; coroutine.yield() end
    end
    sock:send("stop", host, sport)
    got.stats = sock:stats()
    sock:close()
  end)
  rtc.spawn(function()
    got.server = server:join()
    client:join()
  end)
  rtc.run()
  return got, sport
end

describe("udp", function()
  for _, host in ipairs { "127.0.0.1", "::1" } do
    it("echoes between two tasks on " .. host, function()
      local got, sport = udp_echo(host)
      assert.equal(20, #got)
      for i = 1, 20 do
        assert.same({ "echo:ping" .. i, host, sport }, got[i])
      end
      assert.equal("server done", got.server)
      assert.equal(20, got.stats.tx_packets)
      assert.equal(20, got.stats.rx_packets)
    end)
  end

  it("sends binary data and large datagrams", function()
    local a = assert(rtc.udp { host = "127.0.0.1", sndbuf = 262144 })
    local b = assert(rtc.udp { host = "127.0.0.1", rcvbuf = 262144 })
    local _, bport = b:local_address()
    local payload = {}
    for i = 0, 255 do payload[#payload + 1] = string.char(i) end
    payload = table.concat(payload):rep(200)       -- 51200 bytes with NULs
    local got
    b:on("message", function(d) got = d; a:close(); b:close() end)
    a:send(payload, "127.0.0.1", bport)
    rtc.run()
    assert.equal(#payload, #got)
    assert.is_true(got == payload)
  end)

  it("reports errors as nil, 'Name: message'", function()
    local a = assert(rtc.udp { host = "127.0.0.1" })
    local _, port = a:local_address()
    local b, err = rtc.udp { host = "127.0.0.1", port = port }
    assert.is_nil(b)
    assert.matches("^NetworkError: cannot bind UDP 127.0.0.1:%d+", err)
    local ok, err2 = a:send(string.rep("x", 70000), "127.0.0.1", port)
    assert.is_nil(ok)
    assert.matches("^OperationError: ", err2)
    assert.has_error(function() a:send("x", "localhost", 1) end,
      "bad argument #2 to 'send' ('localhost' is not a numeric IP address (use rtc.resolve))")
    assert.has_error(function() a:on("mesage", print) end)
    local closed = 0
    a:on("close", function() closed = closed + 1 end)
    a:close()
    a:close()
    assert.has_error(function() a:send("x", "127.0.0.1", 9) end, "attempt to use a closed rtc.udp")
    rtc.run()
    assert.equal(1, closed)
  end)
end)

describe("tcp", function()
  it("echoes with backpressure on a large write", function()
    local server = assert(rtc.tcp_listen { host = "127.0.0.1", port = 0 })
    local _, port = server:local_address()
    local server_seen = 0
    server:on("connection", function(conn)
      rtc.spawn(function()
        while true do
          local data = conn:read()
          if not data then break end
          server_seen = server_seen + #data
          assert(conn:write(data))
        end
        conn:close()
      end)
    end)
    local total = 8 * 1024 * 1024
    local received, waited, writes = 0, false, 0
    rtc.spawn(function()
      local conn = assert(rtc.tcp_connect("127.0.0.1", port))
      local lhost, lport = conn:local_address()
      assert.equal("127.0.0.1", lhost)
      assert.is_true(lport > 0)
      local reader = rtc.spawn(function()
        while received < total do
          local d = conn:read()
          if not d then break end
          received = received + #d
        end
      end)
      local chunk = string.rep("z", 512 * 1024)
      for _ = 1, total // #chunk do
        assert(conn:write(chunk))
        writes = writes + 1
        if conn:write_queue_size() > 0 then waited = true end
      end
      reader:join()
      conn:close()
      server:close()
    end)
    rtc.run()
    assert.equal(total, received)
    assert.equal(total, server_seen)
    assert.equal(16, writes)
    assert.is_true(waited)     -- the writer really ran ahead of the peer at some point
  end)

  it("reads lines and sees the end of the stream", function()
    local server = assert(rtc.tcp_listen { host = "::1", port = 0 })
    local _, port = server:local_address()
    server:on("connection", function(conn)
      rtc.spawn(function()
        conn:write("one\r\ntwo\nthree")
        conn:close()
      end)
    end)
    local lines = {}
    rtc.spawn(function()
      local conn = assert(rtc.tcp_connect("::1", port))
      while true do
        local l = conn:read_line()
        if not l then break end
        lines[#lines + 1] = l
      end
      conn:close()
      server:close()
    end)
    rtc.run()
    assert.same({ "one", "two", "three" }, lines)
  end)

  it("runs TLS over a stream with rtc.tls_context: lines and 1 MiB both ways, an untrusted certificate refused", function()
    local dir = os.tmpname(); os.remove(dir); assert(os.execute("mkdir -p " .. dir))
    local cert, key = dir .. "/cert.pem", dir .. "/key.pem"
    assert(os.execute("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " .. key ..
      " -out " .. cert .. " -days 2 -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 2>/dev/null"))
    local sctx = assert(rtc.tls_context { server = true, cert = cert, key = key })
    local server = assert(rtc.tcp_listen { host = "127.0.0.1", port = 0, tls = sctx })
    local _, port = server:local_address()
    server:on("connection", function(conn)
      rtc.spawn(function()
        local line = conn:read_line()
        if not line then conn:close() return end
        conn:write("hello " .. line .. "\n")
        local n = 0
        while n < 1048576 do
          local d = conn:read()
          if not d then break end
          n = n + #d
        end
        conn:write(string.rep("y", 1048576))
        conn:close()
      end)
    end)
    local reply, got, bad_conn, bad_err
    rtc.spawn(function()
      local conn = assert(rtc.tcp_connect("127.0.0.1", port, { tls = assert(rtc.tls_context { ca = cert }) }))
      conn:write("tls\n")
      reply = conn:read_line()
      assert(conn:write(string.rep("x", 1048576)))
      got = 0
      while true do
        local d = conn:read()
        if not d then break end
        got = got + #d
      end
      conn:close()
      -- a client trusting only the system store refuses our self-signed certificate
      bad_conn, bad_err = rtc.tcp_connect("127.0.0.1", port, { tls = assert(rtc.tls_context {}) })
      server:close()
    end)
    rtc.run()
    os.execute("rm -rf " .. dir)
    assert.equal("hello tls", reply)
    assert.equal(1048576, got)
    assert.is_nil(bad_conn)
    assert.matches("certificate verify failed", bad_err)
    assert.has_error(function() rtc.tls_context("x") end, "bad argument #1 to 'rtc.tls_context' (table expected)")
  end)

  it("connect to a closed port fails with NetworkError", function()
    local probe = assert(rtc.tcp_listen { host = "127.0.0.1", port = 0 })
    local _, port = probe:local_address()
    probe:close()
    local conn, err
    rtc.spawn(function() conn, err = rtc.tcp_connect("127.0.0.1", port) end)
    rtc.run()
    assert.is_nil(conn)
    assert.matches("^NetworkError: connect: connection refused", err)
  end)

  it("writing to a connection the peer closed fails with NetworkError (no SIGPIPE)", function()
    local server = assert(rtc.tcp_listen { host = "127.0.0.1", port = 0 })
    local _, port = server:local_address()
    local peer_closed = false
    server:on("connection", function(conn)
      conn:on("close", function() peer_closed = true end)
      conn:close()
    end)
    local err
    rtc.spawn(function()
      local c = assert(rtc.tcp_connect("127.0.0.1", port))
      assert.is_nil(c:read())                      -- wait for the peer's FIN
      for _ = 1, 50 do
        local ok, e = c:write(string.rep("x", 65536))
        if not ok then err = e break end
        rtc.sleep(0.002)
      end
      c:close()
      server:close()
    end)
    rtc.run()
    assert.is_true(peer_closed)
    assert.matches("^NetworkError: write: ", err)
  end)

  it("fires close events and rejects use after close", function()
    local server = assert(rtc.tcp_listen { host = "127.0.0.1", port = 0 })
    local _, port = server:local_address()
    local events = {}
    server:on("close", function() events[#events + 1] = "server" end)
    server:on("connection", function(conn)
      conn:on("close", function() events[#events + 1] = "accepted" end)
      conn:close()
    end)
    rtc.spawn(function()
      local c = assert(rtc.tcp_connect("127.0.0.1", port))
      assert.is_nil(c:read())            -- the server closed it
      c:close()
      local ok, err = c:write("x")
      assert.is_nil(ok)
      assert.matches("^InvalidStateError", err)
      server:close()
    end)
    rtc.run()
    table.sort(events)
    assert.same({ "accepted", "server" }, events)
  end)
end)

describe("resolve", function()
  it("resolves localhost and numeric addresses", function()
    local a, b, c, cerr
    rtc.spawn(function()
      a = rtc.resolve("localhost")
      b = rtc.resolve("::1")
      c, cerr = rtc.resolve("no-such-host.invalid")
    end)
    rtc.run()
    assert.is_table(a)
    local found = false
    for _, ip in ipairs(a) do if ip == "127.0.0.1" or ip == "::1" then found = true end end
    assert.is_true(found)
    assert.same({ "::1" }, b)
    assert.is_nil(c)
    assert.matches("^NotFoundError: ", cerr)
  end)
end)
