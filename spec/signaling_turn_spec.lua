-- TURN credentials the signaling server issues are accepted by real TURN servers:
-- Debian's coturn (use-auth-secret) and ours (examples/turn_server.lua --secret), each
-- a child on 127.0.0.1, with coturn's turnutils_uclient logging in and relaying.
local rtc = require "rtc"
local http = require "http"
local signaling = require "signaling"
local child = require "support.child"
local q = child.quote

local TURN_SECRET = "turn-shared-secret"
local JOIN_SECRET = "join-secret"
local tmpfiles = {}
local function tmp()
  local p = os.tmpname()
  tmpfiles[#tmpfiles + 1] = p
  return p
end

local function free_udp_port()
  local s = assert(rtc.udp { host = "127.0.0.1", port = 0 })
  local _, port = s:local_address()
  s:close()
  return port
end

-- Credentials for `peer` from GET /turn of an in-process signaling server.
local function issue(peer)
  local creds, failure
  rtc.spawn(function()
    local ok, err = xpcall(function()
      local sig, srv = assert(signaling.listen { port = 0, secret = JOIN_SECRET,
        turn = { secret = TURN_SECRET, uris = { "turn:127.0.0.1:3478" }, ttl = 600 } })
      local tok = signaling.make_token(JOIN_SECRET, { room = "r", peer = peer, ttl = 300 })
      local r = assert(http.request("http://127.0.0.1:" .. srv.port .. "/turn?token=" .. tok))
      assert.equal(200, r.status, r.body)
      creds = rtc.json.decode(r.body)
      srv:close()
      assert(sig)
    end, debug.traceback)
    if not ok then failure = err end
  end)
  rtc.run()
  if failure then error(failure, 0) end
  return creds.username, creds.password
end

-- External tools run without the sanitizer runtimes a sanitizer build preloads here.
local function sh(cmd, limit)
  local out = tmp()
  os.execute(string.format("env -u LD_PRELOAD timeout %d %s >%s 2>&1", limit or 30, cmd, q(out)))
  return child.slurp(out)
end

local function uclient(port, user, pass)
  return sh(string.format("turnutils_uclient -u %s -w %s -p %d -y -n 50 -l 170 -m 1 127.0.0.1",
    q(user), q(pass), port))
end

-- The same password with its first character changed.
local function wrong(pass) return (pass:sub(1, 1) == "A" and "B" or "A") .. pass:sub(2) end

local function stop(pid)
  os.execute("kill -TERM " .. pid .. " 2>/dev/null")
  for _ = 1, 200 do
    if not os.execute("kill -0 " .. pid .. " 2>/dev/null") then return end
    os.execute("sleep 0.01")
  end
  os.execute("kill -9 " .. pid .. " 2>/dev/null")
end

describe("TURN credentials from the signaling server", function()
  teardown(function() for _, p in ipairs(tmpfiles) do os.remove(p) end end)

  it("are the password the openssl CLI computes", function()
    local user, pass = issue("alice")
    assert.truthy(user:match("^%d+:alice$"), user)
    local o = io.popen("printf '%s' " .. q(user) .. " | openssl dgst -sha1 -hmac " .. q(TURN_SECRET) ..
                       " -binary | base64")
    local want = o:read("l")
    o:close()
    assert.equal(want, pass)
  end)

  it("log in to coturn (use-auth-secret) and relay", function()
    local port = free_udp_port()
    local minp = 40000 + (port % 500) * 20
    local log, pidf = tmp(), tmp()
    os.execute(string.format("env -u LD_PRELOAD turnserver -n --listening-ip=127.0.0.1 --listening-port=%d " ..
      "--relay-ip=127.0.0.1 --min-port=%d --max-port=%d --use-auth-secret --static-auth-secret=%s " ..
      "--realm=luartc --allow-loopback-peers --no-cli --no-tls --no-dtls --pidfile=%s.pid >%s 2>&1 & echo $! >%s",
      port, minp, minp + 19, q(TURN_SECRET), q(log), q(log), q(pidf)))
    local pid = assert(tonumber(child.slurp(pidf)))
    tmpfiles[#tmpfiles + 1] = log .. ".pid"
    local ok, err = pcall(function()
      for _ = 1, 40 do   -- until it answers a Binding request
        if sh(string.format("turnutils_stunclient -p %d 127.0.0.1", port), 2):find("127%.0%.0%.1:%d+") then break end
        os.execute("sleep 0.05")
      end
      local user, pass = issue("bob")
      local out = uclient(port, user, pass)
      assert.matches("Total lost packets 0 %(0%.000000%%%)", out)
      -- the same user with a wrong password is refused (the login is really checked)
      out = uclient(port, user, wrong(pass))
      assert.not_matches("Total lost packets", out)
    end)
    stop(pid)
    if not ok then error(err, 0) end
  end)

  it("log in to our TURN server (examples/turn_server.lua --secret) and relay", function()
    local out, errf, pidf = tmp(), tmp(), tmp()
    local base = 50000 + (tonumber(tostring(os.time()):sub(-3)) % 100) * 100 + 50
    os.execute(string.format("%s %s --listen 127.0.0.1:0 --realm R --secret %s --allow-loopback " ..
      "--min-port %d --max-port %d >%s 2>%s & echo $! >%s",
      q(child.LUARTC), q(child.SOURCE_DIR .. "/examples/turn_server.lua"), q(TURN_SECRET), base, base + 49,
      q(out), q(errf), q(pidf)))
    local pid = assert(tonumber(child.slurp(pidf)))
    local ok, err = pcall(function()
      local port
      for _ = 1, 500 do
        port = child.slurp(out):match("READY 127%.0%.0%.1:(%d+)")
        if port then break end
        os.execute("sleep 0.01")
      end
      assert.truthy(port, child.slurp(errf))
      local user, pass = issue("carol")
      local res = uclient(tonumber(port), user, pass)
      assert.matches("Total lost packets 0 %(0%.000000%%%)", res)
      res = uclient(tonumber(port), user, wrong(pass))
      assert.not_matches("Total lost packets", res)
    end)
    stop(pid)
    if not ok then error(err, 0) end
  end)
end)
