-- Video ULPFEC from Lua: add_transceiver{fec=} and add_track{fec=} negotiate
-- red/90000 + ulpfec/90000 between two peer connections in one process, VP8 frames go
-- out in RED with FEC packets, and the receiver's inbound-rtp counts them
-- (fecPacketsReceived; on loopback nothing is lost, so each one rebuilt nothing and
-- is counted in fecPacketsDiscarded). Stock lua5.4 with rtc.run().
local rtc = require "rtc"

local LOCAL = { bind_addresses = { "127.0.0.1" } }
local loop = require "support.loop"
local run_task, wait_for = loop.run_task, loop.wait_for

local function inbound(pc)
  for _, s in pairs(pc:get_stats()) do if s.type == "inbound-rtp" and s.kind == "video" then return s end end
end

describe("video ULPFEC", function()
  it("fec = \"ulpfec\" on both sides: negotiated, sent and counted", function()
    run_task(function()
      local a = assert(rtc.peer_connection(LOCAL))
      local b = assert(rtc.peer_connection(LOCAL))
      local cam = rtc.media_track("video", { codec = "VP8" })
      assert(a:add_transceiver(cam, { direction = "sendonly", fec = "ulpfec", fec_group = 2 }))
      assert(b:add_track(rtc.media_track("video", { codec = "VP8" }), { fec = "ulpfec" }))
      local frames = 0
      b:on("track", function(t) t:on("frame", function() frames = frames + 1 end) end)
      assert(a:set_local_description(assert(a:create_offer())))
      a:wait_gathering_complete()
      local offer = a.local_description.sdp
      assert.truthy(offer:find("a=rtpmap:116 red/90000", 1, true))
      assert.truthy(offer:find("a=rtpmap:117 ulpfec/90000", 1, true))
      assert(b:set_remote_description(a.local_description))
      assert(b:set_local_description(assert(b:create_answer())))
      b:wait_gathering_complete()
      assert.truthy(b.local_description.sdp:find("a=rtpmap:117 ulpfec/90000", 1, true))
      assert(a:set_remote_description(b.local_description))
      wait_for(function() return a.connection_state == "connected" and b.connection_state == "connected" end, "connected")
      for i = 0, 29 do
        local key = i == 0
        local data = (key and "\x10\0\0\x9d\x01\x2a" or "\x11\0\0") .. string.rep(string.char(i), 3000)
        assert(cam:write_frame { data = data, timestamp = i * 3000, keyframe = key })
        rtc.sleep(0.01)
      end
      wait_for(function() return frames >= 30 end, "30 frames")
      local inb = inbound(b)
      assert.is_true(inb.fecPacketsReceived >= 30 * 2)   -- 4 packets a frame, one FEC per 2
      assert.equal(inb.fecPacketsReceived, inb.fecPacketsDiscarded)
      assert.equal(0, inb.fecRecovered)
      a:close(); b:close()
    end, 20000)
  end)

  it("is off by default and checks its options", function()
    local a = assert(rtc.peer_connection(LOCAL))
    assert(a:add_transceiver("video"))
    assert.has_error(function() a:add_transceiver("video", { fec = "flex" }) end,
                     "bad argument #2 to 'add_transceiver' (fec must be \"off\" or \"ulpfec\")")
    assert.has_error(function() a:add_transceiver("audio", { fec = "ulpfec" }) end,
                     "bad argument #2 to 'add_transceiver' (fec is for video)")
    assert.has_error(function() a:add_transceiver("video", { fec = "ulpfec", fec_group = 0 }) end,
                     "bad argument #2 to 'add_transceiver' (fec_group must be an integer 1..48)")
    run_task(function()
      assert.is_nil(assert(a:create_offer()).sdp:find("ulpfec", 1, true))
    end, 5000)
    a:close()
  end)
end)
