-- The real tunacode CLI (TUNA_CLI_PYTHON's tunacode.configuration.user_config) saves a model: status() follows
-- with no user action. Then a plain in-place file write (as a hand edit or another tool would) does too.
local H = dofile(vim.fs.joinpath(vim.fs.dirname(arg[0]), 'harness.lua'))
local cli_python = assert(os.getenv('TUNA_CLI_PYTHON'), 'TUNA_CLI_PYTHON not set')

-- what tunacode does when its model picker saves: record the recent model, set the default, save_config
local CLI_SET = [[
import copy, sys, types
from tunacode.configuration.defaults import DEFAULT_USER_CONFIG
from tunacode.configuration.user_config import load_config, record_recent_model, set_default_model
model = sys.argv[1]
cfg = load_config() or copy.deepcopy(DEFAULT_USER_CONFIG)
record_recent_model(cfg, model)
set_default_model(model, types.SimpleNamespace(session=types.SimpleNamespace(user_config=cfg)))
]]

H.run(function()
  local tunacode = H.setup()
  H.wait_ready()
  H.wait_status('openai:gpt-4o')
  local notes_before = #H.notes
  local events = {}
  vim.api.nvim_create_autocmd('User', {
    pattern = 'TunaModelChanged',
    callback = function(ev)
      events[#events + 1] = ev.data
    end,
  })

  local t = vim.uv.hrtime()
  local res = vim.system({ cli_python, '-c', CLI_SET, 'openai:gpt-4.1' }, { text = true }):wait(60000)
  H.check(res.code == 0, 'tunacode CLI failed (%s): %s', tostring(res.code), res.stderr or '')
  H.log('CLI wrote the config in %.0f ms', (vim.uv.hrtime() - t) / 1e6)
  H.wait_status('openai:gpt-4.1')
  H.log('status followed %.0f ms after the CLI started', (vim.uv.hrtime() - t) / 1e6)
  local s = tunacode.state()
  -- "external" as a rule; the server's catalog-loaded update may carry the same change first, as "initial"
  H.check(s.origin ~= 'client', 'origin %s: this editor asked for nothing', s.origin)
  H.eq('openai:gpt-4.1', s.persistedModel, 'persistedModel')
  H.eq('openai:gpt-4.1', s.recentModels[1], 'recentModels[1]')
  H.check(#events > 0 and events[#events].model == 'openai:gpt-4.1', 'User TunaModelChanged: %s', vim.inspect(events))
  vim.o.statusline = "%{v:lua.require'tunacode'.status()}"
  H.eq('openai:gpt-4.1', vim.api.nvim_eval_statusline(vim.o.statusline, {}).str, 'evaluated statusline')

  -- a plain in-place write (truncate, then write), not atomic; once the catalog has loaded, its origin is sure
  H.wait('the catalog (name filled in)', function()
    return tunacode.state().name ~= nil
  end)
  local cfg = H.read_config()
  cfg.default_model = 'openai:gpt-4o-mini'
  local f = assert(io.open(H.config_path, 'w'))
  f:write(vim.json.encode(cfg))
  f:close()
  H.wait_status('openai:gpt-4o-mini')
  H.eq('external', tunacode.state().origin, 'origin after a plain write')

  -- nothing of this needed the user: no error was shown
  for i = notes_before + 1, #H.notes do
    H.check(H.notes[i].level < vim.log.levels.ERROR, 'unexpected error: %s', H.notes[i].msg)
  end
end)
