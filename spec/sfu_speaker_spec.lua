-- Active speaker and audio levels in an rtc.sfu room, from three luartc bots: each
-- publishes an Opus track whose frames carry the RFC 6464 audio level (tone_source
-- sets it, write_frame sends it in the ssrc-audio-level extension), and takes turns
-- playing a tone while the others send silence. Real peer connections on 127.0.0.1.
-- Checked: room "activespeaker" names the bot that plays, each time; "audiolevels"
-- names it first with a level of a tone; the producers' stats show the levels arrived.
-- No timing is asserted: the test waits for the events.
local rtc = require "rtc"
local sfu = require "rtc.sfu"
local loop = require "support.loop"
local pcpair = require "support.pcpair"
local run_task, wait_for = loop.run_task, loop.wait_for

local LOCAL = { bind_addresses = { "127.0.0.1" } }

-- A bot publishing one audio track into room; bot.speak(true|false) plays a tone or
-- silence from then on.
local function bot(room, name)
  local pc = assert(rtc.peer_connection(LOCAL))
  local mic = rtc.media_track("audio")
  assert(pc:add_transceiver(mic, { direction = "sendonly" }))
  local sfu_pc = assert(rtc.peer_connection(LOCAL))
  local b = { name = name, pc = pc, sfu_pc = sfu_pc }
  sfu_pc:on("track", function(track) b.producer = assert(room:publish(track)) end)
  pcpair(pc, sfu_pc)
  function b.speak(on)
    if b.source then b.source:stop() end
    b.source = assert(rtc.media.tone_source { frequency = on and 440 or 0, amplitude = 0.3 })
    b.source:on("frame", function(f) mic:write_frame(f) end)
    b.source:start()
  end
  function b.close()
    if b.source then b.source:stop() end
    pc:close(); sfu_pc:close()
  end
  return b
end

describe("rtc.sfu active speaker", function()
  it("names the bot that speaks, each time, from the audio-level extension", function()
    run_task(function()
      local room = sfu.room { name = "speakers", speaker = { interval = 0.2 } }
      local speakers, reports = {}, {}
      room:on("activespeaker", function(p) speakers[#speakers + 1] = p end)
      room:on("audiolevels", function(levels) reports[#reports + 1] = levels end)
      local bots = { bot(room, "a"), bot(room, "b"), bot(room, "c") }
      local by_producer = {}
      for _, b in ipairs(bots) do
        assert.is_truthy(b.producer)
        by_producer[b.producer] = b
        b.speak(false)
      end
      local function turn(b)
        for _, o in ipairs(bots) do o.speak(o == b) end
        local n = #speakers
        wait_for(function() return #speakers > n and speakers[#speakers] == b.producer end,
                 "the active speaker to become " .. b.name, 15000)
        -- every change on the way names one of the bots; the last one is the speaker
        for i = n + 1, #speakers do assert.is_truthy(by_producer[speakers[i]]) end
        assert.equal(b.producer, room.active_speaker)
        -- a level report names the speaker first (loudest), with a tone's level
        local r = #reports
        wait_for(function()
          local l = reports[#reports]
          return #reports > r and l[1] and l[1].producer == b.producer
        end, "a level report led by " .. b.name, 15000)
        local top = reports[#reports][1]
        assert.is_true(top.level < 30)            -- 0.3 of full scale is about -13 dBov
        assert.is_true(top.voice)
      end
      turn(bots[1])
      turn(bots[2])
      turn(bots[3])
      turn(bots[1])
      -- the levels reached the producers as sent: silence is 127, the tone loud
      local st = bots[1].producer:stats()
      assert.is_true(st.audio_level < 30)
      assert.is_true(bots[2].producer:stats().audio_level == 127)
      -- silence everywhere: a last empty report, the speaker stays
      for _, o in ipairs(bots) do o.speak(false) end
      wait_for(function() return #reports[#reports] == 0 end, "a silent report", 15000)
      assert.equal(bots[1].producer, room.active_speaker)
      -- the speaker leaves: nobody is the speaker until someone speaks again
      bots[1].producer:close()
      assert.is_nil(room.active_speaker)
      turn(bots[3])
      for _, b in ipairs(bots) do b.close() end
      room:close()
    end, 90000)
  end)

  it("write_frame checks audio_level", function()
    local mic, cam = rtc.media_track("audio"), rtc.media_track("video")
    assert.has_error(function() mic:write_frame { data = "x", timestamp = 0, audio_level = 128 } end)
    assert.has_error(function() mic:write_frame { data = "x", timestamp = 0, audio_level = 1.5 } end)
    assert.has_error(function() cam:write_frame { data = "x", timestamp = 0, audio_level = 10 } end)
    assert.equal(127, rtc.media.pcm_audio_level(string.rep("\0", 1920)))
    assert.equal(127, rtc.media.pcm_audio_level(""))
    local lv = rtc.media.pcm_audio_level(rtc.media.pcm_tone(440, 0.3, 0, 960, 1))
    assert.is_true(lv >= 12 and lv <= 15)         -- 0.3 / sqrt(2) of full scale: -13.5 dBov
    assert.has_error(function() rtc.media.pcm_audio_level("abc") end)
  end)

  it("refuses bad speaker settings at room creation", function()
    assert.has_error(function() sfu.room { name = "bad1", speaker = { interval = 0.001 } } end)
    assert.has_error(function() sfu.room { name = "bad2", speaker = { silence_level = 300 } } end)
    assert.has_error(function() sfu.room { name = "bad3", speaker = 5 } end)
  end)
end)
