--- The last ModelState the server sent (`tuna/modelChanged`, `tuna/catalogChanged`) or returned, and the
--- `User TunaModelChanged` event that carries each new one. The only writer of that state.
local M = {}

---@type table?
M.current = nil

--- Takes a ModelState (a request's result or a notification's params); ignores anything else.
function M.set(state)
  if type(state) ~= 'table' or not state.model then
    return
  end
  local s = vim.deepcopy(state)
  s.message = nil
  M.current = s
  pcall(vim.cmd.redrawstatus, { bang = true })
  pcall(vim.api.nvim_exec_autocmds, 'User', { pattern = 'TunaModelChanged', modeline = false, data = s })
end

--- `tuna/modelChanged` handler (wired in lsp/tunacode.lua).
function M.on_model_changed(err, result, _)
  if not err then
    M.set(result)
  end
end

--- The client stopped: with no other client running, no state is known.
function M.on_exit(_)
  vim.schedule(function()
    if not require('tunacode.server').get_client() then
      M.current = nil
      pcall(vim.cmd.redrawstatus, { bang = true })
    end
  end)
end

--- A copy of the last state, or nil before the server has answered.
function M.get()
  return M.current and vim.deepcopy(M.current) or nil
end

return M
