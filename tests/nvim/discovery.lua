-- The server is found in the documented order (doc/tunacode.txt |tunacode-server|): the user's cmd, the venv of
-- :TunaInstall under stdpath('data'), the .venv of the plugin's clone, tuna-lsp on PATH. The driver puts a
-- tuna-lsp in each of the last three places (TUNA_PATH_BIN: the PATH one); the scenario removes them one by one.
local H = dofile(vim.fs.joinpath(vim.fs.dirname(arg[0]), 'harness.lua'))
local path_bin = assert(os.getenv('TUNA_PATH_BIN'), 'TUNA_PATH_BIN not set')

H.run(function()
  H.add_plugin()
  local server = require('tunacode.server')
  local data = vim.fs.joinpath(vim.fn.stdpath('data'), 'tunacode', 'venv', 'bin', 'tuna-lsp')
  local clone = vim.fs.joinpath(vim.fs.dirname(vim.fs.dirname(H.plugin_dir)), '.venv', 'bin', 'tuna-lsp')
  local on_path = vim.fs.joinpath(path_bin, 'tuna-lsp')
  for _, p in ipairs({ data, clone, on_path }) do
    H.check(vim.fn.executable(p) == 1, 'the driver did not provide %s', p)
  end

  -- no cmd: the :TunaInstall venv first, and the client runs it
  vim.cmd('TunaModel openai:gpt-4.1 session')
  H.wait_status('openai:gpt-4.1 [session]')
  H.eq(data, H.client().config.cmd[1], 'the server started with no cmd')
  H.client():stop()
  H.wait('the client to stop', function()
    return H.client() == nil
  end)

  H.eq({ data }, server.discover(), 'step 2: the :TunaInstall venv')
  os.remove(data)
  H.eq({ clone }, server.discover(), "step 3: the clone's .venv")
  os.remove(clone)
  H.eq({ 'tuna-lsp' }, server.discover(), 'step 4: PATH')
  os.remove(on_path)
  H.eq(nil, server.discover(), 'nothing left')

  -- the user's cmd comes before them all
  require('tunacode').setup({ cmd = H.server_cmd, autostart = false })
  H.eq(H.server_cmd, server.argv(server.lsp_config()), 'step 1: cmd')
end)
