--- How the plugin speaks to the user: vim.notify with a `tunacode:` prefix, and server errors shown as errors.
local M = {}

function M.notify(msg, level)
  vim.notify('tunacode: ' .. msg, level or vim.log.levels.INFO, { title = 'tunacode' })
end

--- A JSON-RPC error (or any value) at ERROR level: the server's message says what was wrong.
function M.error(err)
  local msg = type(err) == 'table' and err.message or tostring(err)
  M.notify(msg, vim.log.levels.ERROR)
end

--- The same warning (a key missing, a readable config) after every change would be noise: each once.
local shown = {}
function M.warnings_once(warnings)
  for _, w in ipairs(warnings or {}) do
    if not shown[w] then
      shown[w] = true
      M.notify(w, vim.log.levels.WARN)
    end
  end
end

return M
