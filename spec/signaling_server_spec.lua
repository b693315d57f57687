-- The signaling module over real TCP on 127.0.0.1: Lua clients join rooms, relay
-- offer/answer/candidate, and the server enforces tokens and limits.
local rtc = require "rtc"
local http = require "http"
local signaling = require "signaling"
local json = rtc.json

-- Runs fn as a task with a fresh server; the loop must end by itself.
local function with_server(opts, fn)
  local failure
  local guard = rtc.set_timeout(20000, function() failure = failure or "test timed out"; rtc.stop() end)
  rtc.spawn(function()
    local sig, srv = assert(signaling.listen(opts))
    local url = "ws://127.0.0.1:" .. srv.port .. "/ws"
    local ok, err = xpcall(fn, debug.traceback, url, sig, srv)
    if not ok then failure = err end
    srv:close()
    guard:stop()   -- from here the loop must wind down by itself
  end)
  rtc.run()
  if failure then error(failure, 0) end
end

describe("signaling", function()
  it("relays offer/answer/candidate between two peers, with join and leave notices", function()
    local joins, leaves = {}, {}
    with_server({ host = "127.0.0.1", port = 0, on_join = function(p) joins[#joins + 1] = p.id end,
                  on_leave = function(p) leaves[#leaves + 1] = p.id end }, function(url)
      local a = assert(signaling.connect(url, { room = "r1", peer = "alice", info = { name = "A" } }))
      assert.equal("alice", a.id)
      assert.same({}, a.peers)
      local b = assert(signaling.connect(url, { room = "r1", peer = "bob" }))
      assert.equal("A", b.peers.alice.name)
      local j = assert(a:wait("join", 5))
      assert.equal("bob", j.id)
      assert.same({ "alice", "bob" }, j.peers)
      assert(a:send { type = "offer", to = "bob", sdp = "v=0\r\n" })
      local offer = assert(b:wait("offer", 5))
      assert.equal("alice", offer.from)
      assert.equal("v=0\r\n", offer.sdp)
      assert(b:send { type = "answer", to = "alice", sdp = "v=0 answer" })
      assert.equal("v=0 answer", assert(a:wait("answer", 5)).sdp)
      assert(b:send { type = "candidate", to = "alice", candidate = "candidate:1 1 udp 1 127.0.0.1 9 typ host",
                      sdpMid = "0", sdpMLineIndex = 0 })
      local c = assert(a:wait("candidate", 5))
      assert.equal("0", c.sdpMid)
      assert.equal("bob", c.from)
      -- broadcast app message (no `to`)
      assert(a:send { type = "chat", text = "hi all" })
      assert.equal("hi all", assert(b:wait("chat", 5)).text)
      b:close()
      local l = assert(a:wait("leave", 5))
      assert.equal("bob", l.id)
      assert.same({ "alice" }, l.peers)
      -- to a peer that left
      assert(a:send { type = "offer", to = "bob", sdp = "x" })
      local e = assert(a:wait("error", 5))
      assert.equal("unknown-peer", e.error)
      assert.equal("offer", e.ref)
      a:close()
      a:wait(function() return false end, 2)
    end)
    assert.same({ "alice", "bob" }, joins)
    assert.same({ "bob", "alice" }, leaves)
  end)

  it("answers malformed JSON with an error and keeps the connection", function()
    with_server({ port = 0 }, function(url)
      local a = assert(signaling.connect(url, { room = "r" }))
      assert(a.id and #a.id > 0)
      a:send("{not json")
      assert.equal("bad-json", assert(a:wait("error", 5)).error)
      a:send("[1,2]")
      assert.equal("bad-json", assert(a:wait("error", 5)).error)
      a:send('{"to":"x"}')
      assert.equal("bad-message", assert(a:wait("error", 5)).error)
      a:send('{"type":"ping"}')
      assert(a:wait("pong", 5))
      a:close()
      a:wait(function() return false end, 2)
    end)
  end)

  it("refuses a bad token with 4001 and an expired one with 4002; accepts a valid one", function()
    local secret = "top secret"
    with_server({ port = 0, secret = secret }, function(url)
      local c, err, code = signaling.connect(url, { room = "r" })
      assert.is_nil(c)
      assert.equal(4001, code, err)
      local forged = signaling.make_token("wrong", { room = "r", ttl = 60 })
      c, err, code = signaling.connect(url, { room = "r", token = forged })
      assert.is_nil(c)
      assert.equal(4001, code)
      local other_room = signaling.make_token(secret, { room = "other", ttl = 60 })
      c, err, code = signaling.connect(url, { room = "r", token = other_room })
      assert.equal(4001, code)
      local expired = signaling.make_token(secret, { room = "r", exp = os.time() - 1 })
      c, err, code = signaling.connect(url, { room = "r", token = expired })
      assert.is_nil(c)
      assert.equal(4002, code, err)
      local good = signaling.make_token(secret, { room = "r", peer = "p1", ttl = 60 })
      c = assert(signaling.connect(url, { token = good }))
      assert.equal("p1", c.id)
      assert.equal("r", c.room)
      c:close()
      c:wait(function() return false end, 2)
    end)
  end)

  it("enforces the room size limit and refuses duplicate peer ids", function()
    with_server({ port = 0, max_peers = 2 }, function(url)
      local a = assert(signaling.connect(url, { room = "small", peer = "a" }))
      local c, _, code = signaling.connect(url, { room = "small", peer = "a" })
      assert.is_nil(c)
      assert.equal(4006, code)
      local b = assert(signaling.connect(url, { room = "small", peer = "b" }))
      c, _, code = signaling.connect(url, { room = "small", peer = "c" })
      assert.is_nil(c)
      assert.equal(4003, code)
      -- another room is fine
      local d = assert(signaling.connect(url, { room = "other", peer = "c" }))
      a:close(); b:close(); d:close()
      d:wait(function() return false end, 1)
    end)
  end)

  it("drops a client over the rate or size limit while others continue", function()
    with_server({ port = 0, rate = 10, burst = 20, max_message_size = 1000 }, function(url, sig)
      local good = assert(signaling.connect(url, { room = "r", peer = "good" }))
      local flood = assert(signaling.connect(url, { room = "r", peer = "flood" }))
      local big = assert(signaling.connect(url, { room = "r", peer = "big" }))
      for i = 1, 100 do flood:send { type = "spam", to = "good", n = i } end
      assert.is_nil(flood:wait(function() return false end, 5))
      assert.equal(4004, flood.close_code)
      big:send { type = "blob", to = "good", data = string.rep("x", 1500) }
      assert.is_nil(big:wait(function() return false end, 5))
      assert.equal(4005, big.close_code)
      -- good got at most the burst of spam, and can still talk
      local spam = 0
      while good:wait("spam", 0.05) do spam = spam + 1 end
      assert.is_true(spam <= 20 and spam >= 1, "spam " .. spam)
      assert(good:send { type = "ping" })
      assert(good:wait("pong", 5))
      assert.same({ "good" }, sig:members("r"))
      assert.equal(2, sig.stats.dropped)
      good:close()
      good:wait(function() return false end, 1)
    end)
  end)

  it("lets hooks refuse joins and rewrite or drop messages", function()
    with_server({ port = 0,
                  on_join = function(peer) if peer.id == "mallory" then return false, "not you" end end,
                  on_message = function(peer, msg)
                    if msg.type == "secret" then return false, "no secrets" end
                    if msg.type == "chat" then msg.text = msg.text:upper() end
                    return msg
                  end }, function(url)
      local c, _, code = signaling.connect(url, { room = "r", peer = "mallory" })
      assert.is_nil(c)
      assert.equal(4007, code)
      local a = assert(signaling.connect(url, { room = "r", peer = "a" }))
      local b = assert(signaling.connect(url, { room = "r", peer = "b" }))
      a:send { type = "secret", to = "b" }
      local e = assert(a:wait("error", 5))
      assert.equal("refused", e.error)
      assert.equal("no secrets", e.message)
      a:send { type = "chat", to = "b", text = "hello" }
      assert.equal("HELLO", assert(b:wait("chat", 5)).text)
      a:close(); b:close()
      b:wait(function() return false end, 1)
    end)
  end)

  it("hands out TURN REST credentials only for a valid token's peer, never outliving it", function()
    local secret = "join-secret"
    local origin = "https://app.example"
    with_server({ port = 0, secret = secret, origins = { origin },
                  turn = { secret = "turnsecret", uris = { "turn:127.0.0.1:3478" }, ttl = 600 } },
      function(url, sig, srv)
        local base = "http://127.0.0.1:" .. srv.port
        local function get(path, headers)
          local r = assert(http.request(base .. path, { headers = headers }))
          return r.status, json.decode(r.body)
        end
        -- no token, a forged one, one without a peer, one for another user name
        assert.equal(403, (get("/turn?user=anyone")))
        local forged = signaling.make_token("wrong", { room = "r", peer = "alice", ttl = 60 })
        assert.equal(403, (get("/turn?token=" .. forged)))
        local roomonly = signaling.make_token(secret, { room = "r", ttl = 60 })
        local st, body = get("/turn?token=" .. roomonly)
        assert.equal(403, st)
        assert.truthy(body.error:find("no peer"))
        local alice = signaling.make_token(secret, { room = "r", peer = "alice", ttl = 120 })
        assert.equal(403, (get("/turn?user=bob&token=" .. alice)))
        -- a page of another site
        assert.equal(403, (get("/turn?token=" .. alice, { Origin = "https://evil.example" })))
        -- the token's own peer: credentials expire with the token (120 s), not turn.ttl (600 s)
        local claims = assert(signaling.verify_token(secret, alice))
        st, body = get("/turn?token=" .. alice, { Origin = origin })
        assert.equal(200, st)
        local exp, user = body.username:match("^(%d+):(.*)$")
        assert.equal("alice", user)
        assert.is_true(tonumber(exp) <= claims.exp, body.username)
        assert.is_true(body.ttl <= 120)
        assert.equal("turn:127.0.0.1:3478", body.uris[1])
        st, body = get("/turn", { Authorization = "Bearer " .. alice })
        assert.equal(200, st)
        assert.equal("alice", body.username:match(":(.*)$"))
        -- the welcome carries credentials for the joined peer, bounded by its token too
        local bobtok = signaling.make_token(secret, { room = "r", peer = "bob", ttl = 300 })
        assert.is_nil((signaling.connect(url, { token = bobtok, origin = "https://evil.example" })))
        local c = assert(signaling.connect(url, { token = bobtok, origin = origin }))
        c:close()
        c:wait(function() return false end, 1)
        c = assert(signaling.connect(url, { token = bobtok }))   -- a program: no Origin
        local ice = c.ice_servers[1]
        assert.equal("turn:127.0.0.1:3478", ice.urls[1])
        local bexp = ice.username:match("^(%d+):bob$")
        assert.truthy(bexp, ice.username)
        assert.is_true(tonumber(bexp) <= assert(signaling.verify_token(secret, bobtok)).exp)
        -- /healthz: counts only
        st, body = get("/healthz")
        assert.equal(200, st)
        assert.equal(1, body.peers)
        for k, v in pairs(body) do
          assert.is_true(k == "status" or math.type(v) == "integer", "healthz field " .. k)
        end
        c:close()
        c:wait(function() return false end, 1)
      end)
  end)

  it("gives a token without a peer id a server-picked id, never one its holder names", function()
    local secret = "s"
    with_server({ port = 0, secret = secret }, function(url)
      local tok = signaling.make_token(secret, { room = "r", ttl = 60 })
      local c, err, code = signaling.connect(url, { token = tok, peer = "alice" })
      assert.is_nil(c)
      assert.equal(4001, code, err)
      c = assert(signaling.connect(url, { token = tok }))
      assert.truthy(c.id and c.id ~= "alice" and #c.id > 0)
      c:close()
      c:wait(function() return false end, 1)
    end)
  end)

  it("refuses to hand out TURN credentials on a server without join tokens", function()
    local srv = assert(http.server { port = 0 })
    local ok, err = pcall(signaling.attach, srv, { turn = { secret = "t", uris = { "turn:x" } } })
    assert.is_false(ok)
    assert.truthy(tostring(err):find("turn needs secret", 1, true))
    srv:close()
    rtc.run()
  end)

  it("refuses forged join/leave notices: honest peers keep their room, the forger gets errors", function()
    with_server({ port = 0, on_message = function(_, msg)
                    -- a hook's replacement without `from` still goes out as the sender's
                    if msg.type == "rewrite" then return { type = "note", text = "rewritten" } end
                  end }, function(url, sig)
      local a = assert(signaling.connect(url, { room = "r", peer = "alice" }))
      local b = assert(signaling.connect(url, { room = "r", peer = "bob" }))
      local m = assert(signaling.connect(url, { room = "r", peer = "mallory" }))
      -- the real notices first; from here on alice must see none
      assert(a:wait("join", 5)); assert(a:wait("join", 5))
      local joins, leaves = 0, 0
      a:on("join", function() joins = joins + 1 end)
      a:on("leave", function() leaves = leaves + 1 end)
      local refused = 0
      m:on("error", function(e) if e.error == "reserved-type" then refused = refused + 1 end end)
      assert(m:send { type = "leave", to = "alice", id = "bob", peers = { "alice" } })
      assert(m:send { type = "leave", id = "bob" })
      for i = 1, 150 do assert(m:send { type = "join", id = "ghost" .. i, info = {} }) end
      assert(m:send { type = "welcome", to = "bob", id = "mallory", room = "r", peers = {} })
      assert(m:send { type = "error", to = "alice", error = "x" })
      assert(m:send { type = "pong", to = "alice" })
      assert(m:send { type = "rewrite", to = "alice" })
      -- messages are handled in order: once alice has the rewritten note, every forgery
      -- before it has been refused
      local note = assert(a:wait("note", 5))
      assert.equal("mallory", note.from)
      m:send { type = "ping" }
      assert(m:wait("pong", 5))
      assert.equal(155, refused)
      assert.equal(0, joins)
      assert.equal(0, leaves)
      assert.same({ "alice", "bob", "mallory" }, sig:members("r"))
      assert.truthy(a.peers.bob)
      assert.is_nil(a.peers.ghost1)
      -- the honest peers still talk, and were not rate-limited out of the room
      assert(a:send { type = "offer", to = "bob", sdp = "v=0" })
      assert.equal("alice", assert(b:wait("offer", 5)).from)
      assert.is_nil(a.closed)
      assert.is_nil(b.closed)
      a:close(); b:close(); m:close()
      m:wait(function() return false end, 1)
    end)
  end)

  it("the Lua client ignores server-only notices that carry a sender", function()
    -- A server that relays everything (an old or hostile one) sends forgeries as they
    -- would arrive: with `from` added.
    local failure
    rtc.spawn(function()
      local srv = assert(http.server { port = 0 })
      srv:websocket("/ws", function(ws)
        ws:send(json.encode { type = "welcome", id = "me", room = "r", peers = { { id = "bob" } } })
        ws:send(json.encode { type = "leave", id = "bob", from = "mallory" })
        ws:send(json.encode { type = "join", id = "ghost", from = "mallory" })
        ws:send(json.encode { type = "welcome", id = "mallory", room = "x", peers = {}, from = "mallory" })
        ws:send(json.encode { type = "join", id = "carol" })
        ws:send(json.encode { type = "hello", from = "bob" })
      end)
      local ok, err = xpcall(function()
        local c = assert(signaling.connect("ws://127.0.0.1:" .. srv.port .. "/ws", { room = "r" }))
        local joined = {}
        c:on("join", function(id) joined[#joined + 1] = id end)
        assert.equal("bob", assert(c:wait("hello", 5)).from)
        assert.same({ "carol" }, joined)
        assert.equal("me", c.id)
        assert.equal("r", c.room)
        assert.truthy(c.peers.bob)
        assert.is_nil(c.peers.ghost)
        assert.equal(3, c.forged)
        c:close()
        c:wait(function() return false end, 1)
      end, debug.traceback)
      if not ok then failure = err end
      srv:close()
    end)
    rtc.run()
    if failure then error(failure, 0) end
  end)
end)

describe("signaling keepalive", function()
  it("drops a peer that stops answering and tells the room", function()
    with_server({ port = 0, ping_interval = 200 }, function(url, sig, srv)
      local a = assert(signaling.connect(url, { room = "r", peer = "a" }))
      -- a raw client that completes the handshake, then never reads or answers
      local core = require "rtc.core"
      local conn = assert(rtc.tcp_connect("127.0.0.1", srv.port))
      local req = core.ws_client_request("127.0.0.1:" .. srv.port, "/ws?room=r&peer=mute")
      conn:write(req)
      assert(a:wait("join", 5))
      local l = assert(a:wait("leave", 5))
      assert.equal("mute", l.id)
      -- a itself answers pings (our client does) and stays
      rtc.sleep(0.6)
      assert.same({ "a" }, sig:members("r"))
      conn:close()
      a:close()
      a:wait(function() return false end, 1)
    end)
  end)
end)

-- Open descriptors of this process (the server runs in it; so do the test's clients).
local function open_fds()
  local f = assert(io.open("/proc/self/stat"))
  local pid = f:read("a"):match("^(%d+)")
  f:close()
  local p = assert(io.popen("ls /proc/" .. pid .. "/fd | wc -l"))
  local n = tonumber(p:read("a"))
  p:close()
  return n
end

-- Waits (yielding) until cond() holds; the guard only stops a test that would hang.
local function wait_until(cond, what)
  for _ = 1, 400 do
    if cond() then return end
    rtc.sleep(0.025)
  end
  error("never happened: " .. what, 2)
end

describe("signaling connections closed by a timeout", function()
  it("releases clients that go silent after joining or after a refused join", function()
    local core = require "rtc.core"
    with_server({ port = 0, ping_interval = 150, close_timeout = 150, max_connections = 5 }, function(url, sig, srv)
      local a = assert(signaling.connect(url, { room = "r", peer = "a" }))
      wait_until(function() return srv.stats.connections == 1 end, "a's connection counted")
      local base = open_fds()
      -- Raw clients: they complete the upgrade, then never read, answer or close.
      local silent = {}
      local function mute(target)
        local conn = assert(rtc.tcp_connect("127.0.0.1", srv.port))
        conn:write(core.ws_client_request("127.0.0.1:" .. srv.port, target))
        silent[#silent + 1] = conn
      end
      -- Without the release, the silent sockets would keep the loop alive after a
      -- failure: close our ends whatever happens.
      local ok, err = xpcall(function()
      for i = 1, 3 do mute("/ws?room=r&peer=mute" .. i) end
      mute("/ws?room=bad%20room")   -- refused (4000): our close frame is never answered
      wait_until(function() return srv.stats.connections == 5 end, "five connections")
      -- the cap holds while they are there
      local c, _, code = signaling.connect(url, { room = "r", peer = "late" })
      assert.is_nil(c, "joined over max_connections")
      assert.is_nil(code)
      for _ = 1, 3 do assert(a:wait("leave", 10)) end
      -- The server drops its end of every silent connection: only the test's own four
      -- client sockets stay open on top of what was open before.
      wait_until(function() return srv.stats.connections == 1 end, "silent connections released")
      wait_until(function() return open_fds() == base + #silent end, "server-side descriptors closed")
      assert.same({ "a" }, sig:members("r"))
      -- and a legitimate client gets in again
      local b = assert(signaling.connect(url, { room = "r", peer = "b" }))
      assert.equal("b", b.id)
      b:close()
      end, debug.traceback)
      for _, conn in ipairs(silent) do conn:close() end
      a:close()
      a:wait(function() return false end, 1)
      if not ok then error(err, 0) end
    end)
  end)
end)

describe("signaling tokens", function()
  it("round-trips claims and checks signature and expiry", function()
    local t = signaling.make_token("k", { room = "r", peer = "p", exp = 2000000000 })
    local c = assert(signaling.verify_token("k", t, 1999999999))
    assert.equal("r", c.room)
    assert.equal("p", c.peer)
    local _, kind = signaling.verify_token("k", t, 2000000000)
    assert.equal("expired", kind)
    _, kind = signaling.verify_token("k2", t, 0)
    assert.equal("bad", kind)
    -- one flipped character in the claims part
    local body, mac = t:match("^(.-)%.(.*)$")
    local flipped = (body:sub(1, 5) .. (body:sub(6, 6) == "A" and "B" or "A") .. body:sub(7)) .. "." .. mac
    _, kind = signaling.verify_token("k", flipped, 0)
    assert.equal("bad", kind)
    assert.equal("bad", select(2, signaling.verify_token("k", "garbage", 0)))
    assert.equal("bad", select(2, signaling.verify_token("k", nil, 0)))
  end)

  it("computes TURN REST credentials as coturn expects", function()
    local core = require "rtc.core"
    local u, p, exp = signaling.turn_credentials("secret", "user", 100, 1000)
    assert.equal("1100:user", u)
    assert.equal(1100, exp)
    -- the same password as the openssl CLI computes (standard, padded base64)
    local o = io.popen("printf '%s' '1100:user' | openssl dgst -sha1 -hmac secret -binary | base64")
    local want = o:read("l")
    o:close()
    assert.equal(28, #want)
    assert.equal(want, p)
    -- and the same as the TURN server module's own REST helper
    assert.equal(want, core.turn_rest_password("secret", "1100:user"))
  end)
end)

describe("examples/signaling_server.lua", function()
  it("issues tokens and requires them when started with --secret", function()
    local child = require "support.child"
    local SRC = os.getenv("RTC_SOURCE_DIR") or "."
    local LUARTC = os.getenv("LUARTC") or "luartc"
    local script = SRC .. "/examples/signaling_server.lua"
    local code, out = child.run { script, "--secret", "cli-secret", "--make-token", "lobby:zed", "--ttl", "60" }
    assert.equal(0, code)
    local tok = out:match("^(%S+)\n$")
    assert.truthy(tok, out)
    local c = assert(signaling.verify_token("cli-secret", tok))
    assert.equal("lobby", c.room)
    assert.equal("zed", c.peer)
    local port = 21000 + math.random(0, 3000)
    local pidf, outf = os.tmpname(), os.tmpname()
    os.execute(child.quote(LUARTC) .. " " .. child.quote(script) .. " --listen 127.0.0.1:" .. port ..
               " --secret cli-secret --no-web >" .. outf .. " 2>&1 & echo $! >" .. pidf)
    local pid = assert(tonumber(child.slurp(pidf):match("%d+")))
    local failure
    rtc.spawn(function()
      local ok, err = xpcall(function()
        for _ = 1, 100 do
          local t = rtc.tcp_connect("127.0.0.1", port)
          if t then t:close(); break end
          rtc.sleep(0.05)
        end
        local url = "ws://127.0.0.1:" .. port .. "/ws"
        local _, _, refused = signaling.connect(url, { room = "lobby" })
        assert.equal(4001, refused)
        local z = assert(signaling.connect(url, { token = tok }))
        assert.equal("zed", z.id)
        assert.equal("lobby", z.room)
        z:close()
        z:wait(function() return false end, 1)
        local http = require "http"
        assert.equal(404, assert(http.request("http://127.0.0.1:" .. port .. "/")).status)
      end, debug.traceback)
      if not ok then failure = err end
    end)
    rtc.run()
    -- SIGINT runs the script's shutdown handler; it must exit by itself, status 0.
    local exited = child.interrupt(pid)
    local out_text = child.slurp(outf)
    os.remove(pidf); os.remove(outf)
    assert.truthy(out_text:find("signaling on ws://127.0.0.1:" .. port, 1, true), out_text)
    assert.is_true(exited, "server did not stop on SIGINT")
    if failure then error(failure, 0) end
  end)
end)
