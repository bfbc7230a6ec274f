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
--- The server holds one state per process (the "session" scope is the editor's), so every buffer shares one
--- client whatever its root: `reuse_client` matches on the name only. `require('tunacode').setup()` adds the
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
  -- nil: any filetype. The server reads no documents; attaching only makes the client visible per buffer.
  filetypes = nil,
  root_markers = { '.git' },
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
