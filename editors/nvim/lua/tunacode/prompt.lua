--- The server's questions (`window/showMessageRequest`: a stale overwrite of the shared config, Restore / Keep)
--- asked through vim.ui.select, so telescope, fzf-lua or snacks show them as they show the model picker.
local M = {}

local function title(action)
  return (tostring(action.title):gsub('\r?\n', ' '))
end

--- The handler (wired in lsp/tunacode.lua). Runs in the coroutine Neovim gives server requests: it yields until
--- the user answers, then returns the chosen action (or null: no answer), as LSP expects.
function M.show_message_request(_, params, _)
  local actions = params and params.actions or {}
  local message = params and params.message or ''
  if #actions == 0 then
    require('tunacode.notify').notify(message, vim.log.levels.WARN)
    return vim.NIL
  end
  local co, is_main = coroutine.running()
  if not co or is_main then
    return vim.NIL -- no coroutine to wait in: never block the editor; the server keeps the question pending
  end
  vim.ui.select(actions, {
    prompt = 'tunacode: ' .. message,
    kind = 'tunacode.overwrite',
    format_item = title,
  }, function(choice)
    -- resumed on the next tick: a synchronous vim.ui.select calls back before the yield below
    vim.schedule(function()
      coroutine.resume(co, choice or vim.NIL)
    end)
  end)
  return coroutine.yield()
end

return M
