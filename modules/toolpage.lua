-- toolpage: what the pages for people (icepage's ICE/TURN tester, stats' live page)
-- share: their mount arguments' checks, the page's HTML file read from beside the
-- module, the ?token= test and the GET route that serves the page. Not a public API:
-- see docs/tools.md for the pages themselves.
local core = require "rtc.core"

local M = {}

-- Checks mount's server (an http.server; with websocket set, one that serves
-- WebSockets too) and path (like `example`: no trailing slash); errors name `fname`
-- ("stats.mount") and blame mount's caller.
function M.check_mount(fname, server, path, example, websocket)
  if type(server) ~= "table" or type(server.route) ~= "function"
     or (websocket and type(server.websocket) ~= "function") then
    error("bad argument #1 to '" .. fname .. "' (http.server expected)", 3)
  end
  if type(path) ~= "string" or not path:match("^/[%w%-_/]*$") or path:sub(-1) == "/" then
    error("bad argument #2 to '" .. fname .. "' (path like \"" .. example .. "\" expected)", 3)
  end
end

-- Checks opts.token: nil (no token wanted) or a non-empty string.
function M.check_token(fname, token)
  if token ~= nil and (type(token) ~= "string" or token == "") then
    error("bad argument #3 to '" .. fname .. "' (token must be a non-empty string)", 3)
  end
end

-- The page: file `name` in the directory of the Lua file whose chunk source is
-- `source` (the module's debug.getinfo(1, "S").source), with every @@BASE@@ replaced
-- by `path`, the page's own path, which its script builds its requests on.
function M.read(source, name, path)
  local dir = source:gsub("^@", ""):match("^(.*)/[^/]*$") or "."
  local f = assert(io.open(dir .. "/" .. name, "rb"))
  local html = f:read("a")
  f:close()
  return (html:gsub("@@BASE@@", path))
end

-- Whether req may see the page: always without a token; with one, its ?token= must
-- equal it (compared in constant time).
function M.authorized(req, token)
  if not token then return true end
  local given = core.http_query_param(req.target, "token")
  return type(given) == "string" and #given == #token and core.ct_equal(given, token)
end

-- The answer to a request without the right token.
function M.denied() return 401, "unauthorized\n", { ["Content-Type"] = "text/plain" } end

-- Routes GET path to html, for requests with the token.
function M.serve(server, path, html, token)
  server:route("GET", path, function(req)
    if not M.authorized(req, token) then return M.denied() end
    return 200, html, { ["Content-Type"] = "text/html; charset=utf-8", ["Cache-Control"] = "no-store" }
  end)
end

return M
