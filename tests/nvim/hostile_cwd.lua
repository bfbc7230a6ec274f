-- Issue 24: Neovim opened in a repository that holds `json.py`, `tuna_lsp/__init__.py` and `sqlite3/__init__.py`
-- (each leaves a marker in TUNA_MARKER_DIR when imported). The server the plugin starts runs from
-- stdpath('data')/tunacode, never from that folder, so neither it nor the catalog index builder it starts imports
-- them; it still serves that folder as its workspace. TUNA_START_DIR: the repository. TUNA_STEP: `setup` (the
-- client setup() starts) or `plain` (vim.lsp.config + vim.lsp.enable over lsp/tunacode.lua, no setup()).
local H = dofile(vim.fs.joinpath(vim.fs.dirname(arg[0]), 'harness.lua'))
local step = assert(os.getenv('TUNA_STEP'), 'TUNA_STEP not set')

H.run(function()
  local start_dir = assert(H.enter_start_dir(), 'TUNA_START_DIR not set')
  if step == 'setup' then
    H.setup()
    H.wait_ready()
  else
    H.add_plugin()
    vim.lsp.config('tunacode', { cmd = H.server_cmd })
    vim.lsp.enable('tunacode')
    vim.cmd.edit(H.config_path)
    local buf = vim.api.nvim_get_current_buf()
    H.wait('the client to attach to the shared config', function()
      local c = H.client()
      return c and c.initialized and vim.lsp.buf_is_attached(buf, c.id)
    end)
  end
  H.check_server_cwd(start_dir)

  -- the catalog: its index is built now (a child process of the server), from the catalog's sources
  H.require_catalog()
  local resp = H.client():request_sync('tuna/listModels', { query = 'gpt-4.1', limit = 5 }, 60000)
  H.check(resp and resp.result and #resp.result.items > 0, 'tuna/listModels: %s', vim.inspect(resp))

  local mark = #H.notes
  vim.cmd('TunaModel openai:gpt-4.1 workspace')
  H.wait_note('openai:gpt-4.1', vim.log.levels.INFO, mark)
  H.wait_status('openai:gpt-4.1 [workspace]')
  local served = require('tunacode').state().workspaceFolder
  H.eq(vim.uv.fs_realpath(start_dir), vim.uv.fs_realpath(served), 'the workspace folder the server serves')

  H.check_server_cwd(start_dir)
  H.eq({}, H.planted_markers(), "the repository's planted modules that ran")
end)
