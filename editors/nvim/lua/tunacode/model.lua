--- Changing the model: `tuna/setModel` with a scope, and what the user is told about the result.
local notify = require('tunacode.notify')
local server = require('tunacode.server')
local state = require('tunacode.state')

local M = {}

--- The scope words :TunaModel takes, and the scope each one sends ('default' is tunacode's word for global).
M.SCOPES = { global = 'global', default = 'global', session = 'session' }

--- Sets the model. scope: 'global' (default; 'default' is the same), or 'session'.
---@param model string
---@param scope? string
---@param cb? fun(err: table?, state: table?)
function M.set(model, scope, cb)
  cb = cb or function() end
  local wire_scope = M.SCOPES[scope or 'global']
  if not wire_scope then
    notify.notify(('unknown scope %q: use default, global or session'):format(scope), vim.log.levels.ERROR)
    return cb({ message = 'unknown scope' })
  end
  server.request('tuna/setModel', { model = model, scope = wire_scope }, function(err, result)
    if err then
      notify.error(err)
      return cb(err)
    end
    state.set(result)
    notify.notify(result.message or ('model set to ' .. tostring(result.model)))
    notify.warnings_once(result.warnings)
    cb(nil, result)
  end)
end

return M
