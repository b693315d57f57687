-- Rooms across machines through Redis (docs/cluster.md): the RESP client against a
-- real redis-server on loopback started by this spec, its parser on hostile replies,
-- the node registry (heartbeat, expiry), the atomic room claim, re-homing a dead
-- node's room, and a node with the wrong shared secret being ignored.
local rtc = require "rtc"
local redis = require "redis"
local cluster = require "cluster"
local child = require "support.child"
local loop = require "support.loop"
local run_task, wait_for = loop.run_task, loop.wait_for

local dir, url, pidfile, port_used

local function start_redis(fixed_port)
  dir = dir or child.tmpdir()
  pidfile = dir .. "/redis.pid"
  for _ = 1, 20 do
    local port = fixed_port or 20000 + math.random(0, 20000)
    local cmd = string.format("redis-server --port %d --bind 127.0.0.1 --save '' --appendonly no " ..
                              "--daemonize yes --pidfile %s --dir %s --logfile %s >/dev/null 2>&1",
                              port, child.quote(pidfile), child.quote(dir), child.quote(dir .. "/redis.log"))
    if os.execute(cmd) then
      local ready = false
      run_task(function()
        local deadline = rtc.now() + 5000
        while rtc.now() < deadline do
          local r = redis.connect("redis://127.0.0.1:" .. port)
          if r and r:call("PING") == "PONG" then r:close(); ready = true; return end
          rtc.sleep(0.05)
        end
      end, 10000)
      if ready then url = "redis://127.0.0.1:" .. port; port_used = port; return end
    end
  end
  error("could not start redis-server")
end

-- Kills the server (SIGKILL, as a crash) and waits until it is gone.
local function kill_redis()
  local f = io.open(pidfile)
  if not f then return end
  local pid = f:read("n")
  f:close()
  os.remove(pidfile)
  if not pid then return end
  os.execute("kill -KILL " .. pid)
  for _ = 1, 100 do
    if not os.execute("kill -0 " .. pid .. " 2>/dev/null") then return end
    os.execute("sleep 0.05")
  end
end

local function stop_redis()
  kill_redis()
  child.rmdir(dir)
end

describe("redis client and cluster registry", function()
  setup(start_redis)
  teardown(stop_redis)

  it("parses every reply type and refuses malformed ones with a clear error", function()
    local p = redis._parse
    assert.same({ "OK", 6 }, { p("+OK\r\n", 1, 0) })
    assert.same({ 42, 6 }, { p(":42\r\n", 1, 0) })
    assert.same({ "ab\r\n", 11 }, { p("$4\r\nab\r\n\r\n", 1, 0) })
    assert.equal(redis.null, (p("$-1\r\n", 1, 0)))
    assert.same({ { "a", 1, { "b" } }, 24 }, { p("*3\r\n$1\r\na\r\n:1\r\n*1\r\n+b\r\n", 1, 0) })
    assert.same({ err = "ERR x" }, (p("-ERR x\r\n", 1, 0)))
    -- incomplete: nil (wait for more), never an error
    for _, s in ipairs({ "", "+OK", "$4\r\nab", "*2\r\n:1\r\n", "$4\r\nabcd\r" }) do assert.is_nil((p(s, 1, 0))) end
    local function bad(s, needle)
      local v, err = p(s, 1, 0)
      assert.is_false(v)
      assert.matches(needle, err)
    end
    bad("$99999999999\r\n", "bulk length out of range")
    bad("$-5\r\n", "bulk length out of range")
    bad("$x\r\n", "bad bulk length")
    bad("$2\r\nabcd\r\n", "not terminated")
    bad(":1.5\r\n", "bad integer")
    bad("*99999999\r\n", "array length out of range")
    bad(string.rep("*1\r\n", 20) .. ":1\r\n", "nested too deep")
    bad("!3\r\n", "unknown reply type")
    bad(string.rep("+", 70000), "line too long")
  end)

  it("talks to a real redis-server: commands, pipelined callers in order, errors, nil", function()
    run_task(function()
      local r = assert(redis.connect(url))
      assert.equal("OK", r:call("SET", "k", "v\0binary"))
      assert.equal("v\0binary", r:call("GET", "k"))
      assert.equal(redis.null, r:call("GET", "missing"))
      local v, err = r:call("INCR", "k")
      assert.is_nil(v)
      assert.matches("^RedisError: ERR", err)
      local results, tasks = {}, {}
      for i = 1, 50 do
        tasks[i] = rtc.spawn(function() results[i] = r:call("INCRBY", "counter", i) end)
      end
      assert(rtc.wait_all(tasks))
      local seen = {}
      for i = 1, 50 do seen[results[i]] = true end
      assert.equal(50 * 51 / 2, r:call("GET", "counter") + 0)
      local n = 0
      for _ in pairs(seen) do n = n + 1 end
      assert.equal(50, n)         -- every caller got its own reply
      assert.same({ "a", "b" }, (function() r:call("RPUSH", "l", "a", "b"); return r:call("LRANGE", "l", 0, -1) end)())
      r:close()
      local _, cerr = r:call("PING")
      assert.matches("closed", cerr)
      local nope, uerr = redis.connect("http://x")
      assert.is_nil(nope)
      assert.matches("^SyntaxError", uerr)
    end)
  end)

  it("nodes register with a heartbeat and disappear when it stops", function()
    run_task(function()
      local a = cluster.node{ redis = url, id = "node-a", address = "127.0.0.1:7001", capacity = 10, secret = "s3cret", ttl = 1, prefix = "t1:" }
      local b = cluster.node{ redis = url, id = "node-b", address = "127.0.0.1:7002", capacity = 20, secret = "s3cret", ttl = 1, prefix = "t1:" }
      a:set_load(3)
      a:start()
      b:start()
      wait_for(function() local n = a:nodes(); return n and n["node-a"] and n["node-b"] end, "both nodes", 5000)
      local n = b:nodes()
      assert.equal("127.0.0.1:7001", n["node-a"].address)
      assert.equal(10, n["node-a"].capacity)
      assert.equal(3, n["node-a"].load)
      -- b dies without saying so: its record expires.
      b.running = false
      b.r:close()
      wait_for(function() local m = a:nodes(); return m and not m["node-b"] end, "node-b's expiry", 8000)
      assert.truthy(a:nodes()["node-a"])
      a:stop()
      assert.is_nil(cluster.node{ redis = url, id = "x", secret = "s3cret", prefix = "t1:" }:nodes()["node-a"])
    end, 20000)
  end)

  it("claims a room atomically: of many nodes at once exactly one wins, and a dead owner's room is re-homed", function()
    run_task(function()
      local nodes, tasks, res = {}, {}, {}
      for i = 1, 6 do
        nodes[i] = cluster.node{ redis = url, id = "n" .. i, secret = "s3cret", ttl = 1, prefix = "t2:" }
        assert(nodes[i]:heartbeat())
      end
      for i = 1, 6 do
        tasks[i] = rtc.spawn(function() res[i] = { nodes[i]:claim_room("lobby") } end)
      end
      assert(rtc.wait_all(tasks))
      local winners, owner = 0, res[1][1]
      for i = 1, 6 do
        assert.equal(owner, res[i][1])
        if res[i][2] then winners = winners + 1 end
      end
      assert.equal(1, winners)
      local w = tonumber(owner:match("%d+"))
      -- The others keep their heartbeat; the owner dies silently.
      for i = 1, 6 do if i ~= w then nodes[i]:start() end end
      wait_for(function() return nodes[w % 6 + 1]:room_owner("lobby") == nil end, "the dead owner's room to expire", 8000)
      local other = nodes[w % 6 + 1]
      local o2, mine = other:claim_room("lobby")
      assert.is_true(mine)
      assert.equal(other.id, o2)
      -- and the new owner's heartbeat keeps it
      for _ = 1, 3 do other:heartbeat() end
      assert.equal(other.id, nodes[(w + 1) % 6 + 1]:room_owner("lobby"))
      for i = 1, 6 do if i ~= w then nodes[i]:stop() end end
    end, 20000)
  end)

  it("a node registers again after redis-server is killed and restarted", function()
    local node = cluster.node{ redis = url, id = "phoenix", secret = "s3cret", ttl = 1, prefix = "t4:" }
    local watcher = cluster.node{ redis = url, id = "watcher", secret = "s3cret", ttl = 1, prefix = "t4:" }
    run_task(function()
      node:start()
      wait_for(function() local n = watcher:nodes(); return n and n.phoenix end, "registration", 5000)
    end, 10000)
    kill_redis()
    run_task(function()
      wait_for(function() return not node.registered end, "the failed heartbeat", 5000)
      assert.is_nil(watcher:nodes())            -- no server: an error, not a crash
    end, 10000)
    start_redis(port_used)
    run_task(function()
      wait_for(function() local n = watcher:nodes(); return n and n.phoenix end, "registration after the restart", 8000)
      assert.is_true(node.registered)
      node:stop()
    end, 15000)
  end)

  it("routes a join: here when the room is ours, else a redirect to the owner's address", function()
    run_task(function()
      local a = cluster.node{ redis = url, id = "a", address = "127.0.0.1:9001", secret = "s3cret", prefix = "t5:" }
      local b = cluster.node{ redis = url, id = "b", address = "127.0.0.1:9002", secret = "s3cret", prefix = "t5:" }
      assert(a:heartbeat())
      assert(b:heartbeat())
      assert.same({ here = true, owner = "a" }, a:route("demo"))
      assert.same({ here = false, owner = "a", address = "127.0.0.1:9001" }, b:route("demo"))
      assert.same({ here = true, owner = "b" }, b:route("other"))
      a:stop()
      b:stop()
    end, 10000)
  end)

  it("ignores a node that registers with the wrong shared secret, and takes over the rooms it claims", function()
    run_task(function()
      local good = cluster.node{ redis = url, id = "good", secret = "right", ttl = 5, prefix = "t3:" }
      local evil = cluster.node{ redis = url, id = "evil", address = "198.51.100.66:1", secret = "wrong", ttl = 5, prefix = "t3:" }
      assert(good:heartbeat())
      assert(evil:heartbeat())
      local owner, mine = evil:claim_room("stage")
      assert.equal("evil", owner)
      assert.is_true(mine)
      local seen = good:nodes()
      assert.truthy(seen.good)
      assert.is_nil(seen.evil)
      -- A record forged under another node's name with a bad signature is ignored too.
      local r = assert(redis.connect(url))
      assert(r:call("SET", "t3:node:mallory", '{"id":"mallory"}\nabcdef', "EX", 5))
      assert.is_nil(good:nodes().mallory)
      assert.is_nil(good:room_owner("stage"))
      owner, mine = good:claim_room("stage")
      assert.equal("good", owner)
      assert.is_true(mine)
      assert.equal("good", r:call("GET", "t3:room:stage"))
      r:close()
      good:stop()
      evil:stop()
    end, 20000)
  end)
end)
