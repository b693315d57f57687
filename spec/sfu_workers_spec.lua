-- A room bigger than one worker (docs/workers.md): a producer piped from one worker's
-- SFU room into another's through a lock-free ring (io/rtc_media_pipe.h). Checked with
-- luartc bots: every subscriber on either worker gets the publisher's frames (from a
-- keyframe, each byte for byte one of the clip's), keyframe requests cross the pipe
-- back, an error raised in one worker's room policy is logged and reported without
-- stopping either worker's forwarding; closing either end closes the other's side.
local rtc = require "rtc"
local sfu = require "rtc.sfu"
local child = require "support.child"
local loop = require "support.loop"
local pcpair = require "support.pcpair"
local run_task, wait_for = loop.run_task, loop.wait_for

local SRC = child.SOURCE_DIR
local CLIP = SRC .. "/examples/media/testsrc.ivf"
local LOCAL = { bind_addresses = { "127.0.0.1" } }

local function run_example(args)
  local cmd = { SRC .. "/examples/sfu_workers.lua" }
  for _, a in ipairs(args) do cmd[#cmd + 1] = a end
  local code, out, err = child.run(cmd)
  assert.equal(0, code, err)
  return rtc.json.decode(out:match("(%b{})%s*$")), err
end

local function check_subscribers(r, n)
  local total = 0
  for w = 1, 2 do
    for i, s in ipairs(r.workers[w].subs) do
      local what = "worker " .. w .. " subscriber " .. i
      assert(s.frames >= 60, what .. ": " .. s.frames .. " frames")
      assert(s.keyframes >= 2, what .. ": " .. s.keyframes .. " keyframes")
      assert.equal(0, s.bad, what .. ": frames not from the clip or not starting at a keyframe")
      total = total + 1
    end
  end
  assert.equal(n, total)
end

describe("SFU rooms across workers", function()
  it("examples/sfu_workers.lua: one publisher on worker 1, 20 subscribers over both workers all receive; " ..
     "worker 2's failing policy is logged and reported", function()
    local r, err = run_example { "--subscribers", "20", "--fail", "2" }
    assert.equal(10, #r.workers[1].subs)
    assert.equal(10, #r.workers[2].subs)
    check_subscribers(r, 20)
    assert.is_false(r.workers[1].piped)
    assert.is_true(r.workers[2].piped)             -- worker 2's producer is the pipe's far end
    assert.equal("VP8", r.workers[2].codec)
    local ps = r.workers[1].pipe
    assert(ps.pipe_sent > 0 and ps.packets_sent > 0)
    assert(ps.pli_count >= 1, "worker 2's keyframe requests reach worker 1's side of the pipe")
    assert(ps.pipe_received >= 1)                  -- feedback came back through the ring
    assert.equal(1, #r.errors)
    assert.equal(2, r.errors[1].worker)
    assert.matches("policy failure in worker 2", r.errors[1].error)
    assert.matches("stack traceback", r.errors[1].error)
    assert.matches("E lua: callback error: .*policy failure in worker 2", err)
    assert.matches("error in 'subscribe' handler: .*policy failure in worker 2 %(subscribe handler%)", err)
    for _, e in ipairs(r.exits) do assert.is_true(e.ok) end
  end)

  it("a failing policy in the publisher's worker stops neither its own subscribers nor the piped ones", function()
    local r = run_example { "--subscribers", "4", "--fail", "1" }
    check_subscribers(r, 4)
    assert.equal(1, #r.errors)
    assert.equal(1, r.errors[1].worker)
  end)

  it("pipe_to / pipe_from within one loop: frames arrive, bad names fail, either end's close reaches the other", function()
    run_task(function()
      local a, b = sfu.room { name = "pipe-a" }, sfu.room { name = "pipe-b" }
      local pub = assert(rtc.peer_connection(LOCAL))
      local cam = rtc.media_track("video", { codec = "VP8" })
      assert(pub:add_transceiver(cam, { direction = "sendonly" }))
      local s0 = assert(rtc.peer_connection(LOCAL))
      local vp
      s0:on("track", function(t) vp = assert(a:publish(t)) end)
      pcpair(pub, s0)
      assert(vp._id)
      assert.has_error(function() a:pipe_to("x") end)
      assert.has_error(function() b:pipe_from({}) end)
      local pipe = assert(a:pipe_to(vp))
      assert.same({ pipe = pipe.name, kind = "video", codec = "VP8", room = "pipe-a" }, pipe.desc)
      local n, e, name = b:pipe_from({ pipe = "pipe-nonexistent" })
      assert.is_nil(n)
      assert.equal("NotFoundError", name)
      assert.matches("^NotFoundError: no pipe named 'pipe%-nonexistent' waits", e)
      local published = {}
      b:on("publish", function(p) published[#published + 1] = p end)
      local piped = assert(b:pipe_from(pipe.desc))
      assert.same({ piped }, published)
      assert.is_true(piped.piped)
      assert.equal("video", piped.kind)
      assert.equal("VP8", piped.codec)
      assert.is_nil(piped.pc)
      assert.is_nil(b:pipe_from(pipe.desc))        -- a pipe has one receiving end
      -- a subscriber of room b
      local s1, bot = assert(rtc.peer_connection(LOCAL)), assert(rtc.peer_connection(LOCAL))
      local c = assert(b:subscribe(s1, piped))
      local frames, keyframes = 0, 0
      bot:on("track", function(t)
        t:on("frame", function(f)
          frames = frames + 1
          if f.keyframe then keyframes = keyframes + 1 end
        end)
      end)
      pcpair(s1, bot)
      local src = assert(rtc.media.file_source(CLIP, { loop = true }))
      src:on("frame", function(f) cam:write_frame(f) end)
      src:start()
      wait_for(function() return frames >= 20 and keyframes >= 1 end, "frames through the pipe", 15000)
      assert(piped:stats().packets_received > 0)
      assert(pipe:stats().pipe_sent > 0)
      -- the sending end closes: the piped producer and its consumer close
      local closed = {}
      piped:on("close", function() closed[#closed + 1] = "producer" end)
      c:on("close", function() closed[#closed + 1] = "consumer" end)
      pipe:close()
      wait_for(function() return piped.closed end, "the piped producer's close", 5000)
      assert.same({ "consumer", "producer" }, closed)
      -- the receiving end closes: the sending side's pipe closes
      local pipe2 = assert(a:pipe_to(vp))
      local piped2 = assert(b:pipe_from(pipe2.desc))
      local pipe2_closed = false
      pipe2:on("close", function() pipe2_closed = true end)
      piped2:close()
      wait_for(function() return pipe2_closed end, "the pipe's close", 5000)
      -- closing the source producer closes its pipes and so the far side
      local pipe3 = assert(a:pipe_to(vp))
      local piped3 = assert(b:pipe_from(pipe3.desc))
      vp:close()
      assert.is_true(pipe3.closed)
      wait_for(function() return piped3.closed end, "the far side of a closed producer", 5000)
      src:stop()
      for _, pc in ipairs { pub, s0, s1, bot } do pc:close() end
      a:close(); b:close()
    end, 30000)
  end)
end)
