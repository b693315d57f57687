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

  it("hands out TURN REST credentials", function()
    with_server({ port = 0, turn = { secret = "turnsecret", uris = { "turn:127.0.0.1:3478" }, ttl = 600 } },
      function(url, sig, srv)
        local r = assert(http.request("http://127.0.0.1:" .. srv.port .. "/turn?user=alice"))
        assert.equal(200, r.status)
        local t = assert(json.decode(r.body))
        local exp, user = t.username:match("^(%d+):(.*)$")
        assert.equal("alice", user)
        assert.is_true(tonumber(exp) > os.time() + 590 and tonumber(exp) <= os.time() + 600)
        local core = require "rtc.core"
        assert.equal(core.base64_encode(core.hmac_sha1("turnsecret", t.username)), t.password)
        assert.equal("turn:127.0.0.1:3478", t.uris[1])
        -- the welcome carries the same kind of credentials
        local c = assert(signaling.connect(url, { room = "r", peer = "bob" }))
        assert.equal("turn:127.0.0.1:3478", c.ice_servers[1].urls[1])
        assert.truthy(c.ice_servers[1].username:match(":bob$"))
        c:close()
        c:wait(function() return false end, 1)
      end)
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
    assert.equal(core.base64_encode(core.hmac_sha1("secret", "1100:user")), p)
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
