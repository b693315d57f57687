-- `cmake --install` of this build into a temporary prefix, and what runs from there:
-- the installed luartc, given only the installed Lua directory, mounts the pages whose
-- HTML the modules read from beside their code (icepage, stats) and serves them over
-- loopback; stock lua5.4 loads the installed rtc.core.
local rtc = require "rtc"
local http = require "http"
local loop = require "support.loop"
local child = require "support.child"
local tmp = require "support.tmp"
local q = child.quote

local SERVER = [[
local rtc = require "rtc"
local http, icepage, stats = require "http", require "icepage", require "stats"
local srv = assert(http.server { host = "127.0.0.1", port = 0 })
icepage.mount(srv, "/tools/ice", { servers = { { urls = "stun:127.0.0.1:3478" } } })
local page = stats.mount(srv, "/stats")
rtc.stdout:write("READY ", srv.port, " ", package.searchpath("icepage", package.path), " ",
                 package.searchpath("stats", package.path), "\n")
rtc.on("shutdown", function() page:close(); srv:close() end)
]]

describe("installed copy", function()
  local prefix, share

  setup(function()
    prefix = tmp.dir()
    share = prefix .. "/share/lua/5.4"
    local out = child.sh(string.format("cmake --install %s --prefix %s && echo INSTALLED",
                                       q(os.getenv("RTC_BINARY_DIR")), q(prefix)), 120)
    assert(out:match("INSTALLED\n$"), out)
  end)

  teardown(tmp.clean)

  it("serves the ICE tester and stats pages from the installed modules", function()
    -- LUARTC_PATH replaces the default path (the source tree first); LUA_PATH would
    -- add the source tree back, so the child runs without it
    local cmd = string.format("env -u LUA_PATH -u LUA_CPATH LUARTC_PATH=%s %s %s", q(share),
                              q(prefix .. "/bin/luartc"), q(child.script(SERVER)))
    local p = child.start(cmd, "READY (%d+) (%S+) (%S+)\n")
    local port, ice_file, stats_file = tonumber(p.ready[1]), p.ready[2], p.ready[3]
    local ok, err = pcall(function()
      assert.equal(share .. "/icepage/init.lua", ice_file)
      assert.equal(share .. "/stats/init.lua", stats_file)
      local pages = {}
      loop.run_task(function()
        for _, path in ipairs { "/tools/ice", "/stats" } do
          pages[path] = assert(http.request("http://127.0.0.1:" .. port .. path))
        end
      end)
      for path, dir in pairs { ["/tools/ice"] = "icepage", ["/stats"] = "stats" } do
        local r = pages[path]
        assert.equal(200, r.status, path)
        local want = child.slurp(child.SOURCE_DIR .. "/modules/" .. dir .. "/page.html"):gsub("@@BASE@@", path)
        assert.equal(want, r.body, path)
      end
    end)
    child.stop(p.pid)
    assert(ok, tostring(err) .. "\n" .. child.slurp(p.err))
  end)

  it("lets stock lua5.4 load the installed rtc and rtc.core", function()
    -- the library directory is the platform's (lib, lib64 or a multiarch one)
    local so = child.sh(string.format("find %s -path '*/lua/5.4/rtc/core.so'", q(prefix))):match("^(%S+)\n$")
    assert(so, "no installed rtc/core.so")
    -- child.sh drops LD_PRELOAD for the tools it runs; a sanitizer build's rtc/core.so
    -- loaded into the stock lua5.4 needs the sanitizer runtimes preloaded, so pass it on.
    local out = child.sh(string.format(
      "env -u LUA_PATH -u LUA_CPATH LD_PRELOAD=%s LUA_PATH=%s LUA_CPATH=%s lua5.4 -e %s",
      q(os.getenv("LD_PRELOAD") or ""),
      q(share .. "/?.lua;" .. share .. "/?/init.lua"), q(so:gsub("rtc/core%.so$", "?.so")),
      q('local rtc = require "rtc"; print(package.searchpath("rtc.core", package.cpath), type(rtc.now()))')))
    assert.equal(so .. "\tnumber\n", out)
  end)
end)
