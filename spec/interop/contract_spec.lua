-- The interop peer contract (docs/interop.md) as another stack's pairing script sees
-- it: spec/browser/pair.js --contract starts the answerer, waits for its READY, starts
-- the offerer, relays stdout lines to the other's stdin, and lists every broken rule
-- (anything but signaling JSON on stdout, not exactly one RESULT, no bye both ways, an
-- exit status that disagrees with the RESULT). examples/interop_peer.lua is paired with
-- itself and with Chromium's peer page in both roles, for dc-echo, dc-throughput, audio
-- and video. No check depends on how long anything took.
local interop = require "interop.helper"
local json = require("rtc").json

local N = 4 * 1000 * 1000

-- Both ok, no rule broken, and a selected pair ("host/prflx" style) in each RESULT.
local function pair(a, b)
  local res = interop.pair(a, b, { contract = true, timeout = 90 })
  if not (res.violations and #res.violations == 0) then
    error("contract broken: " .. json.encode(res.violations) .. "\n--- log tail ---\n" .. res.log:sub(-3000), 2)
  end
  interop.check(res, "pairing")
  for _, side in ipairs { "a", "b" } do
    assert.is_string(res[side].selected_pair, side .. " has no selected_pair")
    assert.matches("^%l+/%l+$", res[side].selected_pair)
  end
  return res
end

-- What each test's RESULTs carry, offerer (a) and answerer (b).
local expect = {
  ["dc-echo"] = function(res)
    assert.is_number(res.a.setup_ms)
    assert.is_number(res.a.echo_rtt_ms)
  end,
  ["dc-throughput"] = function(res)
    assert.equal(N, res.a.peer_bytes_received)   -- from the answerer's done:N
    assert.equal(N, res.b.bytes_received)
    assert.is_true(res.b.mb_per_s > 0)
    -- 1 MB = 10^6 bytes; mbps counts bits.
    assert.near(res.b.mb_per_s * 8, res.b.mbps, res.b.mbps * 0.01)
  end,
  audio = function(res, duration)
    assert.is_true(res.a.frames_sent > 0)
    assert.equal("audio/opus", res.b.codec)
    assert.is_true(res.b.packets_received > 0)
    assert.is_true(res.b.decoded)
    assert.equal(duration, res.b.duration_s)
  end,
  video = function(res, duration)
    assert.is_number(res.a.setup_ms)
    assert.is_true(res.a.frames_sent > 0)
    assert.equal("video/VP8", res.b.codec)
    assert.is_true(res.b.frames_received > 0)
    assert.is_true(res.b.packets_received >= res.b.frames_received)
    assert.is_true(res.b.keyframes >= 1)
    assert.is_number(res.b.width)
    assert.is_number(res.b.height)
    assert.equal(duration, res.b.duration_s)
  end,
}

local function args(role, test, extra)
  local t = { "--role", role, "--test", test }
  if test == "dc-throughput" then t[#t + 1] = "--bytes"; t[#t + 1] = tostring(N) end
  if test == "audio" or test == "video" then t[#t + 1] = "--duration"; t[#t + 1] = "2" end
  for _, x in ipairs(extra or {}) do t[#t + 1] = x end
  return t
end

describe("interop peer contract: luartc with luartc", function()
  for _, test in ipairs { "dc-echo", "dc-throughput", "audio", "video" } do
    it(test, function()
      local res = pair(interop.luartc(args("offer", test)), interop.luartc(args("answer", test)))
      expect[test](res, 2)
      if test == "video" then
        -- No --file: the offerer loops the clip the project ships (320x240).
        assert.equal(320, res.b.width)
        assert.equal(240, res.b.height)
      end
    end)
  end

  it("dc-echo with --trickle, and options no test uses accepted and ignored", function()
    local extra = { "--trickle", "--record", "/nonexistent/x.webm", "--some-other-stack-option", "7", "--flag" }
    local res = pair(interop.luartc(args("offer", "dc-echo", extra)), interop.luartc(args("answer", "dc-echo", extra)))
    expect["dc-echo"](res)
    -- Both sides trickled candidate lines as the contract has them.
    local seen = {}
    for side, line in res.log:gmatch("\n([AB])> ([^\n]*)") do
      local msg = json.decode(line)
      if type(msg) == "table" and msg.type == "candidate" then
        seen[side] = true
        assert.matches("^candidate:", msg.candidate)
        assert.is_string(msg.sdpMid)
        assert.is_number(msg.sdpMLineIndex)
      end
    end
    assert.is_true(seen.A and seen.B)
  end)

  it("audio receivers listen for --duration, 5 s by default", function()
    local res = pair(interop.luartc { "--role", "offer", "--test", "audio" },
                     interop.luartc { "--role", "answer", "--test", "audio" })
    expect.audio(res, 5)
  end)
end)

describe("interop peer contract: pair.js enforces it", function()
  it("lists junk on stdout, a missing bye and an exit status at odds with RESULT", function()
    local sh = function(script) return { "sh", "-c", script } end
    local res = interop.pair(sh([[echo READY >&2; echo 'not json'; echo 'RESULT {"ok":true}' >&2; exit 3]]),
                             sh([[echo READY >&2; echo '{"type":"bye"}'; echo 'RESULT {"ok":true}' >&2; read x]]),
                             { contract = true, timeout = 30 })
    local text = table.concat(res.violations, "\n")
    assert.matches("A: stdout line is not signaling %(not JSON%)", text)
    assert.matches("A: sent 0 bye messages, not 1", text)
    assert.matches("A: exit status 3 with RESULT ok=true", text)
    assert.not_matches("B:", text)
  end)

  it("starts the offerer only once the answerer is READY", function()
    -- The answerer never prints READY and exits: the offerer must never run.
    local res = interop.pair({ "sh", "-c", [[echo 'RESULT {"ok":true}' >&2; echo started >&2]] },
                             { "sh", "-c", [[echo 'RESULT {"ok":false}' >&2; exit 1]] },
                             { contract = true, timeout = 30 })
    assert.equal("not started", res.a.error)
    assert.not_matches("A: started", res.log)
    assert.matches("B: exited before READY", table.concat(res.violations, "\n"))
  end)
end)

describe("interop peer contract: luartc with Chromium's peer page", function()
  for _, test in ipairs { "dc-echo", "dc-throughput", "audio", "video" } do
    it(test .. ": luartc offers, Chromium answers", function()
      local res = pair(interop.luartc(args("offer", test)), interop.browser(args("answer", test)))
      expect[test](res, 2)
    end)
    it(test .. ": Chromium offers, luartc answers", function()
      local extra = test == "dc-echo" and { "--trickle" } or nil
      local res = pair(interop.browser(args("offer", test, extra)), interop.luartc(args("answer", test, extra)))
      expect[test](res, 2)
    end)
  end
end)
