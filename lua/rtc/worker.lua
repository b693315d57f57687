-- rtc.worker: scripts on their own threads, each with its own loop and Lua state,
-- and plain-value messages between them and the script that spawned them
-- (docs/workers.md; the C half is runtime/lua/lrtc_worker.c).
return function(rtc, core)
  local worker = {}

  --- rtc.worker.cores: how many threads can run at once here (the default count).
  worker.cores = core.worker_cores()
  --- rtc.worker.id: this worker's number (1, 2, ... in spawn order); nil in the main script.
  worker.id = core.worker_id()
  --- rtc.worker.parent: in a worker, the port to the main script (send, on "message"/"drain").
  worker.parent = core.worker_parent()

  local waiters = setmetatable({}, { __mode = "k" })   -- worker -> its exit status

  local function search_path(script)
    if type(script) ~= "string" then
      error("bad argument #1 to 'rtc.worker.spawn' (script path expected)", 3)
    end
    local f = io.open(script, "r")
    if not f then error("rtc.worker.spawn: cannot open '" .. script .. "'", 3) end
    f:close()
    return script
  end

  --- rtc.worker.spawn(script, args, opts) -> worker
  --- args: a table of plain values (the script's `...` and `arg[1..n]`), copied.
  --- opts.queue: messages each direction's inbox holds before send fails (default 64).
  --- opts.max_bytes: largest message, and the most an inbox holds (default 16 MiB).
  function worker.spawn(script, args, opts)
    search_path(script)
    if args ~= nil and type(args) ~= "table" then
      error("bad argument #2 to 'rtc.worker.spawn' (table of arguments expected)", 2)
    end
    if opts ~= nil and type(opts) ~= "table" then
      error("bad argument #3 to 'rtc.worker.spawn' (options table expected)", 2)
    end
    opts = opts or {}
    args = args or {}
    local w, err = core.worker_spawn(script, package.path, package.cpath, opts.queue, opts.max_bytes,
                                     table.unpack(args, 1, args.n or #args))
    if not w then return nil, err end
    local st = { joiners = {} }
    waiters[w] = st
    w:_on_exit(function(ok, e)
      st.done, st.ok, st.err = true, ok, e
      for _, co in ipairs(st.joiners) do rtc._wake_soon(co) end
    end)
    return w
  end

  local W = core.methods("rtc.worker")

  --- w:join() -> ok, err: waits (in a task) until the worker has ended.
  function W:join()
    local st = waiters[self]
    if not st.done then
      local co = coroutine.running()
      if not coroutine.isyieldable() then error("w:join: must be called from a task (coroutine)", 2) end
      st.joiners[#st.joiners + 1] = co
      repeat coroutine.yield() until st.done
    end
    return st.ok, st.err
  end
  --- w:terminate(): stop the worker's loop; "exit" follows with ok = true.
  W.terminate = W.close

  local P = core.methods("rtc.worker_port")
  local port_on = P.on
  --- parent:on("message", fn): while set, the worker keeps running to receive.
  function P:on(event, fn)
    port_on(self, event, fn)
    if event == "message" then self:_keep_alive(fn ~= nil) end
    return self
  end

  -- luartc --workers N script.lua [args]: N copies of the script, this state
  -- watching them. Exits non-zero when any of them failed.
  function worker._supervise(n, script, ...)
    n = math.tointeger(tonumber(n))
    if not n or n < 1 then error("luartc: --workers needs a positive number", 0) end
    local args = table.pack(...)
    local failed = 0
    local ws = {}
    for i = 1, n do
      local w = assert(worker.spawn(script, args))
      w:on("message", function(v)
        io.stdout:write(tostring(w:id()), "\t", type(v) == "string" and v or rtc.json.encode(v), "\n")
        io.stdout:flush()
      end)
      ws[i] = w
    end
    for i = 1, n do
      local ok = ws[i]:join()
      if not ok then failed = failed + 1 end
    end
    if failed > 0 then error(string.format("%d of %d workers failed", failed, n), 0) end
  end

  rtc.worker = worker
end
