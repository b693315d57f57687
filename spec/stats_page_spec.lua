-- The stats page (modules/stats) in headless Chromium during a call: a luartc child
-- runs two connected peer connections with a busy data channel, and an SFU call
-- (publisher -> SFU -> subscriber, VP8 and Opus) beside it, and serves the page;
-- spec/browser/stats_page.js reads the page twice a few samples apart and saves a
-- screenshot (to docs/stats-page.png with RTC_DOCS_SCREENSHOTS=1).
local rtc = require "rtc"
local http = require "http"
local stats = require "stats"
local loop = require "support.loop"
local child = require "support.child"
local tmp = require "support.tmp"
local clips = require "support.clips"
local q = child.quote

describe("stats page", function()
  local pid, port

  setup(function()
    -- a VP8 clip for the SFU call beside the data channel call
    local ivf = clips.vp8()
    local p = child.start(string.format("%s %s %s", q(child.LUARTC), q(child.SOURCE_DIR .. "/spec/stats_call.lua"),
                                        q(ivf)), "READY (%d+)", 20)
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
    assert.equal(6, a.connections)   -- the data channel call's two, the SFU call's four
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
    -- the SFU: the room, its producers with their layers, its consumers with the layer
    -- forwarded now, their counters moving; the estimate of the SFU's connection to
    -- the subscriber in the table
    assert.same({ "SFU room demo: 2 peer(s), 2 producer(s), 2 consumer(s)" }, b.sfu_title)
    local kinds = {}
    for _, row in ipairs(b.sfu_producers) do kinds[row[2]] = row end
    assert.equal("VP8", kinds.video[3])
    assert.matches("^%d+ kbit/s 160x120$", kinds.video[4])
    assert.equal(2, #b.sfu_consumers)
    local video, first_video
    for _, row in ipairs(b.sfu_consumers) do if row[2] == "video" then video = row end end
    for _, row in ipairs(a.sfu_consumers) do if row[2] == "video" then first_video = row end end
    assert.matches("^0/%d", video[4])
    assert.is_true(tonumber(video[5]) > tonumber(first_video[5]), first_video[5] .. " -> " .. video[5])
    local sub_pc = video[1]
    assert.is_true(b.estimates[sub_pc] > 0)
    local est_cell
    for _, row in ipairs(b.rows) do if row[1] == sub_pc then est_cell = row[7] end end
    assert.equal(string.format("%.0f", b.estimates[sub_pc] / 1000), est_cell)
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
      assert.equal(6, #snap.connections)
      local nxt = rtc.json.decode(assert(ws2:receive()))
      assert.equal("sample", nxt.type)
      assert.equal(1, #nxt.connections[1].points)
      -- the SFU room in every message: producers with their layers, consumers with the
      -- layer each forwards now; each connection's estimate in its summary and points
      local room
      for _ = 1, 10 do
        room = nxt.sfu[1]
        local v
        for _, c in ipairs(room and room.consumers or {}) do if c.kind == "video" then v = c end end
        if v and v.spatial then break end
        nxt = rtc.json.decode(assert(ws2:receive()))
      end
      assert.equal("demo", room.name)
      assert.equal(2, room.peers)
      assert.equal(2, #room.producers)
      assert.equal(2, #room.consumers)
      local by_kind = {}
      for _, c in ipairs(room.consumers) do by_kind[c.kind] = c end
      assert.equal(0, by_kind.video.spatial)
      assert.is_nil(by_kind.audio.spatial)
      assert.is_true(by_kind.video.packets_sent > 0 and by_kind.audio.packets_sent > 0)
      for _, p in ipairs(room.producers) do
        assert.equal(1, #p.layers)
        if p.kind == "video" then assert.equal(160, p.layers[1].frame_width) end
      end
      local sub_conn
      for _, c in ipairs(nxt.connections) do if c.id == by_kind.video.pc then sub_conn = c end end
      assert.is_true(sub_conn.summary.estimate_bps > 0)
      assert.is_true(math.abs(sub_conn.summary.estimate_bps / 1000 - sub_conn.points[1].estimate_kbps) < 1e-6)
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
