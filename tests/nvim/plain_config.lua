-- Without setup(): the plain Neovim 0.11+ form, vim.lsp.config + vim.lsp.enable over lsp/tunacode.lua.
-- Opening the shared config starts and attaches the server (another file does not: issue 16); status() and
-- :TunaModel work through that same client.
local H = dofile(vim.fs.joinpath(vim.fs.dirname(arg[0]), 'harness.lua'))

H.run(function()
  H.add_plugin()
  vim.lsp.config('tunacode', { cmd = H.server_cmd })
  vim.lsp.enable('tunacode')
  local file = vim.fs.joinpath(H.home, 'proj', 'main.py')
  vim.fn.mkdir(vim.fs.dirname(file), 'p')
  vim.cmd.edit(file)
  local py = vim.api.nvim_get_current_buf()
  vim.cmd.edit(H.config_path)
  local buf = vim.api.nvim_get_current_buf()
  H.wait('the client to attach to the shared config', function()
    local c = H.client()
    return c and c.initialized and vim.lsp.buf_is_attached(buf, c.id)
  end)
  H.wait_status('openai:gpt-4o')
  local id = H.client().id
  H.check(not vim.lsp.buf_is_attached(py, id), 'the client attached to main.py')

  local mark = #H.notes
  vim.cmd('TunaModel openai:gpt-4.1')
  H.wait_note('openai:gpt-4.1', vim.log.levels.INFO, mark)
  H.wait_status('openai:gpt-4.1')
  H.eq('openai:gpt-4.1', H.read_config().default_model, 'default_model')
  H.eq(1, #vim.lsp.get_clients({ name = 'tunacode', _uninitialized = true }), 'clients')
  H.eq(id, H.client().id, 'the command used the enabled client')
end)
