-- tools/icetest.lua against real TURN servers on 127.0.0.1: Debian's coturn and ours
-- (examples/turn_server.lua), each a child process.
local child = require "support.child"
local coturn = require "support.coturn"
local tmp = require "support.tmp"
local json = require("rtc").json
local q = child.quote

local SECRET = "icetest-shared-secret"
-- icetest with args; returns exit code, stdout, stderr
local function icetest(args)
  local t = { child.SOURCE_DIR .. "/tools/icetest.lua", "--bind", "127.0.0.1" }
  for _, a in ipairs(args) do t[#t + 1] = a end
  return child.run(t)
end

local function json_lines(out)
  local recs = {}
  for line in out:gmatch("[^\n]+") do recs[#recs + 1] = assert(json.decode(line), line) end
  return recs
end

describe("tools/icetest.lua", function()
  local srv, ours, coturn_port, ours_port, ours_tls_port, cert

  setup(function()
    -- a self-signed certificate for localhost (its own CA) for both TLS listeners
    local key
    cert, key = tmp.file(), tmp.file()
    assert(os.execute(string.format("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes " ..
      "-keyout %s -out %s -days 2 -subj /CN=localhost -addext subjectAltName=DNS:localhost 2>/dev/null", q(key), q(cert))))
    -- coturn with long-term credentials u:p
    srv = coturn.start { users = { "u:p" }, realm = "r", tls = { cert = cert, key = key } }
    coturn_port = srv.port
    -- ours with the same user, a TURN REST secret, TCP and TLS
    local base = 41000 + tonumber(tostring(os.time()):sub(-3)) % 50 * 40
    ours = child.start(string.format("%s %s --listen 127.0.0.1:0 --realm R --user u:p --secret %s --tcp " ..
      "--tls-listen 127.0.0.1:0 --cert %s --key %s --allow-loopback --min-port %d --max-port %d",
      q(child.LUARTC), q(child.SOURCE_DIR .. "/examples/turn_server.lua"),
      q(SECRET), q(cert), q(key), base + 20, base + 39), "READY 127%.0%.0%.1:(%d+).*READY TLS 127%.0%.0%.1:(%d+)")
    ours_port, ours_tls_port = ours.ready[1], ours.ready[2]
  end)

  teardown(function()
    if srv then srv:stop() end
    if ours then child.stop(ours.pid) end
    tmp.clean()
  end)

  it("gets a relay candidate from coturn and from ours, over UDP and TCP, and exits 0", function()
    local code, out, err = icetest { "--user", "u", "--pass", "p",
      "--server", "turn:127.0.0.1:" .. coturn_port,
      "--server", "turn:127.0.0.1:" .. ours_port .. "?transport=udp",
      "--server", "turn:127.0.0.1:" .. ours_port .. "?transport=tcp" }
    assert.equal(0, code, out .. err)
    for url, via in pairs { ["turn:127.0.0.1:" .. coturn_port] = "udp", ["turn:127.0.0.1:" .. ours_port .. "?transport=udp"] = "udp",
                            ["turn:127.0.0.1:" .. ours_port .. "?transport=tcp"] = "tcp" } do
      local pat = url:gsub("[%p]", "%%%0")
      assert.matches("\n?" .. pat .. " +%d+ ms  host  udp 127%.0%.0%.1 %d+ priority %d+\n", out)
      assert.matches("\n?" .. pat .. " +%d+ ms  relay udp 127%.0%.0%.1 %d+ priority %d+ via " .. via .. "\n", out)
      assert.matches("\n" .. pat .. ": ok %(relay 127%.0%.0%.1:%d+ via " .. via .. " in %d+ ms%)\n", out)
    end
  end)

  it("shows 401 for a wrong password on both servers and exits 1 (--json)", function()
    local code, out = icetest { "--json", "--user", "u", "--pass", "wrong",
      "--server", "turn:127.0.0.1:" .. coturn_port, "--server", "turn:127.0.0.1:" .. ours_port }
    assert.equal(1, code, out)
    local errors, results = {}, {}
    for _, r in ipairs(json_lines(out)) do
      if r.event == "error" then errors[r.server] = r end
      if r.event == "result" then results[#results + 1] = r end
      assert.are_not.equal("relay", r.type)
    end
    for _, port in ipairs { coturn_port, ours_port } do
      local url = "turn:127.0.0.1:" .. port
      assert.equal(401, errors[url].code)
      assert.equal("127.0.0.1", errors[url].address)
      assert.equal(tonumber(port), errors[url].port)
    end
    assert.equal(2, #results)
    for _, r in ipairs(results) do
      assert.is_false(r.ok)
      assert.matches("^401 ", r.reason)
    end
  end)

  it("derives TURN REST credentials from a secret (file), and a wrong secret gets 401", function()
    local f = tmp.file()
    child.write(f, SECRET .. "\n")
    local code, out = icetest { "--json", "--secret-file", f, "--rest-user", "probe",
                                "--server", "turn:127.0.0.1:" .. ours_port }
    assert.equal(0, code, out)
    local recs = json_lines(out)
    local last = recs[#recs]
    assert.equal("result", last.event)
    assert.is_true(last.ok)
    assert.equal("relay", last.type)
    code, out = icetest { "--secret", SECRET .. "x", "--server", "turn:127.0.0.1:" .. ours_port }
    assert.equal(1, code)
    assert.matches("error 401 ", out)
    assert.matches(": failed: 401 ", out)
  end)

  it("times out and fails for a server that does not answer, next to one that works", function()
    -- a UDP port nobody listens on
    local code, out = icetest { "--user", "u", "--pass", "p", "--timeout", "1.5",
      "--server", "turn:127.0.0.1:9", "--server", "turn:127.0.0.1:" .. coturn_port }
    assert.equal(1, code, out)
    assert.matches("turn:127%.0%.0%.1:9 +%d+ ms  error timeout: no answer in 1%.5 s\n", out)
    assert.matches("\nturn:127%.0%.0%.1:9: failed: timeout: no relay candidate in 1%.5 s\n", out)
    assert.matches("\nturn:127%.0%.0%.1:" .. coturn_port .. ": ok ", out)
  end)

  it("reports an unreachable server (TCP connection refused) at once and fails", function()
    local code, out = icetest { "--user", "u", "--pass", "p", "--timeout", "5",
      "--server", "turn:127.0.0.1:9?transport=tcp" }
    assert.equal(1, code, out)
    assert.matches("turn:127%.0%.0%.1:9%?transport=tcp +%d+ ms  error 701 [^\n]*connection to the TURN server failed\n", out)
    assert.matches("\nturn:127%.0%.0%.1:9%?transport=tcp: failed: ", out)
  end)

  it("turns: gets a relay over TLS from coturn and from ours with --ca-file", function()
    local urls = { "turns:localhost:" .. srv.tls_port, "turns:localhost:" .. ours_tls_port .. "?transport=tcp" }
    local code, out, err = icetest { "--user", "u", "--pass", "p", "--ca-file", cert,
                                     "--server", urls[1], "--server", urls[2] }
    assert.equal(0, code, out .. err)
    for _, url in ipairs(urls) do
      local pat = url:gsub("[%p]", "%%%0")
      assert.matches("\n?" .. pat .. " +%d+ ms  relay udp 127%.0%.0%.1 %d+ priority %d+ via tls\n", out)
      assert.matches("\n" .. pat .. ": ok %(relay 127%.0%.0%.1:%d+ via tls in %d+ ms%)\n", out)
    end
    -- the same in JSON
    code, out = icetest { "--json", "--user", "u", "--pass", "p", "--ca-file", cert, "--server", urls[2] }
    assert.equal(0, code)
    local recs = json_lines(out)
    local last = recs[#recs]
    assert.equal("result", last.event)
    assert.is_true(last.ok)
    assert.equal("tls", last.relay_protocol)
  end)

  it("turns: a certificate the client does not trust fails with the TLS reason", function()
    -- without --ca-file the system's store is used, which does not know this certificate
    local code, out = icetest { "--user", "u", "--pass", "p", "--server", "turns:localhost:" .. ours_tls_port }
    assert.equal(1, code)
    local pat = ("turns:localhost:" .. ours_tls_port):gsub("[%p]", "%%%0")
    assert.matches("\n" .. pat .. ": failed: 701 TLS with the TURN server failed: handshake: certificate verify failed", out)
    assert.not_matches(" relay ", out)
  end)

  it("refuses bad command lines with exit status 2", function()
    local cases = {
      { args = {}, msg = "give at least one %-%-server" },
      { args = { "--server" }, msg = "missing value for %-%-server" },
      { args = { "--server", "turn:x", "--bogus" }, msg = "unknown option %-%-bogus" },
      { args = { "--server", "turn:x", "--user", "u" }, msg = "%-%-user and %-%-pass go together" },
      { args = { "--server", "turn:x", "--timeout", "-1" }, msg = "%-%-timeout wants a positive number" },
      { args = { "--server", "turn:x", "--secret-file", "/nonexistent/x" }, msg = "cannot read the secret" },
    }
    for _, c in ipairs(cases) do
      local code, _, err = icetest(c.args)
      assert.equal(2, code)
      assert.matches(c.msg, err)
    end
    -- a bad URL is a failed server, not a crash
    local code, out = icetest { "--server", "http://127.0.0.1", "--server", "turn:127.0.0.1" }
    assert.equal(1, code)
    assert.matches("http://127%.0%.0%.1: failed: unsupported ICE server scheme 'http'", out)
    assert.matches("turn:127%.0%.0%.1: failed: a TURN server needs %-%-user/%-%-pass or %-%-secret", out)
  end)
end)
