-- modules/toolpage.lua through the two pages that use it (icepage, stats), without a
-- browser: the page served at its path with its base filled in and only with the
-- token, and mount's argument errors, which blame the caller of mount.
local http = require "http"
local icepage = require "icepage"
local stats = require "stats"
local loop = require "support.loop"

describe("toolpage", function()
  it("serves each page at its path with BASE set to it, and only with the token", function()
    loop.run_task(function()
      local srv = assert(http.server { port = 0 })
      icepage.mount(srv, "/t/ice", { token = "tk", servers = { { urls = "stun:127.0.0.1:3478" } } })
      local page = stats.mount(srv, "/t/stats")
      local base = "http://127.0.0.1:" .. srv.port
      assert.equal(401, assert(http.request(base .. "/t/ice")).status)
      assert.equal(401, assert(http.request(base .. "/t/ice?token=tK")).status)
      local r = assert(http.request(base .. "/t/ice?token=tk"))
      assert.equal(200, r.status)
      assert.equal("text/html; charset=utf-8", r.headers["content-type"])
      assert.equal("no-store", r.headers["cache-control"])
      assert.matches('const BASE = "/t/ice";', r.body, 1, true)
      assert.not_matches("@@BASE@@", r.body, 1, true)
      r = assert(http.request(base .. "/t/stats"))   -- no token wanted
      assert.equal(200, r.status)
      assert.matches('const BASE = "/t/stats";', r.body, 1, true)
      page:close()
      srv:close()
    end)
  end)

  it("reports bad mount arguments at the line that called mount", function()
    local fake = { route = function() end }
    local cases = {
      { function() icepage.mount({}, "/x") end, "bad argument #1 to 'icepage.mount' (http.server expected)" },
      { function() icepage.mount(fake, "/x/") end, "bad argument #2 to 'icepage.mount' (path like \"/tools/ice\" expected)" },
      { function() icepage.mount(fake, "/x", { servers = {}, token = "" }) end,
        "bad argument #3 to 'icepage.mount' (token must be a non-empty string)" },
      -- stats wants a server that serves WebSockets too
      { function() stats.mount(fake, "/s") end, "bad argument #1 to 'stats.mount' (http.server expected)" },
      { function() stats.mount({ route = fake.route, websocket = fake.route }, "/s", { token = 5 }) end,
        "bad argument #3 to 'stats.mount' (token must be a non-empty string)" },
    }
    for _, c in ipairs(cases) do
      local ok, err = pcall(c[1])
      assert.is_false(ok)
      local line = debug.getinfo(c[1], "S").linedefined
      assert.equal("spec/toolpage_spec.lua:" .. line .. ": " .. c[2], (err:gsub("^.*/spec/", "spec/")))
    end
  end)
end)
