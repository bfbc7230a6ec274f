--- tuna-lsp: the tunacode model language server (Neovim 0.11+ `vim.lsp.config` form).
---
--- With this directory on 'runtimepath':
---
--- ```lua
--- vim.lsp.config('tunacode', { -- optional
---   init_options = { configPath = vim.fn.expand('~/.config/tunacode.json') },
--- })
--- vim.lsp.enable('tunacode')
--- ```
---
--- The server holds one state per process (the "session" scope is the editor's), so the config documents share
--- one client whatever their root: `reuse_client` matches on the name only. `require('tunacode').setup()` adds the
--- commands, the statusline component and a start without any file open.
---
--- `cmd` finds the server when the client starts, in the order of doc/tunacode.txt |tunacode-server|;
--- a `cmd` of your own replaces that search.
---
--- `init_options.configPath` is read from the user's configuration only, never from a project (PROTOCOL.md
--- section 1): a cloned repository must not redirect where the server writes.

---@type vim.lsp.Config
return {
  cmd = require('tunacode.server').spawn,
  -- The server runs from stdpath('data')/tunacode, never from the folder Neovim was opened in: nothing a
  -- repository holds (json.py, tuna_lsp/, sqlite3/) may end up on the import path of the server or its children.
  -- The workspace folder it serves is `root_dir` (sent in `initialize`), not its working directory.
  cmd_cwd = require('tunacode.server').work_dir(),
  -- Attached to the config documents only (tunacode.json, tunacode/preferences.toml): the server reads no
  -- other file, and sending every buffer's text would only cost it memory and the pipe a message per keystroke.
  -- The commands and the statusline need no buffer: the client runs with none attached.
  root_dir = function(bufnr, on_dir)
    if require('tunacode.documents').is_config(bufnr) then
      on_dir(require('tunacode.server').workspace_root())
    end
  end,
  init_options = {},
  reuse_client = function(client, config)
    return client.name == config.name and not client:is_stopped()
  end,
  before_init = function(params)
    -- An empty Lua table is encoded as a JSON array; the server expects an object.
    if type(params.initializationOptions) ~= 'table' or next(params.initializationOptions) == nil then
      params.initializationOptions = vim.empty_dict()
    end
  end,
  on_exit = function(_, _, client_id)
    require('tunacode.state').on_exit(client_id)
  end,
  handlers = {
    -- a stale overwrite (PROTOCOL.md section 9): Restore / Keep through vim.ui.select
    ['window/showMessageRequest'] = function(err, params, ctx)
      return require('tunacode.prompt').show_message_request(err, params, ctx)
    end,
    ['tuna/modelChanged'] = function(err, result, ctx)
      require('tunacode.state').on_model_changed(err, result, ctx)
    end,
    -- the catalog loaded or was refreshed: the same state, with the model's name and context window
    ['tuna/catalogChanged'] = function(err, result, ctx)
      if not err and type(result) == 'table' and type(result.state) == 'table' then
        require('tunacode.state').on_model_changed(err, result.state, ctx)
      end
    end,
  },
}
