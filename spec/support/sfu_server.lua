-- The scaffolding of the SFU servers the browser specs start (spec/sfu_*_server.lua):
-- their `--name value` options, WHIP/WHEP on one host:port (HTTP and the UDP mux
-- share the port, as in examples/sfu.lua), stdout lines the spec reads, GET /walk
-- ("walking" until done(), then "done", from any origin: the watching pages poll it),
-- "listening" once up, and a clean close on shutdown.
--   local server = require "support.sfu_server"
--   local opts = server.options(arg, { listen = "127.0.0.1:18100", hold = 4 })
--   local s = server.start(opts.listen)      -- s.srv, s.say(...), s.done()
local rtc = require "rtc"
local http = require "http"
local whip = require "whip"

local M = {}

-- Options from argv: `--name value` for each name in defaults (numbers stay numbers);
-- an unknown option raises.
function M.options(argv, defaults)
  local o = {}
  for k, v in pairs(defaults) do o[k] = v end
  local i = 1
  while argv[i] do
    local name = argv[i]:match("^%-%-(%w+)$")
    if not name or defaults[name] == nil then error("unknown option " .. argv[i]) end
    local v = argv[i + 1]
    o[name] = type(defaults[name]) == "number" and tonumber(v) or v
    i = i + 2
  end
  return o
end

function M.start(listen)
  local host, port = listen:match("^(.*):(%d+)$")
  port = tonumber(port)
  local mux = assert(rtc.udp_mux { host = host, port = port })
  local srv = assert(http.server { host = host, port = port })
  local svc = whip.serve(srv, { pc = { udp_mux = mux } })
  local s = { srv = srv, finished = false }
  function s.say(...)
    print(table.concat({ ... }, " "))
    io.stdout:flush()
  end
  function s.done() s.finished = true; s.say("DONE") end
  srv:route("GET", "/walk", function()
    return 200, s.finished and "done" or "walking",
           { ["Access-Control-Allow-Origin"] = "*", ["Content-Type"] = "text/plain" }
  end)
  rtc.on("shutdown", function()
    svc.close()
    srv:close()
    mux:close()
  end)
  return s
end

return M
