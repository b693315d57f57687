-- The ICE/TURN tester page (modules/icepage) in headless Chromium against coturn and
-- our TURN server (examples/turn_server.lua) on 127.0.0.1: relay candidates from both,
-- TURN REST credentials filled in by the page's server, and a wrong password's 401 on
-- each. The screenshot goes to docs/ice-page.png with RTC_DOCS_SCREENSHOTS=1.
local rtc = require "rtc"
local child = require "support.child"
local coturn = require "support.coturn"
local tmp = require "support.tmp"
local loop = require "support.loop"
local http = require "http"
local q = child.quote

-- Starts `cmd` in the background; waits for "READY <port>" (or ip:port) on its stdout.
local function start(cmd)
  local p = child.start(cmd, "READY %S-(%d+)\n")
  return p.pid, tonumber(p.ready[1])
end

describe("the /tools/ice page", function()
  local pids = {}
  local page_port

  setup(function()
    local srv = coturn.start { users = { "alice:secret" }, realm = "r" }
    pids[#pids + 1] = srv.pid
    local base = 43000 + tonumber(tostring(os.time()):sub(-3)) % 50 * 40
    local ours_pid, ours_port = start(string.format("%s %s --listen 127.0.0.1:0 --realm R --secret s3cret --tcp " ..
      "--allow-loopback --min-port %d --max-port %d", q(child.LUARTC), q(child.SOURCE_DIR .. "/examples/turn_server.lua"),
      base + 20, base + 39))
    pids[#pids + 1] = ours_pid
    local page_pid
    page_pid, page_port = start(string.format("%s %s %d %d", q(child.LUARTC),
      q(child.SOURCE_DIR .. "/spec/ice_page_server.lua"), srv.port, ours_port))
    pids[#pids + 1] = page_pid
  end)

  teardown(function()
    for _, pid in ipairs(pids) do child.stop(pid) end
    tmp.clean()
  end)

  it("shows relay candidates from coturn and ours, and 401 for a wrong password", function()
    -- The docs' screenshot is refreshed only when asked (RTC_DOCS_SCREENSHOTS=1).
    local shot = child.SOURCE_DIR .. "/docs/ice-page.png"
    if os.getenv("RTC_DOCS_SCREENSHOTS") ~= "1" then
      shot = tmp.file(".png")
    end
    local out = child.sh(string.format("node %s %s %s", q(child.SOURCE_DIR .. "/spec/browser/ice_page.js"),
      q("http://127.0.0.1:" .. page_port .. "/tools/ice?token=tk&run=1&timeout=8"),
      q(shot)), 80)
    local res = rtc.json.decode(out:match("(%b{})%s*$") or "") or {}
    assert(res.results, out:sub(-2000))
    local by = {}
    for _, r in ipairs(res.results) do by[r.server:match("^(%d+)%.")] = r end
    -- 1: coturn, right password; 3, 4: ours with REST credentials over UDP and TCP
    for _, i in ipairs { "1", "3", "4" } do
      assert(by[i] and by[i].ok, "server " .. i .. ": " .. out:sub(-1500))
      assert.equal("relay", by[i].candidate.type)
      assert.equal("127.0.0.1", by[i].candidate.address)
    end
    -- 2: coturn, wrong password; 5: ours, unknown user
    for _, i in ipairs { "2", "5" } do
      assert.is_false(by[i].ok)
      assert.matches("^401 ", by[i].reason)
    end
    local errors = 0
    for _, e in ipairs(res.events) do
      if e.event == "error" and e.code == 401 then errors = errors + 1 end
      if e.event == "candidate" and e.type == "relay" then
        assert.is_truthy(({ ["1"] = 1, ["3"] = 1, ["4"] = 1 })[e.server:match("^(%d+)%.")], e.server)
      end
    end
    assert.is_true(errors >= 2)
    -- the results table shows it too
    local shown = {}
    for _, r in ipairs(res.rows) do shown[r:match("^(%d+)%.")] = r end
    assert.matches("^1%. turn:127%.0%.0%.1:%d+ok: relay 127%.0%.0%.1:%d+$", shown["1"])
    assert.matches("^2%. turn:127%.0%.0%.1:%d+failed: 401 ", shown["2"])
  end)

  it("wants its token; the config carries TURN REST credentials", function()
    local base = "http://127.0.0.1:" .. page_port .. "/tools/ice"
    local cfg
    loop.run_task(function()
      assert.equal(401, assert(http.request(base)).status)
      assert.equal(401, assert(http.request(base .. "/config?token=no")).status)
      local r = assert(http.request(base .. "/config?token=tk"))
      assert.equal(200, r.status)
      cfg = rtc.json.decode(r.body)
    end)
    assert.equal(5, #cfg.servers)
    assert.equal("alice", cfg.servers[1].username)
    local user, pass = cfg.servers[3].username, cfg.servers[3].credential
    assert.matches("^%d+:icepage$", user)
    local o = io.popen("printf '%s' " .. q(user) .. " | openssl dgst -sha1 -hmac s3cret -binary | base64")
    assert.equal(o:read("l"), pass)
    o:close()
    assert.equal("nobody", cfg.servers[5].username)   -- given credentials are kept
  end)
  it("examples/signaling_server.lua --tools serves /tools/ice, /stats and /metrics with the token", function()
    local port = 38000 + tonumber(tostring(os.time()):sub(-3)) % 500
    local pid = child.start(string.format("%s %s --listen 127.0.0.1:%d --secret js --turn-secret ts " ..
      "--turn-uri turn:127.0.0.1:3478 --tools tt", q(child.LUARTC), q(child.SOURCE_DIR .. "/examples/signaling_server.lua"),
      port), "signaling on").pid
    local ok, e = pcall(function()
      local base = "http://127.0.0.1:" .. port
      loop.run_task(function()
        for _, p in ipairs { "/tools/ice", "/tools/ice/config", "/stats", "/metrics" } do
          assert.equal(401, assert(http.request(base .. p)).status, p)
          assert.equal(200, assert(http.request(base .. p .. "?token=tt")).status, p)
        end
        local cfg = rtc.json.decode(assert(http.request(base .. "/tools/ice/config?token=tt")).body)
        assert.equal("turn:127.0.0.1:3478", cfg.servers[1].urls)
        assert.matches("^%d+:icepage$", cfg.servers[1].username)
      end)
    end)
    child.stop(pid)
    if not ok then error(e, 0) end
  end)
end)
