-- Two luartc processes paired through the interop peer contract (stdio signaling).
local interop = require "interop.helper"

local check = interop.check

describe("luartc <-> luartc across processes", function()
  it("dc-echo without trickle", function()
    local res = interop.pair(interop.luartc { "--role", "offer", "--test", "dc-echo" },
                             interop.luartc { "--role", "answer", "--test", "dc-echo" })
    check(res, "dc-echo")
    assert.equal("host/host", res.a.selected_pair)
  end)

  it("dc-echo with trickle", function()
    local res = interop.pair(interop.luartc { "--role", "offer", "--test", "dc-echo", "--trickle" },
                             interop.luartc { "--role", "answer", "--test", "dc-echo", "--trickle" })
    check(res, "dc-echo trickle")
  end)

  it("dc-throughput of 32 MB", function()
    local n = tostring(32 * 1000 * 1000)
    local res = interop.pair(interop.luartc { "--role", "offer", "--test", "dc-throughput", "--bytes", n },
                             interop.luartc { "--role", "answer", "--test", "dc-throughput", "--bytes", n })
    check(res, "dc-throughput")
    assert.equal(32 * 1000 * 1000, res.b.bytes_received)
  end)

  it("a bad option ends with a RESULT line and exit status 2", function()
    local res = interop.pair(interop.luartc { "--role", "sideways" },
                             interop.luartc { "--role", "answer", "--test", "dc-echo", "--timeout", "1" })
    assert.is_false(res.a.ok)
    assert.matches("role", res.a.error)
  end)

  it("dc-suite: channel kinds, closes and ICE restarts from both sides", function()
    local res = interop.pair(interop.luartc { "--role", "offer", "--test", "dc-suite", "--trickle" },
                             interop.luartc { "--role", "answer", "--test", "dc-suite", "--trickle" })
    check(res, "dc-suite")
    assert.equal(res.a.mine.bytesSent, res.a.theirs.bytesReceived)
  end)
end)
