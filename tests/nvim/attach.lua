-- setup() starts one server with no file open; of the buffers opened later, that same client attaches to the
-- config documents only (tunacode.json, tunacode/preferences.toml), never to other files (issue 16).
local H = dofile(vim.fs.joinpath(vim.fs.dirname(arg[0]), 'harness.lua'))

H.run(function()
  local tunacode = H.setup()
  local client = H.wait_ready()
  H.eq('', vim.api.nvim_buf_get_name(0), 'no file is open')

  -- No config file: tunacode's own default, scope "default"; starting must not create the file.
  local s = tunacode.state()
  H.eq('default', s.scope, 'scope without a config')
  H.eq(H.config_path, s.configPath, 'configPath (from $HOME)')
  H.check(vim.uv.fs_stat(H.config_path) == nil, 'starting the server created %s', H.config_path)
  H.check(tunacode.status() ~= '', 'status() is empty once the server runs')

  -- Files in two unrelated folders, one with a filetype and one with another: still one client.
  local a = vim.fs.joinpath(H.home, 'proj-a', 'notes.txt')
  local b = vim.fs.joinpath(H.home, 'proj-b', 'main.lua')
  vim.fn.mkdir(vim.fs.dirname(a), 'p')
  vim.fn.mkdir(vim.fs.dirname(b), 'p')
  vim.cmd.edit(a)
  local buf_a = vim.api.nvim_get_current_buf()
  vim.cmd.edit(b)
  local buf_b = vim.api.nvim_get_current_buf()
  local prefs = vim.fs.joinpath(H.home, 'xdgconfig', 'tunacode', 'preferences.toml')
  vim.fn.mkdir(vim.fs.dirname(prefs), 'p')
  vim.cmd.edit(prefs)
  local buf_p = vim.api.nvim_get_current_buf()
  vim.cmd.edit(H.config_path)
  local buf_c = vim.api.nvim_get_current_buf()
  for _, buf in ipairs({ buf_p, buf_c }) do
    H.wait(('client attached to %s'):format(vim.api.nvim_buf_get_name(buf)), function()
      return vim.lsp.buf_is_attached(buf, client.id)
    end)
  end
  for _, buf in ipairs({ buf_a, buf_b }) do
    H.check(not vim.lsp.buf_is_attached(buf, client.id), 'attached to %s', vim.api.nvim_buf_get_name(buf))
  end
  H.eq(1, #vim.lsp.get_clients({ name = 'tunacode', _uninitialized = true }), 'number of tunacode clients')
end)
