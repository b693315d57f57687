-- Data channels between luartc and a real headless Chromium, both directions, through
-- the interop peer contract (docs/interop.md), inside a private network namespace.
local interop = require "interop.helper"

local check = interop.check

describe("luartc <-> Chromium data channels", function()
  it("luartc offers, Chromium answers (Chromium's default mDNS host candidates)", function()
    local res = interop.pair(interop.luartc { "--role", "offer", "--test", "dc-echo" },
                             interop.browser { "--role", "answer", "--test", "dc-echo" })
    check(res, "dc-echo luartc->chromium")
    assert.is_number(res.a.echo_rtt_ms)
    -- Chromium hid its address behind a .local name: we reached it as peer-reflexive.
    assert.matches("^host/", res.a.selected_pair)
    assert.matches("%.local", res.log)
  end)

  it("Chromium offers with trickle, luartc answers", function()
    local res = interop.pair(interop.browser { "--role", "offer", "--test", "dc-echo", "--trickle" },
                             interop.luartc { "--role", "answer", "--test", "dc-echo", "--trickle" })
    check(res, "dc-echo chromium->luartc trickle")
    assert.equal("host/prflx", res.b.selected_pair)
  end)

  it("moves 8 MB from luartc to Chromium with backpressure", function()
    local n = tostring(8 * 1000 * 1000)
    local res = interop.pair(interop.luartc { "--role", "offer", "--test", "dc-throughput", "--bytes", n },
                             interop.browser { "--role", "answer", "--test", "dc-throughput", "--bytes", n })
    check(res, "dc-throughput luartc->chromium")
    assert.equal(8 * 1000 * 1000, res.b.bytes_received)
    assert.equal(8 * 1000 * 1000, res.b.stats.bytesReceived)
  end)

  it("moves 8 MB from Chromium to luartc with real host addresses exposed", function()
    local n = tostring(8 * 1000 * 1000)
    local res = interop.pair(interop.browser { "--role", "offer", "--test", "dc-throughput", "--bytes", n,
                                               "--expose-ips" },
                             interop.luartc { "--role", "answer", "--test", "dc-throughput", "--bytes", n })
    check(res, "dc-throughput chromium->luartc")
    assert.equal(8 * 1000 * 1000, res.b.bytes_received)
    assert.equal("host/host", res.b.selected_pair)
  end)

  -- Every channel kind and message kind, closing from each side, ICE restart started
  -- by each side, and getStats on both sides agreeing on the bytes of a channel.
  local function check_suite(res, offerer_is_luartc)
    local a = res.a
    assert.equal(2, a.restarts)
    assert.equal(a.mine.bytesSent, a.theirs.bytesReceived)
    assert.equal(a.mine.messagesSent, a.theirs.messagesReceived)
    -- The answerer's report left before its own stats message: one message more here.
    assert.equal(a.theirs.messagesSent + 1, a.mine.messagesReceived)
  end

  it("dc-suite: luartc offers, Chromium answers", function()
    local res = interop.pair(interop.luartc { "--role", "offer", "--test", "dc-suite" },
                             interop.browser { "--role", "answer", "--test", "dc-suite" }, { timeout = 90 })
    check(res, "dc-suite luartc->chromium")
    check_suite(res)
  end)

  it("dc-suite: Chromium offers with trickle, luartc answers", function()
    local res = interop.pair(interop.browser { "--role", "offer", "--test", "dc-suite", "--trickle" },
                             interop.luartc { "--role", "answer", "--test", "dc-suite", "--trickle" }, { timeout = 90 })
    check(res, "dc-suite chromium->luartc")
    check_suite(res)
  end)
end)
