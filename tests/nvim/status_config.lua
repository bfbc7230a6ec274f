-- status() shows the model of a config written before Neovim started (TUNA_EXPECT_STATUS), scope global.
local H = dofile(vim.fs.joinpath(vim.fs.dirname(arg[0]), 'harness.lua'))
local expected = assert(os.getenv('TUNA_EXPECT_STATUS'))

H.run(function()
  local tunacode = H.setup()
  H.wait_ready()
  H.wait_status(expected)
  local s = tunacode.state()
  H.eq('global', s.scope, 'scope')
  H.eq(s.model, s.persistedModel, 'persistedModel')
  H.eq(H.config_path, s.configPath, 'configPath')
  -- the statusline expression a plain 'statusline' would use
  vim.o.statusline = "%{v:lua.require'tunacode'.status()}"
  H.eq(expected, vim.api.nvim_eval_statusline(vim.o.statusline, {}).str, 'evaluated statusline')
end)
