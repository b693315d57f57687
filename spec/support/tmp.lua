-- Temporary files and directories for specs: each one made here is remembered, and
-- tmp.clean() (in a teardown) removes all of them, so a spec leaves nothing in /tmp.
--   local tmp = require "support.tmp"
--   local log = tmp.file()          -- an empty file of its own
--   local shot = tmp.file(".png")   -- a free name ending in .png
--   local dir = tmp.dir()           -- an empty directory
--   teardown(tmp.clean)
local M = {}

local made = {}    -- paths, in the order made
local dirs = {}    -- path -> true for the directories among them

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

-- Remembers path (a file or directory something else creates) for clean().
function M.track(path)
  made[#made + 1] = path
  return path
end

-- A new file name. os.tmpname() creates the file, which keeps the name ours; with a
-- suffix the name returned is that file's name plus the suffix, not created (some tools
-- want an ending), and both are removed by clean().
function M.file(suffix)
  local path = M.track(os.tmpname())
  if suffix then return M.track(path .. suffix) end
  return path
end

-- A new empty directory.
function M.dir()
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. q(dir)))
  dirs[dir] = true
  return M.track(dir)
end

-- Removes what file()/dir()/track() gave out so far.
function M.clean()
  for i = #made, 1, -1 do
    local path = made[i]
    -- a directory may have been filled (os.remove takes only empty ones)
    if not os.remove(path) and dirs[path] then os.execute("rm -rf " .. q(path)) end
    made[i], dirs[path] = nil, nil
  end
end

return M
