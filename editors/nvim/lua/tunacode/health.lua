--- :checkhealth tunacode: where the server was found and whether it starts, the server's own verdict on the
--- shared config (it alone knows tunacode's rules), the model in effect, and whether :TunaTerm finds the CLI.
--- Reads no config file itself.
local config = require('tunacode.config')
local server = require('tunacode.server')

local M = {}

local health = vim.health

--- The verdict of a server started for this check alone: it reads the config as it is on disk now, where the
--- running server may not have seen a write of a moment ago yet. Nil (and why) when it cannot be asked.
---@return table?, string?
local function fresh_verdict(cfg, argv)
  if not argv then
    return nil, 'the server command is a function: asking the running server only'
  end
  local id = vim.lsp.start({
    name = 'tunacode-health',
    cmd = argv,
    cmd_env = cfg.cmd_env,
    init_options = cfg.init_options,
    before_init = cfg.before_init,
    root_dir = server.workspace_root(),
  }, { attach = false, silent = true })
  local client = id and vim.lsp.get_client_by_id(id)
  if not client then
    return nil, 'the check server did not start'
  end
  local timeout = config.options.timeout_ms
  vim.wait(timeout, function()
    return client.initialized or client:is_stopped()
  end, 10)
  local resp = client.initialized and client:request_sync('tuna/getModel', vim.empty_dict(), timeout) or nil
  client:stop()
  vim.wait(3000, function()
    return client:is_stopped()
  end, 10)
  if not client:is_stopped() then
    client:stop(true)
  end
  if not resp or resp.err then
    return nil, 'the check server did not answer: ' .. (resp and resp.err and resp.err.message or 'no answer')
  end
  return resp.result
end

local function report_config(s)
  local path = tostring(s.configPath)
  health.info('config: ' .. path)
  if s.configValid == false then
    local why = vim.tbl_filter(function(w)
      return w:find('invalid', 1, true) ~= nil
    end, s.warnings or {})
    health.error(('%s is not valid: %s'):format(path, table.concat(why, '; ')), {
      'fix the file by hand, or move it away: the server keeps its last good state and writes nothing',
    })
  elseif s.scope == 'default' and s.persistedModel == nil and vim.uv.fs_stat(path) == nil then
    health.info(('%s does not exist yet: tunacode uses its default model until a model is set'):format(path))
  else
    health.ok(
      ('%s is valid (default_model: %s, %d recent models)'):format(
        path,
        s.persistedModel or 'not set',
        #(s.recentModels or {})
      )
    )
  end
end

function M.check()
  health.start('tunacode: Neovim')
  if vim.fn.has('nvim-0.11') == 1 then
    health.ok('Neovim ' .. tostring(vim.version()))
  else
    health.error('Neovim 0.11 or later is needed (vim.lsp.config)')
    return
  end

  health.start('tunacode: language server')
  local cfg = server.lsp_config()
  local argv, discovered = server.argv(cfg)
  if argv then
    local exe = vim.fn.exepath(argv[1])
    if exe == '' then
      local python, why = require('tunacode.install').find_python()
      health.error(('server command %q is not executable'):format(argv[1]), {
        discovered and ('no tuna-lsp found; looked in: ' .. server.looked_in()) or 'the cmd you set',
        ('install it with :TunaInstall (a venv under stdpath("data"), from %s)'):format(
          require('tunacode.install').source().from
        )
          .. (
            python and (', which would use Python %s (%s)'):format(python[3], table.concat(python.argv, ' '))
            or (': ' .. tostring(why))
          ),
        'or give its path: require("tunacode").setup({ cmd = { "/path/to/tuna-lsp" } })',
      })
      return
    end
    local shown = table.concat(argv, ' ')
    health.ok(
      ('server command: %s%s%s'):format(
        shown,
        exe == argv[1] and '' or (' (' .. exe .. ')'),
        discovered and '' or ' (your cmd setting)'
      )
    )
  end
  local client, err = server.wait_client()
  if not client then
    health.error('the server did not start: ' .. tostring(err), { 'see :LspLog' })
    return
  end
  local info = client.server_info or {}
  health.ok(('server started: %s %s (client id %d)'):format(info.name or 'tuna-lsp', info.version or '', client.id))
  local plugin_version = require('tunacode.install').plugin_version()
  if info.version and info.version ~= plugin_version then
    health.warn(('the server is version %s, this plugin %s'):format(info.version, plugin_version), {
      (':TunaInstall installs the server from %s'):format(require('tunacode.install').source().from),
    })
  end
  local resp = client:request_sync('tuna/getModel', vim.empty_dict(), config.options.timeout_ms)
  if not resp or resp.err then
    health.error('tuna/getModel failed: ' .. (resp and resp.err and resp.err.message or 'no answer'))
    return
  end
  local s = resp.result

  health.start('tunacode: shared config (the server\'s verdict)')
  local fresh, why = fresh_verdict(cfg, argv)
  if not fresh then
    health.info(why)
  end
  report_config(fresh or s)
  for _, w in ipairs(s.warnings or {}) do
    health.warn(w)
  end
  health.ok(('effective model: %s (scope: %s)'):format(s.model, s.scope))
  local o = s.overwrite
  if type(o) == 'table' and o.resolution == 'pending' then
    health.warn(
      ('a running tunacode wrote back a stale copy of the config: %s replaced %s'):format(
        tostring(o.model),
        tostring(o.replacedModel)
      ),
      { (':TunaModel restore puts %s back, with the keys it dropped'):format(tostring(o.replacedModel)) }
    )
  end
  if s.apiKey == 'missing' then
    health.warn(('no API key for %s'):format(s.provider or s.model), {
      ('set %s in the config\'s "env" or in the environment'):format(s.apiKeyEnvVar or 'the provider key'),
    })
  elseif s.apiKey == 'present' then
    health.ok(('API key present (%s)'):format(s.apiKeyEnvVar or s.provider))
  end

  health.start('tunacode: CLI (:TunaTerm)')
  local cli = config.as_list(config.options.cli_cmd) or { 'tunacode' }
  local exe = vim.fn.exepath(cli[1])
  if exe ~= '' then
    health.ok(('CLI: %s'):format(exe))
  else
    health.warn(('%q is not executable: :TunaTerm cannot start tunacode'):format(cli[1]), {
      'pip install tunacode-cli, or set cli_cmd in require("tunacode").setup()',
    })
  end
end

return M
