-- TURN credentials the signaling server issues are accepted by real TURN servers:
-- Debian's coturn (use-auth-secret) and ours (examples/turn_server.lua --secret), each
-- a child on 127.0.0.1, with coturn's turnutils_uclient logging in and relaying.
local rtc = require "rtc"
local http = require "http"
local signaling = require "signaling"
local child = require "support.child"
local coturn = require "support.coturn"
local tmp = require "support.tmp"
local q = child.quote

local TURN_SECRET = "turn-shared-secret"
local JOIN_SECRET = "join-secret"

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

local function uclient(port, user, pass)
  return child.sh(string.format("turnutils_uclient -u %s -w %s -p %d -y -n 50 -l 170 -m 1 127.0.0.1",
    q(user), q(pass), port))
end

-- The same password with its first character changed.
local function wrong(pass) return (pass:sub(1, 1) == "A" and "B" or "A") .. pass:sub(2) end

describe("TURN credentials from the signaling server", function()
  teardown(tmp.clean)

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
    local srv = coturn.start { options = { "--use-auth-secret", "--static-auth-secret=" .. TURN_SECRET } }
    local port = srv.port
    local ok, err = pcall(function()
      local user, pass = issue("bob")
      local out = uclient(port, user, pass)
      assert.matches("Total lost packets 0 %(0%.000000%%%)", out)
      -- the same user with a wrong password is refused (the login is really checked)
      out = uclient(port, user, wrong(pass))
      assert.not_matches("Total lost packets", out)
    end)
    srv:stop()
    if not ok then error(err .. "\n" .. srv:log_tail(), 0) end
  end)

  it("log in to our TURN server (examples/turn_server.lua --secret) and relay", function()
    local base = require("support.ports").relay_window(100)
    local ours = child.start(string.format("%s %s --listen 127.0.0.1:0 --realm R --secret %s --allow-loopback " ..
      "--min-port %d --max-port %d", q(child.LUARTC), q(child.SOURCE_DIR .. "/examples/turn_server.lua"),
      q(TURN_SECRET), base, base + 49), "READY 127%.0%.0%.1:(%d+)")
    local port = ours.ready[1]
    local ok, err = pcall(function()
      local user, pass = issue("carol")
      local res = uclient(tonumber(port), user, pass)
      assert.matches("Total lost packets 0 %(0%.000000%%%)", res)
      res = uclient(tonumber(port), user, wrong(pass))
      assert.not_matches("Total lost packets", res)
    end)
    child.stop(ours.pid)
    if not ok then error(err, 0) end
  end)
end)
