-- The stats page (modules/stats) in headless Chromium during a call: a luartc child
-- runs two connected peer connections with a busy data channel and serves the page;
-- spec/browser/stats_page.js reads the page twice a few samples apart and saves a
-- screenshot (to docs/stats-page.png with RTC_DOCS_SCREENSHOTS=1).
local rtc = require "rtc"
local http = require "http"
local stats = require "stats"
local loop = require "support.loop"
local child = require "support.child"
local tmp = require "support.tmp"
local q = child.quote

describe("stats page", function()
  local pid, port

  setup(function()
    local p = child.start(string.format("%s %s", q(child.LUARTC), q(child.SOURCE_DIR .. "/spec/stats_call.lua")),
                          "READY (%d+)")
    pid, port = p.pid, tonumber(p.ready[1])
  end)

  teardown(function()
    if pid then child.stop(pid) end
    tmp.clean()
  end)

  it("shows values that move between two reads in Chromium, and the full stats of a clicked connection", function()
    -- The docs' screenshot is refreshed only when asked (RTC_DOCS_SCREENSHOTS=1): a test
    -- run leaves tracked files as they are.
    local shot = child.SOURCE_DIR .. "/docs/stats-page.png"
    if os.getenv("RTC_DOCS_SCREENSHOTS") ~= "1" then
      shot = tmp.file(".png")
    end
    local text = child.sh(string.format("node %s %s %s", q(child.SOURCE_DIR .. "/spec/browser/stats_page.js"),
      q("http://127.0.0.1:" .. port .. "/stats?token=s3"), q(shot)), 60)
    local res = rtc.json.decode(text:match("(%b{})%s*$") or "") or {}
    assert(res.first and res.second, text:sub(-2000))
    local a, b = res.first, res.second
    assert.equal(2, a.connections)
    assert.is_true(b.samples >= a.samples + 2)
    assert.equal(a.selected, b.selected)
    -- the graph gained points and its pixels changed; the counters went up
    assert.is_true(b.points > a.points, a.points .. " -> " .. b.points)
    assert.are_not.equal(a.canvas_sum, b.canvas_sum)
    assert.is_true(b.canvas_inked > 0)
    assert.is_true(b.bytes_received > a.bytes_received)
    assert.are_not.same(a.row, b.row)
    assert.equal("connected", b.row[2])
    assert.matches("^host 127%.0%.0%.1:%d+ %-> host 127%.0%.0%.1:%d+$", b.row[4])
    assert.is_true(b.last_point.kbps_out > 0 or b.last_point.kbps_in > 0)
    -- the clicked connection's W3C report, in full
    assert.equal("pc2", res.detail_id)
    local types = {}
    for _, st in pairs(res.detail) do types[st.type] = true end
    for _, t in ipairs { "peer-connection", "transport", "candidate-pair", "certificate", "data-channel" } do
      assert.is_true(types[t], t)
    end
    local f = assert(io.open(shot, "rb"))
    assert.equal("\137PNG", f:read(4))
    f:close()
  end)

  it("wants the token on the page, the details and the WebSocket", function()
    local base = "http://127.0.0.1:" .. port .. "/stats"
    loop.run_task(function()
      assert.equal(401, assert(http.request(base)).status)
      assert.equal(401, assert(http.request(base .. "?token=s4")).status)
      assert.equal(401, assert(http.request(base .. "/pc?id=pc1")).status)
      assert.equal(200, assert(http.request(base .. "?token=s3")).status)
      assert.equal(404, assert(http.request(base .. "/pc?id=pc99&token=s3")).status)
      local ws = assert(http.ws_connect("ws://127.0.0.1:" .. port .. "/stats/ws?token=nope"))
      local msg = ws:receive()
      assert.is_nil(msg)
      local ws2 = assert(http.ws_connect("ws://127.0.0.1:" .. port .. "/stats/ws?token=s3"))
      local snap = rtc.json.decode(assert(ws2:receive()))
      assert.equal("snapshot", snap.type)
      assert.equal(2, #snap.connections)
      local nxt = rtc.json.decode(assert(ws2:receive()))
      assert.equal("sample", nxt.type)
      assert.equal(1, #nxt.connections[1].points)
      ws2:close()
    end, 20000)
  end)

  it("refuses bad arguments", function()
    assert.has_error(function() stats.mount({}, "/stats") end, "bad argument #1 to 'stats.mount' (http.server expected)")
    local fake = { route = function() end, websocket = function() end }
    assert.has_error(function() stats.mount(fake, "/stats/") end,
                     "bad argument #2 to 'stats.mount' (path like \"/stats\" expected)")
    assert.has_error(function() stats.mount(fake, "/s", { token = 5 }) end,
                     "bad argument #3 to 'stats.mount' (token must be a non-empty string)")
  end)
end)
