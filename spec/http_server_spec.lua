-- The Lua HTTP/1.1 and WebSocket server and client (modules/http.lua) over real TCP
-- on 127.0.0.1, plus Python's `websockets` client against our server.
local rtc = require "rtc"
local core = require "rtc.core"
local http = require "http"
local child = require "support.child"

local SRC = os.getenv("RTC_SOURCE_DIR") or "."

-- A static root with a few files.
local root = os.tmpname()
os.remove(root)
os.execute("mkdir -p " .. root .. "/sub")
local function put(name, data) local f = assert(io.open(root .. "/" .. name, "wb")); f:write(data); f:close() end
put("index.html", "<!doctype html><title>x</title>")
put("app.js", "console.log(1)")
put("style.css", "body{}")
put("sub/data.json", '{"a":1}')
put("logo.png", "\137PNG\r\n\26\n")
put(".secret", "no")

local function run(opts, fn)
  local failure
  local guard = rtc.set_timeout(20000, function() failure = failure or "test timed out"; rtc.stop() end)
  rtc.spawn(function()
    local srv = assert(http.server(opts))
    srv:route("GET", "/hello", function(req) return 200, "hello " .. (req.query or ""), { ["Content-Type"] = "text/plain" } end)
    srv:route("POST", "/echo", function(req) return 200, req.body, { ["X-Len"] = #req.body } end)
    srv:websocket("/ws", function(ws)
      ws:on("message", function(data, binary)
        if data == "close-me" then return ws:close(4321, "requested") end
        if binary then ws:send_binary(data) else ws:send("echo:" .. data) end
      end)
    end)
    srv:websocket("/strict", function(ws) ws:on("message", function(d) ws:send(d) end) end,
                  { origins = { "http://good.example" } })
    local ok, err = xpcall(fn, debug.traceback, srv)
    if not ok then failure = err end
    srv:close()
    guard:stop()
  end)
  rtc.run()
  if failure then error(failure, 0) end
end

-- Sends raw bytes (a string, or a list of pieces written one by one with a pause),
-- reads until `n` responses parsed or the server closes. Returns responses, closed.
local function exchange(port, raw, n, pause)
  local conn = assert(rtc.tcp_connect("127.0.0.1", port))
  if type(raw) == "table" then
    for _, piece in ipairs(raw) do conn:write(piece); if pause then rtc.sleep(pause) end end
  else
    conn:write(raw)
  end
  local parser = core.http_parser("response")
  local out, closed = {}, false
  while #out < n do
    local data = conn:read()
    if not data then
      local m = parser:eof()
      if m then out[#out + 1] = m end
      closed = true
      break
    end
    local pos = 1
    while pos <= #data do
      local used, msg, status = parser:feed(data, pos)
      pos = pos + used
      if msg then out[#out + 1] = msg end
      if status or used == 0 then break end
    end
  end
  if not closed then
    -- does the server close after the last reply? (only wait briefly)
    local t = rtc.set_timeout(300, function() conn:close() end)
    local d = conn:read()
    closed = d == nil and not conn:is_closed()
    t:stop()
  end
  conn:close()
  return out, closed
end

-- spec/http_ws_python_client.py (Python's websockets) against spec/http_test_server.lua
-- serving root, over wss when cert and key are given: the client must see every echo,
-- fragment, ping and close code right.
local function python_client_against(cert, key)
  local q = {}
  for i, a in ipairs { os.getenv("LUARTC") or "luartc", SRC .. "/spec/http_test_server.lua", root, cert, key } do
    q[i] = child.quote(a)
  end
  local p = assert(io.popen(table.concat(q, " "), "r"))
  local port = assert(p:read("l"):match("^PORT (%d+)$"))
  local out = os.tmpname()
  local url = (cert and "wss" or "ws") .. "://127.0.0.1:" .. port .. "/echo"
  local ok = os.execute("timeout 30 /usr/bin/python3 " .. child.quote(SRC .. "/spec/http_ws_python_client.py") ..
                        " " .. url .. (cert and " " .. child.quote(cert) or "") .. " >" .. out .. " 2>&1")
  local text = child.slurp(out)
  os.remove(out)
  local quit = cert and ("import ssl, urllib.request; urllib.request.urlopen('https://127.0.0.1:" .. port ..
                         "/quit', context=ssl._create_unverified_context()).read()")
                    or ("import urllib.request; urllib.request.urlopen('http://127.0.0.1:" .. port .. "/quit').read()")
  os.execute("timeout 5 /usr/bin/python3 -c \"" .. quit .. "\"")
  p:close()
  assert.is_true(ok, text)
  local seen = assert(rtc.json.decode(text:match("{.*}")), text)
  assert.equal("hello", seen.text)
  assert.same({ 0, 1, 254, 255 }, seen.binary)
  assert.equal("fragmented \u{20ac}", seen.fragmented)
  assert.is_true(seen.pong)
  assert.equal(4000, seen.server_close)
  assert.equal(1009, seen.too_big)
  assert.equal("bye", seen.bye)
  assert.equal(1000, seen.closed)
end

describe("http server", function()
  it("serves routes and keeps the connection alive across pipelined requests", function()
    run({ port = 0, static = root }, function(srv)
      local res, closed = exchange(srv.port,
        "GET /hello?x=1 HTTP/1.1\r\nHost: a\r\n\r\n" ..
        "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nabcde" ..
        "GET /hello HTTP/1.1\r\nHost: a\r\n\r\n", 3)
      assert.equal(3, #res)
      assert.equal(200, res[1].status)
      assert.equal("hello x=1", res[1].body)
      assert.equal("abcde", res[2].body)
      assert.equal("5", res[2].headers["x-len"])
      assert.equal("hello ", res[3].body)
      assert.is_true(res[3].keep_alive)
      assert.is_false(closed)
      -- Connection: close is honoured
      res, closed = exchange(srv.port, "GET /hello HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", 1)
      assert.equal(200, res[1].status)
      assert.equal("close", res[1].headers.connection)
      assert.is_true(closed)
      -- HTTP/1.0 without keep-alive closes too
      res, closed = exchange(srv.port, "GET /hello HTTP/1.0\r\n\r\n", 1)
      assert.equal(200, res[1].status)
      assert.is_true(closed)
      -- wrong method on a route
      res = exchange(srv.port, "DELETE /hello HTTP/1.1\r\nHost: a\r\n\r\n", 1)
      assert.equal(405, res[1].status)
      assert.equal("GET", res[1].headers.allow)
    end)
  end)

  it("routes by the longest prefix, answers 405 with Allow, and 500 for a handler that raises", function()
    run({ port = 0 }, function(srv)
      srv:route_prefix("GET", "/p/", function(_, rest) return 200, "short:" .. rest end)
      srv:route_prefix("GET", "/p/long/", function(_, rest) return 201, "long:" .. rest end)
      srv:route_prefix("PUT", "/p/", function() return 204 end)
      srv:route_prefix("GET", "/boom/", function() error("prefix handler failed") end)
      srv:route("GET", "/raise", function() error("route handler failed") end)
      srv:route("GET", "/nil", function() end)
      local res = exchange(srv.port, "GET /p/a/b HTTP/1.1\r\nHost: a\r\n\r\n", 1)
      assert.equal(200, res[1].status)
      assert.equal("short:a/b", res[1].body)
      res = exchange(srv.port, "GET /p/long/x HTTP/1.1\r\nHost: a\r\n\r\n", 1)
      assert.equal(201, res[1].status)
      assert.equal("long:x", res[1].body)
      res = exchange(srv.port, "DELETE /p/x HTTP/1.1\r\nHost: a\r\n\r\n", 1)
      assert.equal(405, res[1].status)
      assert.equal("GET, PUT", res[1].headers.allow)
      for _, path in ipairs { "/boom/x", "/raise" } do
        res = exchange(srv.port, "GET " .. path .. " HTTP/1.1\r\nHost: a\r\n\r\n", 1)
        assert.equal(500, res[1].status, path)
        assert.equal("internal error\n", res[1].body, path)
      end
      res = exchange(srv.port, "GET /nil HTTP/1.1\r\nHost: a\r\n\r\n", 1)   -- no status: 200
      assert.equal(200, res[1].status)
    end)
  end)

  it("serves static files with their content types and refuses traversal", function()
    run({ port = 0, static = root }, function(srv)
      local base = "http://127.0.0.1:" .. srv.port
      local cases = {
        { "/", "text/html; charset=utf-8", "<!doctype html><title>x</title>" },
        { "/app.js", "text/javascript; charset=utf-8" },
        { "/style.css", "text/css; charset=utf-8" },
        { "/sub/data.json", "application/json" },
        { "/logo.png", "image/png" },
        { "/sub/./../app.js?v=3", "text/javascript; charset=utf-8" },
      }
      for _, c in ipairs(cases) do
        local r = assert(http.request(base .. c[1]))
        assert.equal(200, r.status, c[1])
        assert.truthy(r.headers["content-type"]:find(c[2]:match("^[^;]+"), 1, true), c[1] .. " " .. r.headers["content-type"])
        if c[3] then assert.equal(c[3], r.body) end
      end
      local r = assert(http.request(base .. "/app.js", { method = "HEAD" }))
      assert.equal(200, r.status)
      assert.equal("14", r.headers["content-length"])
      assert.equal("", r.body)
      assert.equal(404, assert(http.request(base .. "/missing.txt")).status)
      -- traversal and dot-files, raw so no client normalises them first
      for _, target in ipairs { "/../etc/passwd", "/sub/../../etc/passwd", "/%2e%2e/etc/passwd",
                                "/sub%2f..%2f..%2fetc/passwd", "/.secret", "/a\\..\\b" } do
        local res = exchange(srv.port, "GET " .. target .. " HTTP/1.1\r\nHost: a\r\n\r\n", 1)
        assert.is_true(res[1].status == 403 or res[1].status == 400, target .. " -> " .. tostring(res[1].status))
        assert.is_nil(res[1].body:find("root:", 1, true))
      end
    end)
  end)

  it("answers oversized requests with 413/431/414 and closes", function()
    run({ port = 0, static = root, limits = { max_body = 1000, max_header_bytes = 2000, max_start_line = 500 } }, function(srv)
      local res, closed = exchange(srv.port, "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\n", 1)
      assert.equal(413, res[1].status)
      assert.is_true(closed)
      res, closed = exchange(srv.port, "GET /hello HTTP/1.1\r\nHost: a\r\nX: " .. string.rep("y", 3000) .. "\r\n\r\n", 1)
      assert.equal(431, res[1].status)
      assert.is_true(closed)
      res = exchange(srv.port, "GET /" .. string.rep("a", 1000) .. " HTTP/1.1\r\nHost: a\r\n\r\n", 1)
      assert.equal(414, res[1].status)
      res = exchange(srv.port, "GARBAGE\r\n\r\n", 1)
      assert.equal(400, res[1].status)
      -- still serving
      assert.equal(200, assert(http.request("http://127.0.0.1:" .. srv.port .. "/hello")).status)
    end)
  end)

  it("serves a slow client that sends one byte at a time, and times out a stalled one", function()
    run({ port = 0, static = root, header_timeout = 1 }, function(srv)
      local req = "GET /hello?slow HTTP/1.1\r\nHost: a\r\n\r\n"
      local pieces = {}
      for i = 1, #req do pieces[i] = req:sub(i, i) end
      local res = exchange(srv.port, pieces, 1, 0.005)
      assert.equal(200, res[1].status)
      assert.equal("hello slow", res[1].body)
      -- a client that never finishes its head is cut off by header_timeout
      local t0 = rtc.now()
      local out, closed = exchange(srv.port, "GET /hello HTTP/1.1\r\nHo", 1)
      assert.equal(0, #out)
      assert.is_true(closed)
      assert.is_true(rtc.now() - t0 >= 900)
    end)
  end)
end)

describe("websocket", function()
  it("our client against our server: text, binary, fragments, ping, close codes, size limit", function()
    run({ port = 0, max_message = 10000 }, function(srv)
      local url = "ws://127.0.0.1:" .. srv.port .. "/ws"
      local ws = assert(http.ws_connect(url))
      local pongs = 0
      ws:on("pong", function(d) if d == "pp" then pongs = pongs + 1 end end)
      assert(ws:send("hello"))
      assert.same({ "echo:hello", false }, { ws:receive() })
      assert(ws:send_binary("\0\1\2\255"))
      assert.same({ "\0\1\2\255", true }, { ws:receive() })
      assert(ws:send_fragment("text", "frag", false))
      assert(ws:ping("pp"))
      assert(ws:send_fragment("continuation", "mented \u{20ac}", true))
      assert.same({ "echo:fragmented \u{20ac}", false }, { ws:receive() })
      assert.equal(1, pongs)
      assert.is_nil(ws:send("\255bad"))       -- invalid UTF-8 is refused locally
      assert(ws:send("close-me"))
      local d, code, reason = ws:receive()
      assert.is_nil(d)
      assert.equal(4321, code)
      assert.equal("requested", reason)
      -- a message over the server's max_message closes with 1009
      local ws2 = assert(http.ws_connect(url))
      ws2:send(string.rep("z", 20000))
      d, code = ws2:receive()
      assert.is_nil(d)
      assert.equal(1009, code)
      -- a client-initiated clean close
      local ws3 = assert(http.ws_connect(url))
      ws3:close(1000, "done")
      d, code = ws3:receive()
      assert.equal(1000, code)
      -- a plain GET on the WebSocket path without upgrade headers is not upgraded
      local r = assert(http.request("http://127.0.0.1:" .. srv.port .. "/ws"))
      assert.equal(404, r.status)
    end)
  end)

  it("delivers messages queued before the message handler is set, in order", function()
    run({ port = 0 }, function(srv)
      local ws = assert(http.ws_connect("ws://127.0.0.1:" .. srv.port .. "/ws"))
      local ponged = false
      ws:on("pong", function() ponged = true end)
      for _, m in ipairs { "one", "two", "three" } do assert(ws:send(m)) end
      assert(ws:ping("p"))
      -- The server answers in order: once the pong is here, the three echoes are queued.
      for _ = 1, 400 do if ponged then break end rtc.sleep(0.01) end
      assert.is_true(ponged)
      local got = {}
      ws:on("message", function(d) got[#got + 1] = d end)
      assert.same({ "echo:one", "echo:two", "echo:three" }, got)
      assert(ws:send("four"))
      for _ = 1, 400 do if #got == 4 then break end rtc.sleep(0.01) end
      assert.equal("echo:four", got[4])
      ws:close()
      for _ = 1, 400 do if ws.state == "closed" then break end rtc.sleep(0.01) end
    end)
  end)

  it("refuses a bad handshake with 400/426", function()
    run({ port = 0 }, function(srv)
      local res = exchange(srv.port, "GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" ..
                                     "Sec-WebSocket-Version: 8\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", 1)
      assert.equal(426, res[1].status)
      res = exchange(srv.port, "GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" ..
                               "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: short\r\n\r\n", 1)
      assert.equal(400, res[1].status)
      -- an origin list refuses other pages with 403 and admits listed ones
      local url = "ws://127.0.0.1:" .. srv.port .. "/strict"
      local ws, err, resp = http.ws_connect(url, { origin = "http://evil.example" })
      assert.is_nil(ws)
      assert.equal(403, resp.status, err)
      assert.is_nil((http.ws_connect(url)))
      ws = assert(http.ws_connect(url, { origin = "http://good.example" }))
      ws:send("ok")
      assert.equal("ok", ws:receive())
      ws:close()
      ws:receive()
    end)
  end)

  it("Python's websockets client against our server", function()
    local code = os.execute("/usr/bin/python3 -c 'import websockets' 2>/dev/null")
    if not code then
      -- python3-websockets is part of the project's install list; say so loudly.
      error("python3-websockets is not installed (apt-get install python3-websockets)")
    end
    python_client_against(nil, nil)
  end)
end)

describe("tls (https, wss)", function()
  local CERT, KEY = os.tmpname(), os.tmpname()
  setup(function()
    assert(os.execute(string.format("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes " ..
      "-keyout %s -out %s -days 2 -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null",
      child.quote(KEY), child.quote(CERT))))
  end)
  teardown(function() os.remove(CERT); os.remove(KEY) end)

  it("our client: https static files and routes, wss echo, certificate checks", function()
    run({ port = 0, static = root, tls = { cert = CERT, key = KEY }, max_message = 100000 }, function(srv)
      assert.equal("https", srv.scheme)
      local base = "https://127.0.0.1:" .. srv.port
      local r = assert(http.request(base .. "/app.js", { ca = CERT }))
      assert.equal(200, r.status)
      assert.equal("console.log(1)", r.body)
      assert.matches("javascript", r.headers["content-type"])
      r = assert(http.request(base .. "/hello?x", { ca = CERT, servername = "localhost" }))
      assert.equal("hello x", r.body)
      local big = string.rep("0123456789abcdef", 40000)      -- 640 KB: many TLS records
      r = assert(http.request(base .. "/echo", { ca = CERT, method = "POST", body = big }))
      assert.equal(#big, #r.body)
      assert.is_true(r.body == big)
      -- the certificate is checked: unknown issuer, wrong name; insecure skips the check
      local none, err = http.request(base .. "/hello", { timeout = 5 })
      assert.is_nil(none)
      assert.matches("certificate verify failed", err)
      none, err = http.request(base .. "/hello", { ca = CERT, servername = "example.org" })
      assert.is_nil(none)
      assert.matches("hostname mismatch", err)
      assert.equal(200, assert(http.request(base .. "/hello", { insecure = true })).status)

      local ws = assert(http.ws_connect("wss://127.0.0.1:" .. srv.port .. "/ws", { ca = CERT }))
      assert(ws:send("hello"))
      assert.same({ "echo:hello", false }, { ws:receive() })
      local blob = string.rep("\1\2\3\250", 20000)
      assert(ws:send_binary(blob))
      assert.same({ blob, true }, { ws:receive() })
      assert(ws:send("close-me"))
      local d, code = ws:receive()
      assert.is_nil(d)
      assert.equal(4321, code)
      -- ws:// to a wss server gets no WebSocket
      assert.is_nil((http.ws_connect("ws://127.0.0.1:" .. srv.port .. "/ws", { timeout = 5 })))
    end)
  end)

  it("refuses plain HTTP on the TLS port cleanly and keeps serving", function()
    run({ port = 0, static = root, tls = { cert = CERT, key = KEY } }, function(srv)
      local res, closed = exchange(srv.port, "GET /index.html HTTP/1.1\r\nHost: a\r\n\r\n", 1)
      assert.equal(0, #res)
      assert.is_true(closed)
      -- garbage, then a TLS ClientHello cut short and abandoned
      local conn = assert(rtc.tcp_connect("127.0.0.1", srv.port))
      conn:write("\22\3\1\0\200" .. string.rep("\0", 20))
      conn:close()
      local r = assert(http.request("https://127.0.0.1:" .. srv.port .. "/index.html", { ca = CERT }))
      assert.equal(200, r.status)
      assert.matches("text/html", r.headers["content-type"])
      -- an https client at a plain server fails cleanly too
      local run_plain = assert(http.server { port = 0 })
      local none, err = http.request("https://127.0.0.1:" .. run_plain.port .. "/", { insecure = true, timeout = 5 })
      run_plain:close()
      assert.is_nil(none)
      assert.matches("TLS", err)
    end)
  end)

  it("examples/signaling_server.lua --cert --key: demo page over https, two clients relay over wss", function()
    local signaling = require "signaling"
    local probe = assert(rtc.tcp_listen { host = "127.0.0.1", port = 0 })
    local _, port = probe:local_address()
    probe:close()
    local luartc = os.getenv("LUARTC") or "luartc"
    local pidf, outf = os.tmpname(), os.tmpname()
    os.execute(child.quote(luartc) .. " " .. child.quote(SRC .. "/examples/signaling_server.lua") .. " --listen 127.0.0.1:" ..
               port .. " --cert " .. child.quote(CERT) .. " --key " .. child.quote(KEY) .. " >" .. outf .. " 2>&1 & echo $! >" .. pidf)
    local pid = assert(tonumber(child.slurp(pidf):match("%d+")))
    local failure
    rtc.spawn(function()
      local ok, err = xpcall(function()
        for _ = 1, 200 do
          if child.slurp(outf):find("signaling on", 1, true) then break end
          rtc.sleep(0.02)
        end
        local text = child.slurp(outf)
        assert.truthy(text:find("signaling on wss://127.0.0.1:" .. port .. "/ws", 1, true), text)
        assert.truthy(text:find("demo page on https://127.0.0.1:" .. port, 1, true), text)
        local page = assert(http.request("https://127.0.0.1:" .. port .. "/?room=demo", { ca = CERT }))
        assert.equal(200, page.status)
        assert.matches("text/html", page.headers["content-type"])
        local url = "wss://127.0.0.1:" .. port .. "/ws"
        local a = assert(signaling.connect(url, { room = "tls", ca = CERT }))
        local b = assert(signaling.connect(url, { room = "tls", ca = CERT }))
        assert(a:send { type = "offer", to = b.id, sdp = "v=0 over tls" })
        local got = assert(b:wait("offer", 5))
        assert.equal("v=0 over tls", got.sdp)
        assert.equal(a.id, got.from)
        a:close(); b:close()
        -- a bot joins over wss when told which certificate to trust (--ca in its command line)
        local bot = assert(assert(loadfile(SRC .. "/examples/chat_bot.lua"))({ url = url, room = "tls-bot", ca = CERT }))
        local c = assert(signaling.connect(url, { room = "tls-bot", ca = CERT }))
        local listed = false
        for _, info in pairs(c.peers) do if info.bot then listed = true end end
        assert.is_true(listed, "the chat bot is a member of the room")
        bot.stop(); c:close()
        -- a client that does not trust the certificate is refused before any WebSocket
        local none, e2 = signaling.connect(url, { room = "tls", timeout = 5 })
        assert.is_nil(none)
        assert.matches("certificate verify failed", e2)
      end, debug.traceback)
      if not ok then failure = err end
    end)
    rtc.run()
    local exited = child.interrupt(pid)
    os.remove(pidf); os.remove(outf)
    if failure then error(failure, 0) end
    assert.is_true(exited, "server did not stop on SIGINT")
  end)

  it("Python's websockets client over wss", function()
    python_client_against(CERT, KEY)
  end)
end)

describe("tls in Chromium", function()
  -- A page loaded over https from examples/signaling_server.lua --cert --key opens two
  -- WebSockets to wss://same-host/ws and relays a message from one to the other. The
  -- browser accepts our self-signed certificate with --ignore-certificate-errors. All
  -- of it runs in a private network namespace (spec/browser/isolated.sh).
  local PAGE = [[<!doctype html><title>wait</title><script>
  const url = "wss://" + location.host + "/ws?room=tls";
  function join() {
    return new Promise((ok, fail) => {
      const ws = new WebSocket(url);
      ws.onmessage = (e) => { const m = JSON.parse(e.data); if (m.type === "welcome") ok([ws, m.id]); };
      ws.onerror = () => fail(new Error("websocket error"));
    });
  }
  (async () => {
    try {
      const [a, aid] = await join();
      const [b, bid] = await join();
      b.onmessage = (e) => {
        const m = JSON.parse(e.data);
        if (m.type === "offer") document.title = "ok " + location.protocol + " " + m.sdp + " " + (m.from === aid);
      };
      a.send(JSON.stringify({ type: "offer", to: bid, sdp: "from-chromium" }));
    } catch (e) { document.title = "error " + e; }
  })();
  </script>]]
  local DRIVER = [[
  const { chromium } = require(process.argv[2] + "/spec/browser/node_modules/playwright-core");
  const fs = require("fs"), os = require("os"), path = require("path");
  (async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tls-chromium-"));
    const ctx = await chromium.launchPersistentContext(dir, {
      executablePath: process.env.CHROMIUM || "/usr/bin/chromium", headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--ignore-certificate-errors"] });
    let title = "none";
    try {
      const page = await ctx.newPage();
      await page.goto(process.argv[3], { timeout: 20000 });
      await page.waitForFunction(() => document.title !== "wait", null, { timeout: 20000 });
      title = await page.title();
    } catch (e) { title = "driver error " + e.message; }
    await ctx.close();
    fs.rmSync(dir, { recursive: true, force: true });
    console.log(JSON.stringify({ title }));
  })();
  ]]

  it("a page over https relays a message over wss through our signaling server", function()
    if not os.execute("test -x /usr/bin/chromium -a -d " .. child.quote(SRC .. "/spec/browser/node_modules/playwright-core")) then
      error("Chromium and spec/browser's playwright-core are needed for this test")
    end
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p " .. child.quote(dir .. "/web")))
    local cert, key = dir .. "/cert.pem", dir .. "/key.pem"
    assert(os.execute(string.format("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes " ..
      "-keyout %s -out %s -days 2 -subj /CN=localhost 2>/dev/null", child.quote(key), child.quote(cert))))
    local f = assert(io.open(dir .. "/web/index.html", "w")); f:write(PAGE); f:close()
    f = assert(io.open(dir .. "/driver.js", "w")); f:write(DRIVER); f:close()
    local port = 20000 + math.random(0, 20000)
    local luartc = os.getenv("LUARTC") or "luartc"
    local script = table.concat({
      child.quote(luartc), child.quote(SRC .. "/examples/signaling_server.lua"), "--listen", "127.0.0.1:" .. port,
      "--cert", child.quote(cert), "--key", child.quote(key), "--web", child.quote(dir .. "/web"),
      ">" .. child.quote(dir .. "/server.log"), "2>&1 & pid=$!;",
      "for i in $(seq 100); do grep -q 'signaling on' " .. child.quote(dir .. "/server.log") .. " && break; sleep 0.05; done;",
      "env -u LD_PRELOAD timeout 60 node", child.quote(dir .. "/driver.js"), child.quote(SRC),
      "https://127.0.0.1:" .. port .. "/;", "kill -INT $pid; wait $pid",
    }, " ")
    local p = assert(io.popen(child.quote(SRC .. "/spec/browser/isolated.sh") .. " sh -c " .. child.quote(script), "r"))
    local out = p:read("a")
    p:close()
    local log = child.slurp(dir .. "/server.log")
    os.execute("rm -rf " .. child.quote(dir))
    local r = rtc.json.decode(out:match("{.*}") or "null")
    assert.is_table(r, out .. "\n" .. log)
    assert.equal("ok https: from-chromium true", r.title, log)
  end)
end)

describe("codec binding", function()
  it("survives random and mutated input without crashing or growing", function()
    local valid = "GET /a?b=c HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
    math.randomseed(7)
    local errors, messages = 0, 0
    for round = 1, 3000 do
      local p = core.http_parser(round % 2 == 0 and "request" or "response", { max_body = 4096 })
      local data
      if round % 3 == 0 then
        local t = {}
        for i = 1, math.random(1, 200) do t[i] = string.char(math.random(0, 255)) end
        data = table.concat(t)
      else
        local i = math.random(1, #valid)
        data = valid:sub(1, i - 1) .. string.char(math.random(0, 255)) .. valid:sub(i + 1)
      end
      local pos = 1
      while pos <= #data do
        local used, msg, status = p:feed(data, pos)
        pos = pos + used
        if msg then messages = messages + 1 end
        if status then errors = errors + 1; break end
        if used == 0 then break end
      end
      p:close()
      local ws = core.ws_new { role = round % 2 == 0 and "server" or "client", max_message = 1000 }
      pos = 1
      while pos <= #data do
        local used, err = ws:feed(data, pos)
        pos = pos + used
        while ws:poll_event() do end
        ws:output()
        if err or used == 0 then break end
      end
      ws:free()
    end
    assert.is_true(errors > 100)
    assert.is_true(messages > 100)
  end)

  it("base64 and URL decoding: RFC 4648 section 10 vectors, one-argument calls", function()
    local vectors = { [""] = "", f = "Zg==", fo = "Zm8=", foo = "Zm9v", foob = "Zm9vYg==",
                      fooba = "Zm9vYmE=", foobar = "Zm9vYmFy" }
    for plain, enc in pairs(vectors) do
      assert.equal(enc, core.base64_encode(plain))
      assert.equal(plain, core.base64_decode(enc))
      -- base64url (section 5), unpadded
      local url = enc:gsub("=", "")
      assert.equal(url, core.base64_encode(plain, true))
      assert.equal(plain, core.base64_decode(url, true))
    end
    assert.equal("++//", core.base64_encode("\251\239\255"))
    assert.equal("--__", core.base64_encode("\251\239\255", true))
    assert.equal("\251\239\255", core.base64_decode("++//"))
    assert.equal("A", core.base64_decode("QQ=="))
    assert.is_nil(core.base64_decode("QQ"))          -- standard base64 must be padded
    assert.is_nil(core.base64_decode("QQ==", true))  -- base64url must not be
    assert.equal("a+b c", core.http_url_decode("a+b%20c"))
    assert.equal("a b c", core.http_url_decode("a+b%20c", true))
  end)

  it("refuses header injection in responses", function()
    assert.has_error(function() core.http_response(200, { ["X-A"] = "v\r\nSet-Cookie: x" }, "", true) end)
    assert.has_error(function() core.http_response(200, { ["Bad Name"] = "v" }, "", true) end)
    local r = core.http_response(200, { ["X-A"] = "v" }, "body", false)
    assert.truthy(r:find("Connection: close\r\n", 1, true))
    assert.truthy(r:find("\r\n\r\nbody$"))
  end)
end)

describe("http client errors", function()
  -- A TCP server that writes `reply` to every connection once it has read a request,
  -- then closes it.
  local function canned(reply)
    local server = assert(rtc.tcp_listen { host = "127.0.0.1", port = 0 })
    server:on("connection", function(conn)
      rtc.spawn(function()
        conn:read()
        if reply ~= "" then conn:write(reply) end
        conn:close()
      end)
    end)
    local _, port = server:local_address()
    return server, port
  end

  it("name the URL a client cannot use and a server that closes or answers garbage", function()
    local results = {}
    run({ port = 0 }, function()
      local function try(name, f, ...) results[name] = { f(...) } end
      try("http scheme", http.request, "ws://127.0.0.1:1/x")
      try("ws scheme", http.ws_connect, "http://127.0.0.1:1/x")
      try("no url", http.request, "nowhere")
      local closing, cport = canned("")
      try("http closed", http.request, "http://127.0.0.1:" .. cport .. "/", { timeout = 5 })
      try("ws closed", http.ws_connect, "ws://127.0.0.1:" .. cport .. "/", { timeout = 5 })
      closing:close()
      local junk, jport = canned("NOT HTTP AT ALL\r\n\r\n")
      try("http junk", http.request, "http://127.0.0.1:" .. jport .. "/", { timeout = 5 })
      try("ws junk", http.ws_connect, "ws://127.0.0.1:" .. jport .. "/", { timeout = 5 })
      junk:close()
    end)
    assert.same({ nil, "SyntaxError: unsupported URL ws://127.0.0.1:1/x" }, results["http scheme"])
    assert.same({ nil, "SyntaxError: unsupported WebSocket URL http://127.0.0.1:1/x" }, results["ws scheme"])
    assert.same({ nil, "SyntaxError: unsupported URL nowhere" }, results["no url"])
    assert.is_nil(results["http closed"][1])
    assert.matches("^NetworkError", results["http closed"][2])
    assert.same({ nil, "NetworkError: connection closed during the WebSocket handshake" }, results["ws closed"])
    assert.is_nil(results["http junk"][1])
    assert.matches("^SyntaxError: ", results["http junk"][2])
    assert.is_nil(results["ws junk"][1])
    assert.matches("^SyntaxError: bad handshake response: ", results["ws junk"][2])
  end)
end)
