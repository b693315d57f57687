-- icepage: the ICE/TURN tester as a page (like the trickle-ICE sample) for any
-- http.server: the browser gathers against the servers the page is given and shows
-- each candidate and error as it comes, and one result a server.
--
--   local icepage = require "icepage"
--   icepage.mount(server, "/tools/ice", {
--     servers = { { urls = "turn:turn.example.org:3478", username = "u", credential = "p" },
--                 { urls = "turn:turn.example.org:3478?transport=tcp" } },
--     turn_secret = "...",   -- TURN REST: fills username/credential of TURN servers without them
--     token = "...",         -- optional: the page and its config want ?token=
--   })
--
-- GET /tools/ice          the page (its script is in the page; nothing else is loaded)
-- GET /tools/ice/config   {"servers": [...]} with fresh TURN REST credentials
-- See docs/tools.md.
local rtc = require "rtc"
local core = require "rtc.core"
local turn = require "turn"

local M = {}

local function read_page()
  local src = debug.getinfo(1, "S").source:gsub("^@", "")
  local dir = src:match("^(.*)/[^/]*$") or "."
  local f = assert(io.open(dir .. "/page.html", "rb"))
  local html = f:read("a")
  f:close()
  return html
end

--- icepage.mount(server, path, {servers=, turn_secret=, rest_user=, ttl=, token=})
function M.mount(server, path, opts)
  if type(server) ~= "table" or type(server.route) ~= "function" then
    error("bad argument #1 to 'icepage.mount' (http.server expected)", 2)
  end
  if type(path) ~= "string" or not path:match("^/[%w%-_/]*$") or path:sub(-1) == "/" then
    error("bad argument #2 to 'icepage.mount' (path like \"/tools/ice\" expected)", 2)
  end
  opts = opts or {}
  if type(opts.servers) ~= "table" then error("bad argument #3 to 'icepage.mount' (servers list expected)", 2) end
  for i, s in ipairs(opts.servers) do
    if type(s) ~= "table" or (type(s.urls) ~= "string" and type(s.urls) ~= "table") then
      error("bad argument #3 to 'icepage.mount' (servers[" .. i .. "].urls expected)", 2)
    end
  end
  if opts.token ~= nil and (type(opts.token) ~= "string" or opts.token == "") then
    error("bad argument #3 to 'icepage.mount' (token must be a non-empty string)", 2)
  end
  local token = opts.token
  local html = read_page():gsub("@@BASE@@", path)
  local function authorized(req)
    if not token then return true end
    local given = core.http_query_param(req.target, "token")
    return type(given) == "string" and #given == #token and core.ct_equal(given, token)
  end
  local function denied() return 401, "unauthorized\n", { ["Content-Type"] = "text/plain" } end
  server:route("GET", path, function(req)
    if not authorized(req) then return denied() end
    return 200, html, { ["Content-Type"] = "text/html; charset=utf-8", ["Cache-Control"] = "no-store" }
  end)
  server:route("GET", path .. "/config", function(req)
    if not authorized(req) then return denied() end
    local list = {}
    for _, s in ipairs(opts.servers) do
      local e = { urls = s.urls, username = s.username, credential = s.credential }
      local first = type(s.urls) == "table" and s.urls[1] or s.urls
      if opts.turn_secret and not e.username and tostring(first):match("^turns?:") then
        e.username, e.credential = turn.rest_credentials(opts.turn_secret, opts.rest_user or "icepage", opts.ttl or 3600)
      end
      list[#list + 1] = e
    end
    return 200, rtc.json.encode { servers = rtc.json.array(list) },
           { ["Content-Type"] = "application/json", ["Cache-Control"] = "no-store" }
  end)
  return { close = function() end }
end

return M
