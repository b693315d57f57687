-- luartc and Chromium behind NATs (spec/browser/nat.sh: network namespaces, iptables
-- MASQUERADE), with luartc's STUN/TURN server on the public side. Host addresses
-- behind a NAT are on private LANs nothing else reaches, so the candidate types of the
-- selected pair say which way the call went:
-- - one side behind a cone NAT (Linux keeps a socket's port for every destination),
--   the other public, as a browser calling a server: STUN alone is enough, the public
--   side meets the NATed one on its server-reflexive or peer-reflexive address;
-- - both behind symmetric NATs (a new port per destination): only TURN gets through.
-- (Two Linux NATs facing each other do not act as cones for ICE's simultaneous checks:
-- see nat.sh.)
local interop = require "interop.helper"

local check = interop.check
local STUN = "stun:203.0.113.1:3478"
local TURN = { "--turn", "turn:203.0.113.1:3478", "--turn-user", "u", "--turn-pass", "p" }

local function with(args, extra)
  local t = { table.unpack(args) }
  for _, x in ipairs(extra or {}) do t[#t + 1] = x end
  return t
end

-- The candidate types of a "local/remote" selected pair.
local function types(pair)
  local l, r = tostring(pair):match("^(%a+)/(%a+)$")
  return l, r
end
local PUBLIC_MAPPING = { srflx = true, prflx = true }

describe("luartc <-> Chromium through NATs", function()
  it("Chromium behind a cone NAT reaches a public luartc with STUN alone", function()
    local res = interop.pair(
      interop.browser { "--role", "offer", "--test", "dc-echo", "--trickle", "--stun", STUN },
      interop.luartc { "--role", "answer", "--test", "dc-echo", "--trickle", "--stun", STUN },
      { nat = { "cone", "public" }, timeout = 60 })
    check(res, "dc-echo, Chromium behind a cone NAT")
    -- the public luartc uses its own address and sees Chromium at its NAT's mapping
    local l, r = types(res.b.selected_pair)
    assert.equal("host", l, res.b.selected_pair)
    assert.is_true(PUBLIC_MAPPING[r] ~= nil, res.b.selected_pair)
  end)

  it("luartc behind a cone NAT reaches a public Chromium with STUN alone", function()
    local res = interop.pair(
      interop.luartc { "--role", "offer", "--test", "dc-echo", "--trickle", "--stun", STUN },
      interop.browser { "--role", "answer", "--test", "dc-echo", "--trickle", "--stun", STUN },
      { nat = { "cone", "public" }, timeout = 60 })
    check(res, "dc-echo, luartc behind a cone NAT")
    -- Chromium sees luartc at its NAT's mapping; no relay on either side
    local la, ra = types(res.a.selected_pair)
    local lb, rb = types(res.b.selected_pair)
    assert.is_true(la ~= "relay" and ra ~= "relay", res.a.selected_pair)
    assert.is_true(lb ~= "relay", res.b.selected_pair)
    assert.is_true(PUBLIC_MAPPING[rb] ~= nil, res.b.selected_pair)
  end)

  it("both behind symmetric NATs go through the TURN server", function()
    local res = interop.pair(
      interop.browser(with({ "--role", "offer", "--test", "dc-echo", "--trickle", "--stun", STUN }, TURN)),
      interop.luartc(with({ "--role", "answer", "--test", "dc-echo", "--trickle", "--stun", STUN }, TURN)),
      { nat = { "symmetric", "symmetric" }, timeout = 60 })
    check(res, "dc-echo behind symmetric NATs")
    assert.matches("relay", res.a.selected_pair)
    assert.matches("relay", res.b.selected_pair)
  end)
end)
