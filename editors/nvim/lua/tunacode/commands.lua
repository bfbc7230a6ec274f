--- The user commands :TunaModel, :TunaTerm and :TunaInstall: argument parsing only; the work is in the other modules,
--- loaded when a command first runs (defining the commands at startup loads nothing else).
local M = {}

M.USAGE = 'usage: :TunaModel [provider:model] [default|global|workspace|session], '
  .. ':TunaModel clear session|workspace, :TunaModel restore, :TunaModel usage [days], :TunaModel! for history'

--- :TunaModel[!] [model] [default|global|workspace|session], :TunaModel clear {scope}, :TunaModel restore,
--- :TunaModel usage [days]
function M.tuna_model(opts)
  local model = require('tunacode.model')
  local picker = require('tunacode.picker')
  local a = opts.fargs
  if opts.bang or (#a == 1 and a[1] == 'history') then
    return require('tunacode.history').show()
  elseif #a == 0 then
    return picker.pick('global')
  elseif #a == 1 and model.SCOPES[a[1]] then
    return picker.pick(a[1])
  elseif a[1] == 'clear' then
    if #a == 2 then
      return model.clear(a[2])
    end
    return require('tunacode.notify').notify('usage: :TunaModel clear session|workspace', vim.log.levels.ERROR)
  elseif #a == 1 and a[1] == 'restore' then
    return model.restore()
  elseif a[1] == 'usage' and #a <= 2 then
    return require('tunacode.usage').show(a[2])
  elseif #a <= 2 then
    return model.set(a[1], a[2])
  end
  require('tunacode.notify').notify(M.USAGE, vim.log.levels.ERROR)
end

function M.create()
  vim.api.nvim_create_user_command('TunaModel', M.tuna_model, {
    nargs = '*',
    bang = true,
    complete = function(...)
      return require('tunacode.completion').tuna_model(...)
    end,
    desc = 'tunacode: pick or set the model ([model] [default|global|workspace|session], clear {scope}, restore,'
      .. ' usage [days]); ! shows the history',
  })
  vim.api.nvim_create_user_command('TunaTerm', function(o)
    require('tunacode.terminal').open(o.fargs)
  end, { nargs = '*', desc = 'tunacode: terminal running tunacode --model <effective model>' })
  vim.api.nvim_create_user_command('TunaInstall', function()
    require('tunacode.install').install()
  end, {
    nargs = 0,
    desc = "tunacode: install the server in a venv under stdpath('data'), from this plugin's clone, else "
      .. "tuna-lsp==<the plugin's version> from the package index",
  })
end

return M
