--- Which buffers are config documents, the only ones the server reads (diagnostics, completion, hover):
--- the shared config (and any `tunacode.json`) and `tunacode/preferences.toml`, the rules of the server's
--- features/documents.py. The client attaches to these alone, so no other file's text is sent to the server.
local M = {}

local function real(path)
  return vim.uv.fs_realpath(path) or vim.fs.normalize(path)
end

--- The shared config paths this editor knows of: the server's answer, setup's config_path, $TUNACODE_CONFIG.
local function known_configs()
  local s = require('tunacode.state').current
  local paths = {
    s and s.configPath,
    require('tunacode.config').options.config_path,
    vim.env.TUNACODE_CONFIG,
  }
  return vim.tbl_filter(function(p)
    return type(p) == 'string' and p ~= ''
  end, paths)
end

---@param path string
---@return boolean
function M.is_config_path(path)
  if path == '' or path:find('^%a[%w+.-]*://') then
    return false
  end
  local name = vim.fs.basename(path)
  if name == 'tunacode.json' then
    return true
  elseif name == 'preferences.toml' and vim.fs.basename(vim.fs.dirname(path)) == 'tunacode' then
    return true
  end
  local target = real(path)
  for _, p in ipairs(known_configs()) do
    if real(vim.fs.normalize(p)) == target then
      return true
    end
  end
  return false
end

---@param bufnr integer
---@return boolean
function M.is_config(bufnr)
  return M.is_config_path(vim.api.nvim_buf_get_name(bufnr))
end

return M
