--- :checkhealth tunacode: whether the server starts, which shared config it uses and whether that file is valid,
--- and whether :TunaTerm can find the CLI. Reads the config; never writes it.
local M = {}

local health = vim.health

local function check_config_file(path)
  local stat = vim.uv.fs_stat(path)
  if not stat then
    health.info(('%s does not exist yet: tunacode uses its default model until a model is set'):format(path))
    return
  end
  local fd = io.open(path, 'r')
  if not fd then
    health.error(('%s cannot be read'):format(path), { 'check its permissions' })
    return
  end
  local text = fd:read('*a')
  fd:close()
  local ok, data = pcall(vim.json.decode, text, { luanil = { object = true, array = true } })
  if not ok or type(data) ~= 'table' or vim.islist(data) and next(data) ~= nil then
    health.error(
      ('%s is not valid: %s'):format(path, ok and 'not a JSON object' or tostring(data)),
      { 'fix the JSON by hand, or move the file away: the server keeps its last good state and writes nothing' }
    )
    return
  end
  local problems = {}
  if data.default_model ~= nil and type(data.default_model) ~= 'string' then
    problems[#problems + 1] = 'default_model is not a string'
  end
  if data.recent_models ~= nil and not vim.islist(data.recent_models) then
    problems[#problems + 1] = 'recent_models is not a list'
  end
  if data.env ~= nil and type(data.env) ~= 'table' then
    problems[#problems + 1] = 'env is not an object'
  end
  if #problems > 0 then
    health.error(('%s is not valid: %s'):format(path, table.concat(problems, '; ')))
    return
  end
  health.ok(
    ('%s is valid (default_model: %s, %d recent models)'):format(
      path,
      data.default_model or 'not set',
      #(data.recent_models or {})
    )
  )
end

function M.check()
  local tunacode = require('tunacode')

  health.start('tunacode: Neovim')
  if vim.fn.has('nvim-0.11') == 1 then
    health.ok('Neovim ' .. tostring(vim.version()))
  else
    health.error('Neovim 0.11 or later is needed (vim.lsp.config)')
    return
  end

  health.start('tunacode: language server')
  local cfg = tunacode.lsp_config()
  if type(cfg.cmd) == 'table' then
    local exe = vim.fn.exepath(cfg.cmd[1])
    if exe ~= '' then
      local shown = table.concat(cfg.cmd, ' ')
      health.ok(('server command: %s%s'):format(shown, exe == cfg.cmd[1] and '' or (' (' .. exe .. ')')))
    else
      health.error(('server command %q is not executable'):format(cfg.cmd[1]), {
        'install the server: pip install tuna-lsp (or pipx / uv tool install tuna-lsp)',
        'or give its path: require("tunacode").setup({ cmd = { "/path/to/tuna-lsp" } })',
      })
      return
    end
  end
  local client, err = tunacode.wait_client()
  if not client then
    health.error('the server did not start: ' .. tostring(err), { 'see :LspLog' })
    return
  end
  local info = client.server_info or {}
  health.ok(('server started: %s %s (client id %d)'):format(info.name or 'tuna-lsp', info.version or '', client.id))

  local resp = client:request_sync('tuna/getModel', vim.empty_dict(), tunacode.options.timeout_ms)
  if not resp or resp.err then
    health.error('tuna/getModel failed: ' .. (resp and resp.err and resp.err.message or 'no answer'))
    return
  end
  local s = resp.result

  health.start('tunacode: shared config')
  health.info('config: ' .. tostring(s.configPath))
  check_config_file(s.configPath)
  local warnings = s.warnings or {}
  for _, w in ipairs(warnings) do
    health.warn(w)
  end
  health.ok(('effective model: %s (scope: %s)'):format(s.model, s.scope))
  if s.apiKey == 'missing' then
    health.warn(('no API key for %s'):format(s.provider or s.model), {
      ('set %s in the config\'s "env" or in the environment'):format(s.apiKeyEnvVar or 'the provider key'),
    })
  elseif s.apiKey == 'present' then
    health.ok(('API key present (%s)'):format(s.apiKeyEnvVar or s.provider))
  end

  health.start('tunacode: CLI (:TunaTerm)')
  local cli = tunacode.options.cli_cmd
  cli = type(cli) == 'table' and cli or { cli }
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
