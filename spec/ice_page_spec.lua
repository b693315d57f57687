-- The ICE/TURN tester page (modules/icepage) in headless Chromium against coturn and
-- our TURN server (examples/turn_server.lua) on 127.0.0.1: relay candidates from both,
-- TURN REST credentials filled in by the page's server, and a wrong password's 401 on
-- each. The screenshot goes to docs/ice-page.png with RTC_DOCS_SCREENSHOTS=1.
local rtc = require "rtc"
local child = require "support.child"
local loop = require "support.loop"
local http = require "http"
local q = child.quote

local tmpfiles = {}
local function tmp()
  local p = os.tmpname()
  tmpfiles[#tmpfiles + 1] = p
  return p
end

local function sh(cmd, limit)
  local out = tmp()
  os.execute(string.format("env -u LD_PRELOAD timeout %d %s >%s 2>&1", limit or 30, cmd, q(out)))
  return child.slurp(out)
end

local function stop(pid)
  os.execute("kill -TERM " .. pid .. " 2>/dev/null")
  for _ = 1, 200 do
    if not os.execute("kill -0 " .. pid .. " 2>/dev/null") then return end
    os.execute("sleep 0.01")
  end
  os.execute("kill -9 " .. pid .. " 2>/dev/null")
end

-- Starts `cmd` in the background; waits for "READY <port>" (or ip:port) on its stdout.
local function start(cmd)
  local out, err, pidf = tmp(), tmp(), tmp()
  os.execute(string.format("%s >%s 2>%s & echo $! >%s", cmd, q(out), q(err), q(pidf)))
  local pid = assert(tonumber(child.slurp(pidf)))
  for _ = 1, 500 do
    local where = child.slurp(out):match("READY (%S+)\n")
    local port = where and where:match("(%d+)$")
    if port then return pid, tonumber(port) end
    os.execute("sleep 0.01")
  end
  stop(pid)
  error("did not start: " .. cmd .. "\n" .. child.slurp(err))
end

describe("the /tools/ice page", function()
  local pids = {}
  local page_port

  setup(function()
    local seed = tonumber(tostring(os.time()):sub(-3)) % 50
    local coturn_port = 37000 + seed * 20
    local log, pidf = tmp(), tmp()
    os.execute(string.format("env -u LD_PRELOAD turnserver -n --listening-ip=127.0.0.1 --listening-port=%d " ..
      "--relay-ip=127.0.0.1 --min-port=%d --max-port=%d --lt-cred-mech --user=alice:secret --realm=r " ..
      "--allow-loopback-peers --no-cli --no-tls --no-dtls --pidfile=%s.pid >%s 2>&1 & echo $! >%s",
      coturn_port, 43000 + seed * 40, 43000 + seed * 40 + 19, q(log), q(log), q(pidf)))
    tmpfiles[#tmpfiles + 1] = log .. ".pid"
    pids[#pids + 1] = assert(tonumber(child.slurp(pidf)))
    for _ = 1, 40 do
      if sh(string.format("turnutils_stunclient -p %d 127.0.0.1", coturn_port), 2):find("127%.0%.0%.1:%d+") then break end
      os.execute("sleep 0.05")
    end
    local ours_pid, ours_port = start(string.format("%s %s --listen 127.0.0.1:0 --realm R --secret s3cret --tcp " ..
      "--allow-loopback --min-port %d --max-port %d", q(child.LUARTC), q(child.SOURCE_DIR .. "/examples/turn_server.lua"),
      43000 + seed * 40 + 20, 43000 + seed * 40 + 39))
    pids[#pids + 1] = ours_pid
    local page_pid
    page_pid, page_port = start(string.format("%s %s %d %d", q(child.LUARTC),
      q(child.SOURCE_DIR .. "/spec/ice_page_server.lua"), coturn_port, ours_port))
    pids[#pids + 1] = page_pid
  end)

  teardown(function()
    for _, pid in ipairs(pids) do stop(pid) end
    for _, p in ipairs(tmpfiles) do os.remove(p) end
  end)

  it("shows relay candidates from coturn and ours, and 401 for a wrong password", function()
    -- The docs' screenshot is refreshed only when asked (RTC_DOCS_SCREENSHOTS=1).
    local shot = child.SOURCE_DIR .. "/docs/ice-page.png"
    if os.getenv("RTC_DOCS_SCREENSHOTS") ~= "1" then
      shot = tmp() .. ".png"
      tmpfiles[#tmpfiles + 1] = shot
    end
    local out = sh(string.format("node %s %s %s", q(child.SOURCE_DIR .. "/spec/browser/ice_page.js"),
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
    local out, err, pidf = tmp(), tmp(), tmp()
    local port = 38000 + tonumber(tostring(os.time()):sub(-3)) % 500
    os.execute(string.format("%s %s --listen 127.0.0.1:%d --secret js --turn-secret ts --turn-uri turn:127.0.0.1:3478 " ..
      "--tools tt >%s 2>%s & echo $! >%s", q(child.LUARTC), q(child.SOURCE_DIR .. "/examples/signaling_server.lua"),
      port, q(out), q(err), q(pidf)))
    local pid = assert(tonumber(child.slurp(pidf)))
    local ok, e = pcall(function()
      for _ = 1, 500 do
        if child.slurp(out):find("signaling on") then break end
        os.execute("sleep 0.01")
      end
      assert.matches("signaling on", child.slurp(out), child.slurp(err))
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
    stop(pid)
    if not ok then error(e, 0) end
  end)
end)
