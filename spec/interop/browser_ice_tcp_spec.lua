-- ICE-TCP (RFC 6544) between luartc and Chromium with every UDP packet dropped in the
-- test's namespace and no TURN server: luartc (ice_tcp on) listens and announces a
-- passive TCP host candidate, Chromium connects from its active one, and the call runs
-- on that connection (STUN, DTLS and SCTP framed per RFC 4571). Both sides' stats must
-- say the selected pair is TCP; the data-channel echo must complete.
local interop = require "interop.helper"

local DROP_UDP = "iptables -A INPUT -p udp -j DROP && iptables -A OUTPUT -p udp -j DROP"

describe("luartc <-> Chromium over ICE-TCP with UDP blocked", function()
  if not interop.have_browser() then
    it("needs chromium and playwright-core", function() pending("not installed") end)
    return
  end

  local function run(luartc_role)
    local luartc = interop.luartc { "--role", luartc_role, "--test", "dc-echo", "--trickle", "--ice-tcp" }
    local browser = interop.browser { "--role", luartc_role == "answer" and "offer" or "answer", "--test", "dc-echo",
                                      "--trickle" }
    local a, b = browser, luartc
    if luartc_role == "offer" then a, b = luartc, browser end
    local res = interop.pair(a, b, { timeout = 60, setup = DROP_UDP })
    interop.check(res, "dc-echo over ICE-TCP, luartc " .. luartc_role .. "ing")
    local lres, bres = res.b, res.a
    if luartc_role == "offer" then lres, bres = res.a, res.b end
    assert.equal("tcp", bres.selected_protocol, require("rtc").json.encode(bres))
    assert.equal("tcp", lres.selected_protocol, require("rtc").json.encode(lres))
    -- luartc's passive host candidate; Chromium's active one appears to it as the
    -- connection's peer-reflexive address (its signalled port is 9, RFC 6544)
    assert.equal("host/prflx", lres.selected_pair)
    assert.equal("host", (tostring(bres.selected_pair):match("^%a+/(%a+)$")))
  end

  it("Chromium offers, luartc answers", function() run("answer") end)
  it("luartc offers, Chromium answers", function() run("offer") end)
end)
