-- Chromium's own TURN client against our server: two headless Chromium peers
-- (spec/browser/browser_peer.js, paired by spec/browser/pair.js) restricted to relay
-- candidates exchange a data channel through `luartc examples/turn_server.lua`, over
-- UDP and over TURN/TCP. The server runs on 127.0.0.1 and is stopped at the end.
local rtc = require "rtc"
local child = require "support.child"
local tmp = require "support.tmp"
local q = child.quote

local EXAMPLE = child.SOURCE_DIR .. "/examples/turn_server.lua"
describe("turn server with Chromium", function()
  local pid, port

  setup(function()
    local base = require("support.ports").relay_window(100)
    local p = child.start(string.format("%s %s --listen 127.0.0.1:0 --realm R --user u:p --tcp --allow-loopback " ..
      "--min-port %d --max-port %d", q(child.LUARTC), q(EXAMPLE), base, base + 99), "READY 127%.0%.0%.1:(%d+)")
    pid, port = p.pid, tonumber(p.ready[1])
  end)

  teardown(function()
    if pid then child.stop(pid) end
    tmp.clean()
  end)

  local function chromium_pair(turn_url, test, extra)
    local b = child.SOURCE_DIR .. "/spec/browser/"
    local peer = { "node", b .. "browser_peer.js", "--test", test, "--turn", turn_url,
                   "--turn-user", "u", "--turn-pass", "p", "--relay-only" }
    for _, x in ipairs(extra or {}) do peer[#peer + 1] = x end
    local function cmd(role)
      local t = { table.unpack(peer) }
      table.insert(t, 3, "--role"); table.insert(t, 4, role)
      for i = 1, #t do t[i] = q(t[i]) end
      return table.concat(t, " ")
    end
    local out = child.sh(string.format("node %s --timeout 60 -- %s -- %s", q(b .. "pair.js"), cmd("offer"), cmd("answer")), 90)
    local line = out:match("\n?(%b{})%s*$") or ""
    return rtc.json.decode(line) or {}, out
  end

  it("relays a data channel between two Chromium peers over UDP", function()
    local res, out = chromium_pair("turn:127.0.0.1:" .. port, "dc-echo")
    assert(res.a and res.a.ok and res.b and res.b.ok, out:sub(-2000))
    assert.equal("relay/relay", res.a.selected_pair)
    assert.equal("relay/relay", res.b.selected_pair)
  end)

  it("carries 2 MB between two Chromium peers relayed over TURN/TCP", function()
    local res, out = chromium_pair("turn:127.0.0.1:" .. port .. "?transport=tcp", "dc-throughput",
                                   { "--bytes", "2000000" })
    assert(res.a and res.a.ok and res.b and res.b.ok, out:sub(-2000))
    assert.equal(2000000, res.b.bytes_received)
    assert.equal("relay/relay", res.b.selected_pair)
  end)
end)
