-- The send-side bandwidth estimate reaches Lua: pc:on("bandwidth", fn(bps, info)) and
-- availableOutgoingBitrate in the candidate-pair stats, between two peers on 127.0.0.1.
-- Nothing here depends on how fast the machine is: the checks are that events arrive
-- and agree with the stats, not on any rate.
local rtc = require "rtc"

local LOCAL = { bind_addresses = { "127.0.0.1" } }
local loop = require "support.loop"
local run_task, wait_for = loop.run_task, loop.wait_for

describe("peer_connection bandwidth", function()
  it("emits bandwidth events with the estimator's parts and reports availableOutgoingBitrate", function()
    run_task(function()
      local a = assert(rtc.peer_connection(LOCAL))
      local b = assert(rtc.peer_connection(LOCAL))
      a:on("icecandidate", function(c) if c and b.remote_description then assert(b:add_ice_candidate(c)) end end)
      b:on("icecandidate", function(c) if c and a.remote_description then assert(a:add_ice_candidate(c)) end end)
      assert.is_nil(a:bandwidth())                        -- nothing sent yet
      local events = {}
      a:on("bandwidth", function(bps, info) events[#events + 1] = { bps = bps, info = info } end)
      assert.has_error(function() a:on("bandwith", function() end) end)   -- a typo is an error
      local track = rtc.media_track("video", { codec = "VP8" })
      assert(a:add_track(track))
      local offer = assert(a:create_offer())
      assert(a:set_local_description(offer))
      assert(b:set_remote_description(offer))
      local answer = assert(b:create_answer())
      assert(b:set_local_description(answer))
      assert(a:set_remote_description(answer))
      wait_for(function() return a.connection_state == "connected" and b.connection_state == "connected" end, "connected")
      local frame = string.rep("x", 3000)
      local ts = 0
      local function got_feedback()
        local e = events[#events]
        return e and e.info.delay_based and e.info.delay_based > 0
      end
      local deadline = rtc.now() + 8000
      while not got_feedback() and rtc.now() < deadline do
        track:write_frame { data = "\x11" .. frame, timestamp = ts, keyframe = false }
        ts = ts + 3000
        rtc.sleep(0.033)
      end
      assert(#events >= 2, "bandwidth events")
      local first = events[1]
      assert.is_true(first.bps > 0)
      assert.equal(first.bps, first.info.bps)
      local last = events[#events]
      assert.is_true(last.info.delay_based > 0, "TWCC feedback reached the estimator")
      assert.is_number(last.info.loss_based)
      assert.is_string(last.info.usage)
      assert.is_string(last.info.state)
      assert.is_boolean(last.info.alr)
      local pair
      for _, s in pairs(a:get_stats()) do if s.type == "candidate-pair" then pair = s end end
      assert(pair, "candidate-pair stats")
      assert.is_true(pair.availableOutgoingBitrate > 0)
      local now = a:bandwidth()
      assert.equal(pair.availableOutgoingBitrate, now.bps)
      a:close(); b:close()
    end, 15000)
  end)
end)
