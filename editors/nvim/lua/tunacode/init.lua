--- tunacode.nvim: pick the model the tunacode CLI uses, from Neovim, through the `tuna-lsp` language server.
---
--- The public API, and only that: each function hands over to the module that owns its concern
--- (config, server, documents, state, status, model, prompt, picker, completion, history, terminal,
--- install, commands, health).
--- The shared config file is the server's business: no module of this plugin reads or writes it.
local config = require('tunacode.config')

local M = {}

---@type tunacode.Opts
M.options = config.options

--- Configures the client (over lsp/tunacode.lua), defines the commands and starts the server.
---@param opts? tunacode.Opts
function M.setup(opts)
  M.options = config.apply(opts)
  local server = require('tunacode.server')
  server.configure()
  require('tunacode.commands').create()
  if M.options.attach then
    vim.lsp.enable(server.NAME)
  end
  if M.options.autostart then
    local _, err = server.start()
    if err then
      require('tunacode.notify').notify(err, vim.log.levels.ERROR)
    end
  end
end

--- The last ModelState from the server (a copy), or nil before it has answered.
function M.state()
  return require('tunacode.state').get()
end

--- Statusline text: the effective model and its marks; '' while no server runs.
---@param opts? tunacode.StatusOpts
function M.status(opts)
  return require('tunacode.status').status(opts)
end

--- Sets the model; scope 'global' (default, also 'default'), 'workspace' or 'session'. cb(err, state).
function M.set_model(model, scope, cb)
  return require('tunacode.model').set(model, scope, cb)
end

--- Drops the 'session' or 'workspace' choice. cb(err, state).
function M.clear_model(scope, cb)
  return require('tunacode.model').clear(scope, cb)
end

--- Undoes a stale overwrite of the shared config by a running tunacode (puts the replaced model back). cb(err, state).
function M.restore(cb)
  return require('tunacode.model').restore(cb)
end

--- vim.ui.select over the catalog, then sets the chosen model.
function M.pick(scope)
  return require('tunacode.picker').pick(scope)
end

--- Picks among the catalog's matches for a query (asked with vim.ui.input when not given).
function M.search(scope, query)
  return require('tunacode.picker').search(scope, query)
end

--- Shows the newest model changes.
function M.history(limit)
  return require('tunacode.history').show(limit)
end

--- Shows the usage of the last `days` days (default 30) in a scratch buffer (:TunaModel usage). cb(err, {buf, usage}).
function M.usage(days, cb)
  return require('tunacode.usage').show(days, cb)
end

--- Opens a terminal running `tunacode --model <effective model> [args]`. cb(err, {buf, job, cmd}).
function M.term(args, cb)
  return require('tunacode.terminal').open(args, cb)
end

--- Installs the server in a venv under stdpath('data') from this plugin's clone (:TunaInstall). cb(err, exe).
function M.install(cb)
  return require('tunacode.install').install(cb)
end

--- One picker row, for a custom picker over tuna/listModels items.
function M.format_item(item)
  return require('tunacode.picker').format_item(item)
end

--- The running client, or nil.
---@return vim.lsp.Client?
function M.get_client()
  return require('tunacode.server').get_client()
end

--- The resolved LSP client config (lsp/tunacode.lua with every override).
function M.lsp_config()
  return require('tunacode.server').lsp_config()
end

--- Defines :TunaModel, :TunaTerm and :TunaInstall (plugin/tunacode.lua calls this at startup).
function M.create_commands()
  require('tunacode.commands').create()
end

return M
