-- Simulcast send from Lua: add_transceiver{send_encodings = {{rid=}, ...}} offers
-- a=rid/a=simulcast:send, track:write_frame{rid=} sends a frame on one encoding, and
-- a second luartc peer receives each layer by RID with the bytes written to it;
-- sender:get_parameters() lists the encodings, and an inactive one sends nothing.
-- Two peer connections in one process on loopback, stock lua5.4 with rtc.run().
local rtc = require "rtc"

local LOCAL = { bind_addresses = { "127.0.0.1" } }
local loop = require "support.loop"
local run_task, wait_for = loop.run_task, loop.wait_for

local RIDS = { "q", "h", "f" }
local function frame(l, i)
  local key = i == 0
  return (key and "\x10\0\0\x9d\x01\x2a" or "\x11\0\0") .. string.rep(string.char(l * 16 + i % 16), 200 + l * 1500), key
end

describe("simulcast send", function()
  it("sends three encodings that the peer receives as three layers", function()
    run_task(function()
      local a = assert(rtc.peer_connection(LOCAL))
      local b = assert(rtc.peer_connection(LOCAL))
      local cam = rtc.media_track("video", { codec = "VP8" })
      local tr = assert(a:add_transceiver(cam, { direction = "sendonly", send_encodings = {
        { rid = "q", scale_resolution_down_by = 4 }, { rid = "h", scale_resolution_down_by = 2 }, { rid = "f" } } }))
      local got, bad = { q = 0, h = 0, f = 0 }, 0
      local layer_of = { q = 0, h = 1, f = 2 }
      b:on("track", function(t)
        t:on("frame", function(f)
          local l = layer_of[f.rid]
          local i = f.timestamp // 3000
          if not l or f.data ~= (frame(l, i)) then bad = bad + 1 else got[f.rid] = got[f.rid] + 1 end
        end)
      end)
      assert(a:set_local_description(assert(a:create_offer())))
      a:wait_gathering_complete()
      local offer = a.local_description.sdp
      for _, r in ipairs(RIDS) do assert.truthy(offer:find("a=rid:" .. r .. " send\r\n", 1, true)) end
      assert.truthy(offer:find("a=simulcast:send q;h;f\r\n", 1, true))
      assert.truthy(offer:find("urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id", 1, true))
      assert(b:set_remote_description(a.local_description))
      assert(b:set_local_description(assert(b:create_answer())))
      b:wait_gathering_complete()
      assert.truthy(b.local_description.sdp:find("a=simulcast:recv q;h;f", 1, true))
      assert(a:set_remote_description(b.local_description))
      wait_for(function() return a.connection_state == "connected" and b.connection_state == "connected" end, "connected")

      local p = tr.sender:get_parameters()
      assert.equal(3, #p.encodings)
      assert.equal("q", p.encodings[1].rid)
      assert.equal(4, p.encodings[1].scale_resolution_down_by)
      assert.equal("f", p.encodings[3].rid)
      assert.is_true(p.encodings[2].active)

      for i = 0, 19 do
        for l, r in ipairs(RIDS) do
          local data, key = frame(l - 1, i)
          assert(cam:write_frame { data = data, timestamp = i * 3000, keyframe = key, rid = r })
        end
        rtc.sleep(0.01)
      end
      wait_for(function() return got.q >= 20 and got.h >= 20 and got.f >= 20 end, "20 frames a layer")
      assert.equal(0, bad)
      local _, err = cam:write_frame { data = "\x11\0\0", timestamp = 0, rid = "x" }
      assert.truthy(tostring(err):find("no encoding with rid 'x'", 1, true))

      -- "h" inactive: its frames go nowhere, the others go on
      p = tr.sender:get_parameters()
      p.encodings[2].active = false
      assert(tr.sender:set_parameters(p))
      assert.is_false(tr.sender:get_parameters().encodings[2].active)
      for i = 20, 29 do
        for l, r in ipairs(RIDS) do
          local n = assert(cam:write_frame { data = (frame(l - 1, i)), timestamp = i * 3000, rid = r })
          if r == "h" then assert.equal(0, n) end
        end
        rtc.sleep(0.01)
      end
      wait_for(function() return got.q >= 30 and got.f >= 30 end, "30 frames on q and f")
      assert.equal(20, got.h)
      assert.equal(0, bad)
      a:close(); b:close()
    end, 20000)
  end)

  it("checks send_encodings", function()
    local a = assert(rtc.peer_connection(LOCAL))
    assert.has_error(function() a:add_transceiver("video", { send_encodings = { { rid = "a" }, { rid = "a" } } }) end,
                     "bad argument #2 to 'add_transceiver' (send_encodings: rid 'a' twice)")
    assert.has_error(function() a:add_transceiver("video", { send_encodings = { { rid = "a" }, { rid = "b c" } } }) end,
                     "bad argument #2 to 'add_transceiver' (send_encodings[2].rid must be 1..15 of A-Z a-z 0-9 _ -)")
    assert.has_error(function() a:add_transceiver("video", { send_encodings = { { rid = "a" }, {} } }) end,
                     "bad argument #2 to 'add_transceiver' (send_encodings[2] needs a rid when there are several)")
    assert.has_error(function() a:add_transceiver("audio", { send_encodings = { { rid = "a" }, { rid = "b" } } }) end,
                     "bad argument #2 to 'add_transceiver' (simulcast is for video)")
    assert.equal(0, #a:get_transceivers())
    a:close()
  end)
end)
