-- Every foundation example runs and does what it says.
local child = require "support.child"
local dir = child.SOURCE_DIR .. "/examples/"

describe("examples", function()
  it("hello.lua greets three times and prints JSON", function()
    local code, out, err = child.run { dir .. "hello.lua", "luartc" }
    assert.equal(0, code, err)
    assert.equal('hello, luartc (1)\nhello, luartc (2)\nhello, luartc (3)\n["greeted",true]\n', out)
  end)

  it("udp_echo.lua self-test echoes five datagrams", function()
    local code, out, err = child.run { dir .. "udp_echo.lua" }
    assert.equal(0, code, err)
    assert.matches("^5 echoes from 127%.0%.0%.1:%d+, max rtt [%d.]+ ms\n$", out)
  end)

  it("udp_echo.lua serve mode answers another luartc and stops on SIGTERM", function()
    local q = child.quote
    local port = 20000 + (os.time() % 20000)
    local out, err = os.tmpname(), os.tmpname()
    local sh = string.format([[
      %s %s serve %d >%s 2>%s & pid=$!
      n=0; while ! grep -q serving %s; do sleep 0.02; n=$((n+1)); [ $n -gt 250 ] && break; done
      %s -e %s >>%s 2>&1
      kill -TERM $pid; wait $pid; echo "rc=$?" >>%s
    ]], q(child.LUARTC), q(dir .. "udp_echo.lua"), port, q(out), q(err), q(err), q(child.LUARTC),
      q(string.format([[
        local rtc = require "rtc"
        local s = assert(rtc.udp { host = "127.0.0.1" })
        local me = coroutine.running()
        s:on("message", function(d) coroutine.resume(me, d) end)
        s:send("hi", "127.0.0.1", %d)
        print("got " .. coroutine.yield())
        s:close()
      ]], port)), q(out), q(out))
    os.execute(sh)
    local o, e = child.slurp(out), child.slurp(err)
    os.remove(out); os.remove(err)
    assert.matches("serving on 127.0.0.1:" .. port, e, 1, true)
    assert.equal("got hi\nrc=0\n", o)
  end)
end)
