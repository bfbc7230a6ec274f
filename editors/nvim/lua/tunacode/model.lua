--- Changing the model: `tuna/setModel` with a scope, `tuna/clearModel` of a session or workspace choice,
--- `tuna/restoreOverwrite`, and what the user is told about each result.
local notify = require('tunacode.notify')
local server = require('tunacode.server')
local state = require('tunacode.state')

local M = {}

--- The scope words :TunaModel takes, and the scope each one sends ('default' is tunacode's word for global).
M.SCOPES = { global = 'global', default = 'global', session = 'session', workspace = 'workspace' }
--- The choices `tuna/clearModel` drops (the global one is the shared config: set another instead).
M.CLEARABLE = { session = true, workspace = true }

--- Shows a state-changing result (message and new warnings) and records its state.
local function done(cb, fallback)
  return function(err, result)
    if err then
      notify.error(err)
      return cb(err)
    end
    state.set(result)
    notify.notify(result.message or fallback(result))
    notify.warnings_once(result.warnings)
    cb(nil, result)
  end
end

--- Sets the model. scope: 'global' (default; 'default' is the same), 'workspace' or 'session'.
---@param model string
---@param scope? string
---@param cb? fun(err: table?, state: table?)
function M.set(model, scope, cb)
  cb = cb or function() end
  local wire_scope = M.SCOPES[scope or 'global']
  if not wire_scope then
    notify.notify(
      ('unknown scope %q: use default, global, workspace or session'):format(scope),
      vim.log.levels.ERROR
    )
    return cb({ message = 'unknown scope' })
  end
  server.request(
    'tuna/setModel',
    { model = model, scope = wire_scope },
    done(cb, function(r)
      return 'model set to ' .. tostring(r.model)
    end)
  )
end

--- Drops the session or workspace choice: the next scope down takes effect.
---@param scope string 'session' or 'workspace'
---@param cb? fun(err: table?, state: table?)
function M.clear(scope, cb)
  cb = cb or function() end
  if not M.CLEARABLE[scope] then
    notify.notify(
      ('cannot clear %q: use :TunaModel clear session or :TunaModel clear workspace'):format(tostring(scope)),
      vim.log.levels.ERROR
    )
    return cb({ message = 'unknown scope' })
  end
  server.request(
    'tuna/clearModel',
    { scope = scope },
    done(cb, function(r)
      return ('%s choice cleared; model: %s'):format(scope, tostring(r.model))
    end)
  )
end

--- Puts back the model a stale overwrite undid (and the keys it dropped), as the server's prompt does.
---@param cb? fun(err: table?, state: table?)
function M.restore(cb)
  cb = cb or function() end
  server.request(
    'tuna/restoreOverwrite',
    nil,
    done(cb, function(r)
      return 'restored ' .. tostring(r.model)
    end)
  )
end

return M
