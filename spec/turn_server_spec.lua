-- Our TURN server against real clients: coturn's turnutils_uclient / turnutils_stunclient
-- relaying through `luartc examples/turn_server.lua` (UDP, TCP, TLS, TURN REST credentials,
-- wrong password), the Lua module in-process (events, policy hooks, stats, IPv6 and
-- dual-stack), and two of our peer connections relaying a data channel through it with
-- ice_transport_policy "relay". Children run on 127.0.0.1 and are killed at the end.
-- Chromium against the server: turn_server_browser_spec.lua.
local rtc = require "rtc"
local turn = require "turn"
local child = require "support.child"
local tmp = require "support.tmp"
local q = child.quote

local EXAMPLE = child.SOURCE_DIR .. "/examples/turn_server.lua"
local SECRET = "logen-ninefingers"

-- A self-signed certificate and key for the TLS listener, made per describe block (each
-- block's teardown removes its temporary files).
local CERT, KEY
local function make_cert()
  CERT, KEY = tmp.file(), tmp.file()
  assert(os.execute(string.format("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes " ..
    "-keyout %s -out %s -days 2 -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null",
    child.quote(KEY), child.quote(CERT))))
end

-- Relay ports: a window per run above the ephemeral range (support/ports.lua).
local base = (require("support.ports").relay_window(100))
local MIN_PORT, MAX_PORT = base, base + 99

-- Starts the example server on free ports; returns pid, port, stderr path, TLS port.
local function start_server(extra)
  local p = child.start(string.format("RTC_LOG=info,turn=info %s %s --listen 127.0.0.1:0 --realm R --user u:p " ..
    "--secret %s --tcp --tls-listen 127.0.0.1:0 --cert %s --key %s --allow-loopback --min-port %d --max-port %d %s",
    q(child.LUARTC), q(EXAMPLE), q(SECRET), q(CERT), q(KEY), MIN_PORT, MAX_PORT, extra or ""),
    "READY 127%.0%.0%.1:(%d+).*READY TLS 127%.0%.0%.1:(%d+)")
  return p.pid, tonumber(p.ready[1]), p.err, tonumber(p.ready[2])
end

local TOOL, sh = child.TOOL, child.sh

describe("turn server (example, real clients)", function()
  local pid, port, errlog, tls_port

  -- uclient relayed without loss; if not, the failure shows what the server logged
  -- about the refusals it answered (each 486/508 line names the limit that was hit)
  local function assert_no_loss(out)
    if out:find("Total lost packets 0 (0.000000%)", 1, true) then return end
    local refused = {}
    for line in child.slurp(errlog):gmatch("[^\n]+") do
      if line:find(": 486 ", 1, true) or line:find(": 508 ", 1, true) then refused[#refused + 1] = line end
    end
    error("uclient:\n" .. out .. "\nserver refusals:\n" .. table.concat(refused, "\n"), 2)
  end

  setup(function()
    make_cert()
    pid, port, errlog, tls_port = start_server()
  end)

  teardown(function()
    if pid then assert.is_true(child.stop(pid, 2)) end
    tmp.clean()
  end)

  it("answers turnutils_stunclient with the mapped address", function()
    local out = sh(string.format("turnutils_stunclient -p %d 127.0.0.1", port))
    assert.matches("127%.0%.0%.1:%d+", out)
    assert.not_matches("error", out:lower())
  end)

  it("relays turnutils_uclient over UDP without loss", function()
    local out = sh(string.format("turnutils_uclient -u u -w p -p %d -y -n 100 -l 170 -m 2 127.0.0.1", port))
    assert_no_loss(out)
  end)

  it("relays turnutils_uclient over TCP without loss", function()
    local out = sh(string.format("turnutils_uclient -t -u u -w p -p %d -y -n 100 -l 170 -m 2 127.0.0.1", port))
    assert_no_loss(out)
  end)

  it("relays turnutils_uclient over TLS (turns:) without loss", function()
    local out = sh(string.format("turnutils_uclient -t -S -u u -w p -p %d -y -n 100 -l 170 -m 2 127.0.0.1", tls_port))
    assert_no_loss(out)
    assert.matches("allocation %d+ for u from 127%.0%.0%.1:%d+ %(tls%)", child.slurp(errlog))
  end)

  it("relays with TURN REST ephemeral credentials", function()
    local out = sh(string.format("turnutils_uclient -W %s -u restuser -p %d -y -n 100 -l 170 -m 1 127.0.0.1",
      q(SECRET), port))
    assert_no_loss(out)
  end)

  it("refuses a wrong password and a wrong REST secret", function()
    local out = sh(string.format("turnutils_uclient -u u -w wrong -p %d -y -n 10 -m 1 127.0.0.1", port), 15)
    assert.not_matches("Total lost packets", out)
    assert.matches("Cannot complete Allocation", out)
    out = sh(string.format("turnutils_uclient -W not-the-secret -u x -p %d -y -n 10 -m 1 127.0.0.1", port), 15)
    assert.not_matches("Total lost packets", out)
    -- the server logged the allocations of the successful runs, none for these
    local log = child.slurp(errlog)
    assert.matches("allocation %d+ for u from 127%.0%.0%.1:%d+ %(udp%)", log)
    assert.matches("allocation %d+ for u from 127%.0%.0%.1:%d+ %(tcp%)", log)
    assert.matches("for %d+:restuser from", log)
    assert.not_matches("for x from", log)
  end)
end)

-- Runs fn as a task and the loop until it returns; fails on timeout.
local function run_task(fn, timeout_ms)
  local finished, err, guard = false, nil, nil
  rtc.spawn(function()
    -- the loop's clock stood still while earlier tests blocked in os.execute: one turn
    -- of the loop brings it up to date before the guard is armed
    rtc.sleep(0)
    guard = rtc.set_timeout(timeout_ms or 40000, function()
      err = err or "timed out"
      rtc.stop()
    end)
    local ok, e = xpcall(fn, debug.traceback)
    finished = true
    guard:stop()
    if not ok then err = e; rtc.stop() end
  end)
  rtc.run()
  if err then error(err, 0) end
  assert.is_true(finished)
end

local function wait_for(pred, what, timeout_ms)
  local deadline = rtc.now() + (timeout_ms or 15000)
  while not pred() do
    if rtc.now() > deadline then
      error("timed out waiting for " .. (type(what) == "function" and what() or what), 2)
    end
    rtc.sleep(0.01)
  end
end

describe("turn module (in process)", function()
  setup(make_cert)
  teardown(tmp.clean)

  it("makes TURN REST credentials that match openssl's HMAC-SHA1", function()
    local user, pass = turn.rest_credentials("s3cret", "carol", 3600)
    local expiry = tonumber(user:match("^(%d+):carol$"))
    assert.is_true(expiry >= os.time() + 3590 and expiry <= os.time() + 3600)
    local want = sh(string.format("printf %%s %s | openssl dgst -sha1 -hmac s3cret -binary | base64", q(user)))
    assert.equal(want:gsub("%s+$", ""), pass)
  end)

  it("caps allocations per user by default (modules/turn.lua), 0 lifting the cap", function()
    run_task(function()
      local saved = turn.DEFAULT_PER_USER
      turn.DEFAULT_PER_USER = 1                -- the default's wiring, at a size uclient reaches
      local ok, err = pcall(function()
        for _, case in ipairs { { quota = nil, refused = true }, { quota = { per_user = 0 }, refused = false } } do
          local srv = assert(turn.server {
            listen = "127.0.0.1:0", realm = "R", users = { q1 = "pw" }, allow_loopback = true,
            min_port = MIN_PORT, max_port = MAX_PORT, quota = case.quota,
          })
          local _, p = srv:local_address()
          local out = tmp.file()
          -- one client pair: two allocations (RTP and RTCP) for one username
          os.execute(string.format(TOOL .. "timeout 30 turnutils_uclient -u q1 -w pw -p %d -y -n 5 -m 1 127.0.0.1 >%s 2>&1 &",
            p, q(out)))
          wait_for(function()
            local o = child.slurp(out)
            return o:find("Total lost packets", 1, true) or o:find("486", 1, true)
          end, function() return "uclient: " .. child.slurp(out) end)
          local st = srv:get_stats()
          if case.refused then assert.is_true(st.err_486 >= 1) else assert.equal(0, st.err_486) end
          srv:close()
        end
      end)
      turn.DEFAULT_PER_USER = saved
      assert(ok, err)
    end, 60000)
  end)

  it("serves uclient with an auth callback, policy hooks, events and stats", function()
    run_task(function()
      local asked, allocs, deallocs, perms = {}, {}, {}, {}
      local srv = assert(turn.server {
        listen = "127.0.0.1:0", realm = "R", tcp = true, allow_loopback = true,
        min_port = MIN_PORT, max_port = MAX_PORT,
        auth = function(user, realm)
          asked[#asked + 1] = user .. "@" .. realm
          if user == "cb" then return "cbpass" end
        end,
        on_allocate = function(info) return info.username ~= "blocked" end,
        on_permission = function(info) perms[#perms + 1] = info.peer; return true end,
      })
      srv:on("allocate", function(a) allocs[#allocs + 1] = a end)
      srv:on("deallocate", function(a) deallocs[#deallocs + 1] = a end)
      local _, p = srv:local_address()
      assert(srv:add_user("blocked", "pw"))
      local out, out2 = tmp.file(), tmp.file()
      -- one client at a time: two uclients at once fight over their local ports
      os.execute(string.format(TOOL .. "timeout 30 turnutils_uclient -u blocked -w pw -p %d -y -n 5 -m 1 127.0.0.1 >%s 2>&1 &",
        p, q(out2)))
      wait_for(function() return child.slurp(out2):find("403", 1, true) end,
        function() return "blocked user refused: " .. child.slurp(out2) end)
      os.execute(string.format(TOOL .. "timeout 30 turnutils_uclient -u cb -w cbpass -p %d -y -n 50 -l 100 -m 1 127.0.0.1 >%s 2>&1 &",
        p, q(out)))
      wait_for(function() return child.slurp(out):find("Total lost packets", 1, true) end,
        function() return "uclient: " .. child.slurp(out) end)
      assert.matches("Total lost packets 0 %(0%.000000%%%)", child.slurp(out))
      assert.is_true(#asked >= 1)
      assert.equal("cb@R", asked[1])
      assert.is_true(#allocs >= 2)             -- RTP + RTCP allocations of one client pair
      assert.equal("cb", allocs[1].username)
      assert.equal("udp", allocs[1].transport)
      assert.matches("^127%.0%.0%.1:%d+$", allocs[1].relay)
      assert.is_true(#perms >= 1)
      local st = srv:get_stats()
      assert.equal(#allocs - #deallocs, st.allocations)   -- uclient exits without deallocating
      assert.is_true(st.relayed_to_peer >= 50)
      assert.is_true(st.relayed_to_client >= 50)
      assert.is_true(st.err_403 >= 1)
      local closed = false
      srv:on("close", function() closed = true end)
      srv:close()
      wait_for(function() return closed end, "close")
    end)
  end)

  it("TLS listener: refuses plain bytes cleanly, keeps serving TLS, checks its options", function()
    assert.has_error(function() turn.server { listen = "127.0.0.1:0", realm = "R", tls = { cert = CERT } } end)
    local bad, err = turn.server { listen = "127.0.0.1:0", realm = "R",
      tls = { listen = "127.0.0.1:0", cert = "/nonexistent.pem", key = KEY } }
    assert.is_nil(bad)
    assert.matches("nonexistent", err)
    local seen = {}
    run_task(function()
      local srv = assert(turn.server {
        listen = "127.0.0.1:0", realm = "R", users = { u = "p" }, allow_loopback = true,
        min_port = MIN_PORT, max_port = MAX_PORT,
        tls = { listen = "127.0.0.1:0", cert = CERT, key = KEY },
        on_allocate = function(info) seen[#seen + 1] = info.transport; return true end,
      })
      local ip, tp = srv:tls_address()
      assert.equal("127.0.0.1", ip)
      assert.is_nil(srv:tls_address(2))
      -- a STUN Binding request in the clear: the TLS layer refuses it, the connection ends
      local conn = assert(rtc.tcp_connect("127.0.0.1", tp))
      local req = "\0\1\0\0\33\18\164\66" .. string.rep("x", 12)
      assert(conn:write(req))
      local got = {}
      while true do
        local d = conn:read()
        if not d then break end
        got[#got + 1] = d
      end
      conn:close()
      local reply = table.concat(got)
      assert.is_true(#reply < 16)              -- at most a TLS alert, never a STUN answer
      if #reply > 0 then assert.equal(21, reply:byte(1)) end
      wait_for(function() return srv:get_stats().tls_failures == 1 end, "tls failure counted")
      -- a real TLS client still gets through, with the server certificate we gave
      local out = tmp.file()
      os.execute(string.format(TOOL .. "timeout 10 openssl s_client -connect 127.0.0.1:%d -CAfile %s " ..
        "-verify_return_error </dev/null >%s 2>&1 &", tp, q(CERT), q(out)))
      wait_for(function() return child.slurp(out):find("Verify return code", 1, true) end,
        function() return "s_client: " .. child.slurp(out) end)
      assert.matches("Verify return code: 0 %(ok%)", child.slurp(out))
      wait_for(function() return srv:get_stats().tls_handshakes >= 1 end, "handshake counted")
      local st = srv:get_stats()
      assert.equal(2, st.tls_accepted)
      -- an allocation over TLS: the on_allocate hook is told its transport is "tls"
      os.execute(string.format(TOOL .. "timeout 20 turnutils_uclient -t -S -u u -w p -p %d -y -n 5 -l 100 -m 1 " ..
        "127.0.0.1 >/dev/null 2>&1 &", tp))
      wait_for(function() return #seen > 0 end, "on_allocate over TLS")
      assert.equal("tls", seen[1])
      local closed = false
      srv:on("close", function() closed = true end)
      srv:close()
      wait_for(function() return closed end, "close")
    end)
  end)

  it("relays IPv6 and dual-stack allocations for uclient (-x, -Z)", function()
    run_task(function()
      local allocs = {}
      local srv = assert(turn.server {
        listen = "[::1]:0", realm = "R", users = { u = "p" }, allow_loopback = true,
        relay_ip = "127.0.0.1", relay_ip6 = "::1", min_port = MIN_PORT, max_port = MAX_PORT,
      })
      srv:on("allocate", function(a) allocs[#allocs + 1] = a end)
      local _, p = srv:local_address()
      for _, flag in ipairs { "-x", "-Z" } do
        local out = tmp.file()
        os.execute(string.format(TOOL .. "timeout 30 turnutils_uclient -u u -w p -p %d -y %s -n 20 -m 1 ::1 >%s 2>&1 &",
          p, flag, q(out)))
        wait_for(function() return child.slurp(out):find("Total lost packets", 1, true) end,
          function() return "uclient " .. flag .. ": " .. child.slurp(out) end, 25000)
        assert.matches("Total lost packets 0 %(0%.000000%%%)", child.slurp(out))
      end
      local v6, dual = 0, 0
      for _, a in ipairs(allocs) do
        if a.relay:match("^%[::1%]:") and not a.relay2 then v6 = v6 + 1 end
        if a.relay2 then dual = dual + 1 end
      end
      assert.is_true(v6 >= 1)
      assert.is_true(dual >= 1)
      srv:close()
    end, 60000)
  end)

  it("relays a data channel between two peer connections with ice_transport_policy relay", function()
    run_task(function()
      local srv = assert(turn.server {
        listen = "127.0.0.1:0", realm = "R", users = { alice = "pw" }, allow_loopback = true,
        min_port = MIN_PORT, max_port = MAX_PORT,
      })
      local _, p = srv:local_address()
      local cfg = { bind_addresses = { "127.0.0.1" }, ice_transport_policy = "relay",
                    ice_servers = { { urls = "turn:127.0.0.1:" .. p, username = "alice", credential = "pw" } } }
      local a = assert(rtc.peer_connection(cfg))
      local b = assert(rtc.peer_connection(cfg))
      local types = {}
      local function relay_only(c, who)
        if c and c.candidate and c.candidate ~= "" then
          types[#types + 1] = who .. ":" .. (c.candidate:match(" typ (%a+)") or "?")
        end
      end
      a:on("icecandidate", function(c) relay_only(c, "a"); if c and b.remote_description then assert(b:add_ice_candidate(c)) end end)
      b:on("icecandidate", function(c) relay_only(c, "b"); if c and a.remote_description then assert(a:add_ice_candidate(c)) end end)
      local dc = assert(a:create_data_channel("relay"))
      local got
      b:on("datachannel", function(ch) ch:on("message", function(data) got = data end) end)
      local opened = false
      dc:on("open", function() opened = true end)
      local offer = assert(a:create_offer())
      assert(a:set_local_description(offer))
      assert(b:set_remote_description(offer))
      local answer = assert(b:create_answer())
      assert(b:set_local_description(answer))
      assert(a:set_remote_description(answer))
      wait_for(function() return opened end, "channel open through the relay")
      assert(dc:send("through our TURN server"))
      wait_for(function() return got end, "message")
      assert.equal("through our TURN server", got)
      for _, t in ipairs(types) do assert.matches(":relay$", t) end
      local report = a:get_stats()
      local transport
      for _, s in pairs(report) do if s.type == "transport" then transport = s end end
      local pair = report[transport.selectedCandidatePairId]
      assert.equal("relay", report[pair.localCandidateId].candidateType)
      local st = srv:get_stats()
      assert.is_true(st.allocations >= 2)
      assert.is_true(st.relayed_to_peer > 0 and st.relayed_to_client > 0)
      a:close()
      b:close()
      srv:close()
    end)
  end)
end)
