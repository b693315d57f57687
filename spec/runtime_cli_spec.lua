-- The luartc executable, run as a child process.
local child = require "support.child"
local tmp = require "support.tmp"
local run, script, q = child.run, child.script, child.quote

-- child.script files (and the names they reserved) go at the end.
teardown(tmp.clean)

describe("luartc", function()
  it("--version and -v print the version", function()
    local code, out = run { "--version" }
    assert.equal(0, code)
    assert.matches("^luartc %d+%.%d+%.%d+ %(Lua 5%.4", out)
    local code2, out2 = run { "-v" }
    assert.equal(0, code2)
    assert.equal(out, out2)
  end)

  it("-e runs code as a task", function()
    local code, out = run { "-e", "local rtc = require 'rtc'; rtc.sleep(0.001); print('after sleep')" }
    assert.equal(0, code)
    assert.equal("after sleep\n", out)
  end)

  it("runs a script with its arguments in arg", function()
    local path = script [[
      local rtc = require "rtc"
      print(arg[0] == ..., select("#", ...), arg[1], arg[2], #arg)
    ]]
    local code, out = run { path, "one", "two" }
    os.remove(path)
    assert.equal(0, code)
    assert.equal("false\t2\tone\ttwo\t2\n", out)
  end)

  it("- reads the script from stdin", function()
    local code, out = run { "-", "x", stdin = "print('from stdin', ...)" }
    assert.equal(0, code)
    assert.equal("from stdin\tx\n", out)
  end)

  it("reports a syntax error as file:line: message and exits 1", function()
    local path = script "local x = 1\nlocal y = = 2\n"
    local code, out, err = run { path }
    os.remove(path)
    assert.equal(1, code)
    assert.equal("", out)
    assert.matches(path:gsub("%p", "%%%0") .. ":2: unexpected symbol near '='", err)
  end)

  it("reports a missing script in one line and exits 1", function()
    local code, _, err = run { "/nonexistent/script.lua" }
    assert.equal(1, code)
    assert.equal("luartc: cannot open /nonexistent/script.lua: No such file or directory\n", err)
  end)

  it("exits 1 with a traceback on an uncaught error in the main task", function()
    local path = script [[
      local rtc = require "rtc"
      local function deep() error("main task failed") end
      rtc.sleep(0.001)
      deep()
    ]]
    local code, _, err = run { path }
    os.remove(path)
    assert.equal(1, code)
    assert.matches("main task failed", err, 1, true)
    assert.matches("stack traceback:", err, 1, true)
    assert.matches("in local 'deep'", err, 1, true)
  end)

  it("runs scripts written for stock lua5.4 (ending in rtc.run())", function()
    local code, out = run { "-e", [[
      local rtc = require "rtc"
      rtc.spawn(function() rtc.sleep(0.001); print("task ran") end)
      print("run returned", rtc.run())
    ]] }
    assert.equal(0, code)
    assert.equal("task ran\nrun returned\ttrue\n", out)
  end)

  it("finds modules on LUARTC_PATH", function()
    local dir = os.tmpname()
    os.remove(dir)
    os.execute("mkdir -p " .. q(dir .. "/pkg"))
    child.write(dir .. "/mymod.lua", "return { name = 'mymod' }")
    child.write(dir .. "/pkg/init.lua", "return { name = 'pkg' }")
    local code, out, err = run { env = "LUARTC_PATH=" .. q(child.SOURCE_DIR .. "/lua:" .. dir) .. " LUA_PATH=",
      "-e", "print(require('mymod').name, require('pkg').name, require('rtc').version)" }
    os.execute("rm -rf " .. q(dir))
    assert.equal(0, code, err)
    assert.matches("^mymod\tpkg\t%d+%.%d+%.%d+\n$", out)
  end)

  it("rejects unknown options", function()
    local code, _, err = run { "--bogus" }
    assert.equal(1, code)
    assert.matches("unrecognized option '--bogus'", err, 1, true)
  end)

  it("honours os.exit", function()
    local code = run { "-e", "require('rtc').set_timeout(1, function() os.exit(7) end)" }
    assert.equal(7, code)
    local code2, out = run { "-e", "io.write('x') os.exit(true, true)" }
    assert.equal(0, code2)
    assert.equal("x", out)
  end)

  it("keeps running after an error in a callback and logs its traceback", function()
    local path = script [[
      local rtc = require "rtc"
      rtc.set_timeout(1, function() local t = nil; return t.field end)
      rtc.set_timeout(20, function() print("still running") end)
    ]]
    local code, out, err = run { path }
    os.remove(path)
    assert.equal(0, code)
    assert.equal("still running\n", out)
    assert.matches("E lua: callback error: .*attempt to index a nil value %(local 't'%)", err)
    assert.matches("stack traceback:", err, 1, true)
  end)

  it("an error in a task that nobody joins is logged, and the script goes on", function()
    local code, out, err = run { "-e", [[
      local rtc = require "rtc"
      rtc.spawn(function() rtc.sleep(0.001); error("lost task") end)
      rtc.sleep(0.01)
      print("done")
    ]] }
    assert.equal(0, code)
    assert.equal("done\n", out)
    assert.matches("task failed: .*lost task", err)
  end)

  describe("stdin", function()
    local src = [[
      local rtc = require "rtc"
      local n = 0
      while true do
        local line = rtc.stdin:read_line()
        if not line then break end
        n = n + 1
        rtc.stdout:write(n .. ":" .. line .. "\n")
      end
      rtc.stdout:write("eof after " .. n .. "\n")
    ]]
    it("read_line returns lines then nil at EOF (file)", function()
      local path = script(src)
      local code, out = run { path, stdin = "alpha\nbeta\r\ngamma" }
      os.remove(path)
      assert.equal(0, code)
      assert.equal("1:alpha\n2:beta\n3:gamma\neof after 3\n", out)
    end)

    it("read_line returns lines then nil at EOF (pipe)", function()
      local path = script(src)
      local code, out = run { path, exe = "printf 'a\\nb\\n' | " .. q(child.LUARTC) }
      os.remove(path)
      assert.equal(0, code)
      assert.equal("1:a\n2:b\neof after 2\n", out)
    end)

    it("a script that stops reading exits although stdin stays open", function()
      local flag = os.tmpname()
      os.remove(flag)
      local seen = os.tmpname()
      -- the writer keeps the pipe open until luartc has exited (or gives up after ~10 s)
      local sh = string.format([[
        { echo first; n=0; while [ ! -e %s ] && [ $n -lt 200 ]; do sleep 0.05; n=$((n+1)); done;
          [ -e %s ] && echo exited-first >%s; } |
        { %s -e "print(require('rtc').stdin:read_line())" >/dev/null; touch %s; }
      ]], q(flag), q(flag), q(seen), q(child.LUARTC), q(flag))
      os.execute(sh)
      local s = child.slurp(seen)
      os.remove(flag); os.remove(seen)
      assert.equal("exited-first\n", s)
    end)

    it("a closed stdin reads as empty", function()
      local out = os.tmpname()
      os.execute(string.format("%s -e %s <&- >%s 2>&1", q(child.LUARTC),
        q("print(require('rtc').stdin:read_line())"), q(out)))
      local s = child.slurp(out)
      os.remove(out)
      assert.equal("nil\n", s)
    end)

    it("reads from a slow writer without blocking timers", function()
      local path = script [[
        local rtc = require "rtc"
        local ticks = 0
        local iv = rtc.set_interval(5, function() ticks = ticks + 1 end)
        local lines = {}
        while true do
          local l = rtc.stdin:read_line()
          if not l then break end
          lines[#lines + 1] = l
        end
        iv:stop()
        print(table.concat(lines, ","), ticks > 0)
      ]]
      local code, out = run { path, exe = "(echo one; sleep 0.1; echo two) | " .. q(child.LUARTC) }
      os.remove(path)
      assert.equal(0, code)
      assert.equal("one,two\ttrue\n", out)
    end)
  end)

  describe("signals", function()
    -- Start the child in the background, wait until it says "ready", signal it.
    local function signal_child(src, signals)
      local path = script(src)
      local out, err = os.tmpname(), os.tmpname()
      local kills = {}
      for i = 1, signals do
        kills[i] = "kill -TERM $pid; sleep 0.2"
      end
      local sh = string.format([[
        %s %s >%s 2>%s & pid=$!
        n=0; while ! grep -q ready %s; do sleep 0.02; n=$((n+1)); [ $n -gt 250 ] && break; done
        %s
        wait $pid; echo "rc=$?" >>%s
      ]], q(child.LUARTC), q(path), q(out), q(err), q(out), table.concat(kills, "; "), q(out))
      os.execute(sh)
      local o, e = child.slurp(out), child.slurp(err)
      os.remove(out); os.remove(err); os.remove(path)
      return o, e
    end

    it("SIGTERM runs the shutdown handler, which cleans up; exit 0", function()
      local out = signal_child([[
        local rtc = require "rtc"
        local sock = assert(rtc.udp { host = "127.0.0.1" })
        rtc.on("shutdown", function(sig)
          rtc.sleep(0.001)                 -- handlers are tasks: they may wait
          print("shutdown on " .. sig)
          sock:close()
        end)
        rtc.stdout:write("ready\n")
      ]], 1)
      assert.equal("ready\nshutdown on SIGTERM\nrc=0\n", out)
    end)

    it("without a handler, SIGTERM stops the loop cleanly; exit 0", function()
      local out = signal_child([[
        local rtc = require "rtc"
        local sock = assert(rtc.udp { host = "127.0.0.1" })
        rtc.stdout:write("ready\n")
      ]], 1)
      assert.equal("ready\nrc=0\n", out)
    end)

    it("a second signal exits at once", function()
      local out = signal_child([[
        local rtc = require "rtc"
        local sock = assert(rtc.udp { host = "127.0.0.1" })
        rtc.on("shutdown", function() print("first signal: ignoring") end)
        rtc.stdout:write("ready\n")
      ]], 2)
      assert.equal("ready\nfirst signal: ignoring\nrc=143\n", out)
    end)
  end)

  it("filters logs with RTC_LOG and rtc.log.set_filter", function()
    local code, _, err = run { env = "RTC_LOG=warn,app=debug", "-e", [[
      local rtc = require "rtc"
      rtc.log.debug("app", "x=%d", 5)
      rtc.log.debug("other", "hidden")
      rtc.log.info("also hidden")
      rtc.log.warn("plain %s", "warning")
      rtc.log.set_filter("trace")
      rtc.log.trace("net", "now visible")
      assert(not pcall(rtc.log.set_filter, "loud"))
    ]] }
    assert.equal(0, code)
    assert.matches("D app: x=5", err, 1, true)
    assert.matches("W lua: plain warning", err, 1, true)
    assert.matches("T net: now visible", err, 1, true)
    assert.is_nil(err:find("hidden", 1, true))
  end)
end)
