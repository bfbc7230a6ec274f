--- The `tuna-lsp` process and the one `tunacode` LSP client per Neovim: where the server is found, the client
--- config layered over `lsp/tunacode.lua`, starting it with no buffer, and sending requests once it runs.
--- Knows nothing of models: the other modules ask it for a client.
---
--- Where the server is found, first that applies (doc/tunacode.txt |tunacode-server|; the VS Code extension
--- looks in the same order):
---   1. the user's `cmd` (setup{ cmd = ... } or vim.lsp.config('tunacode', { cmd = ... }))
---   2. the venv :TunaInstall creates: stdpath('data')/tunacode/venv/bin/tuna-lsp
---   3. `.venv/bin/tuna-lsp` of the clone this plugin lives in
---   4. `tuna-lsp` on PATH
--- (on Windows `Scripts\tuna-lsp.exe` in each venv: platform.lua)
local config = require('tunacode.config')
local notify = require('tunacode.notify')
local platform = require('tunacode.platform')

local M = {}

M.NAME = 'tunacode'

--- `<clone>/editors/nvim`, the folder holding lua/, lsp/ and plugin/.
function M.plugin_root()
  local src = debug.getinfo(1, 'S').source:gsub('^@', '')
  src = vim.fn.fnamemodify(src, ':p') -- absolute: :TunaInstall's pip runs from M.work_dir(), not from here
  return vim.fs.dirname(vim.fs.dirname(vim.fs.dirname(src)))
end

--- The clone of the tunacode-lsp repository this plugin lives in (`<clone>/editors/nvim`, the clone holding the
--- server's pyproject.toml, project `tuna-lsp`), or nil: a published copy of editors/nvim (`git subtree split`,
--- what lazy.nvim or vim.pack install from the plugin's own repository) has no server source beside it.
---@return string?
function M.clone_root()
  local plugin = M.plugin_root()
  if vim.fs.basename(plugin) ~= 'nvim' or vim.fs.basename(vim.fs.dirname(plugin)) ~= 'editors' then
    return nil
  end
  local clone = vim.fs.dirname(vim.fs.dirname(plugin))
  local f = io.open(vim.fs.joinpath(clone, 'pyproject.toml'), 'r')
  if not f then
    return nil
  end
  local text = f:read(65536) or ''
  f:close()
  if not text:find('\nname%s*=%s*"tuna%-lsp"') then
    return nil
  end
  return clone
end

--- Where :TunaInstall puts the server.
function M.venv_dir()
  return vim.fs.joinpath(vim.fn.stdpath('data'), 'tunacode', 'venv')
end

--- The working directory of every process the plugin starts that runs Python (the server, :TunaInstall's
--- python and pip): `stdpath('data')/tunacode`, created if missing, never Neovim's current directory, so a
--- repository's `json.py`, `venv.py`, `pip/` or `tuna_lsp/` is never on their import path (PROTOCOL.md
--- section 1). Falls back to stdpath('cache')/tunacode, then `/` (Windows: the temporary folder), when it cannot be
--- created.
function M.work_dir()
  local dirs = {
    vim.fs.joinpath(vim.fn.stdpath('data'), 'tunacode'),
    vim.fs.joinpath(vim.fn.stdpath('cache'), 'tunacode'),
  }
  for _, dir in ipairs(dirs) do
    pcall(vim.fn.mkdir, dir, 'p', tonumber('700', 8))
    local st = vim.uv.fs_stat(dir)
    if st and st.type == 'directory' then
      return dir
    end
  end
  return platform.last_resort_dir()
end

--- Steps 2 to 4 of the search order, each with the place it names in messages.
--- (A published copy of the plugin, in no clone, has no step 3.)
---@return {path: string, where: string}[]
function M.candidates()
  local found = { { path = platform.venv_exe(M.venv_dir(), 'tuna-lsp'), where = 'the venv of :TunaInstall' } }
  local clone = M.clone_root()
  if clone then
    found[#found + 1] = {
      path = platform.venv_exe(vim.fs.joinpath(clone, '.venv'), 'tuna-lsp'),
      where = "the plugin clone's .venv",
    }
  end
  found[#found + 1] = { path = 'tuna-lsp', where = 'PATH' }
  return found
end

--- The first server of steps 2 to 4 that is executable, or nil.
---@return string[]?
function M.discover()
  for _, c in ipairs(M.candidates()) do
    if vim.fn.executable(c.path) == 1 then
      return { c.path }
    end
  end
end

--- The `cmd` of `lsp/tunacode.lua`: finds the server when the client starts (not when the config is read), so a
--- server installed by :TunaInstall a moment ago is found.
function M.spawn(dispatchers, cfg)
  local cmd = M.discover() or { 'tuna-lsp' }
  local cwd = cfg.cmd_cwd or M.work_dir()
  return vim.lsp.rpc.start(cmd, dispatchers, { cwd = cwd, env = cfg.cmd_env, detached = cfg.detached })
end

--- The argv a config starts (nil for a user's own cmd function), and whether it was found by discovery.
---@return string[]?, boolean
function M.argv(cfg)
  if cfg.cmd == M.spawn then
    return M.discover() or { 'tuna-lsp' }, true
  elseif type(cfg.cmd) == 'table' then
    return cfg.cmd, false
  end
  return nil, false
end

--- Where discovery looked, for an error message.
function M.looked_in()
  return table.concat(
    vim.tbl_map(function(c)
      return c.path == 'tuna-lsp' and 'tuna-lsp on PATH' or c.path
    end, M.candidates()),
    ', '
  )
end

--- What setup() layers over `lsp/tunacode.lua` (and over the user's own vim.lsp.config('tunacode', ...)).
function M.overrides()
  local o = config.options
  local cfg = {}
  local cmd = o.cmd
  if type(cmd) == 'function' then
    cfg.cmd = cmd -- vim.lsp's own form: fun(dispatchers, config): RpcClient
  elseif cmd ~= nil then
    cmd = config.as_list(cmd)
    cmd[1] = vim.fs.normalize(cmd[1])
    if cmd[1]:find('/', 1, true) then
      cmd[1] = vim.fn.fnamemodify(cmd[1], ':p') -- the server runs from M.work_dir(), not from here
    end
    cfg.cmd = cmd
  end
  local init = {}
  if o.config_path then
    init.configPath = vim.fn.fnamemodify(vim.fs.normalize(o.config_path), ':p')
  end
  if o.stale_overwrite then
    init.staleOverwrite = o.stale_overwrite
  end
  if next(init) then
    cfg.init_options = init
  end
  if o.cmd_env then
    cfg.cmd_env = o.cmd_env
  end
  return cfg
end

local function base_config()
  return dofile(vim.fs.joinpath(M.plugin_root(), 'lsp', 'tunacode.lua'))
end

--- Registers `lsp/tunacode.lua` (when it is not on 'runtimepath') and setup()'s options with vim.lsp.config.
function M.configure()
  local current = vim.lsp.config[M.NAME]
  if not (current and current.handlers and current.handlers['tuna/modelChanged']) then
    vim.lsp.config(M.NAME, base_config())
  end
  vim.lsp.config(M.NAME, M.overrides())
end

--- The resolved client config: `lsp/tunacode.lua` + vim.lsp.config overrides (or a built-in copy of it when
--- `lsp/` is not on 'runtimepath' and setup() was not called).
---@return vim.lsp.Config
function M.lsp_config()
  local cfg = vim.lsp.config[M.NAME] or {}
  if not (cfg.handlers and cfg.handlers['tuna/modelChanged']) then
    cfg = vim.tbl_deep_extend('force', base_config(), M.overrides(), cfg)
  end
  cfg = vim.deepcopy(cfg)
  cfg.name = M.NAME
  return cfg
end

---@return vim.lsp.Client?
function M.get_client()
  for _, c in ipairs(vim.lsp.get_clients({ name = M.NAME, _uninitialized = true })) do
    if not c:is_stopped() then
      return c
    end
  end
end

--- The workspace folder the server serves: the root (.git) of Neovim's working directory, else that directory.
function M.workspace_root()
  local cwd = assert(vim.uv.cwd())
  return vim.fs.root(cwd, { '.git' }) or cwd
end

--- Starts the client if none runs, attached to no buffer. Returns the client or nil and an error.
---@return vim.lsp.Client?, string?
function M.start()
  local client = M.get_client()
  if client then
    return client
  end
  local cfg = M.lsp_config()
  local argv, discovered = M.argv(cfg)
  if argv and vim.fn.executable(argv[1]) ~= 1 then
    if discovered then
      return nil,
        ('no tuna-lsp found (looked in %s): run :TunaInstall, or set cmd in require("tunacode").setup()'):format(
          M.looked_in()
        )
    end
    return nil,
      (
        'server command %q is not executable: install the server (:TunaInstall, or pip install tuna-lsp) '
        .. 'or set cmd in require("tunacode").setup()'
      ):format(argv[1])
  end
  if discovered then
    cfg.cmd = argv -- the client's config then shows which server runs
  end
  if type(cfg.root_dir) ~= 'string' then
    cfg.root_dir = M.workspace_root() -- the workspace folder the server serves (its workspace scope)
  end
  -- never the workspace: the server (and the index builder it starts) must not import a repository's files
  -- (lsp/tunacode.lua names M.work_dir(); it is made again here should it have been removed since)
  local own = M.work_dir()
  if cfg.cmd_cwd == nil or cfg.cmd_cwd == vim.fs.joinpath(vim.fn.stdpath('data'), 'tunacode') then
    cfg.cmd_cwd = own
  end
  local id = vim.lsp.start(cfg, { attach = false, silent = true })
  client = id and vim.lsp.get_client_by_id(id)
  if not client then
    return nil, 'the server did not start (see :LspLog)'
  end
  return client
end

--- Calls cb(client) once the client is initialized, starting it if needed; reports failure itself.
---@param cb fun(client: vim.lsp.Client)
function M.with_client(cb)
  local client, err = M.start()
  if not client then
    notify.notify(err, vim.log.levels.ERROR)
    return
  end
  if client.initialized then
    return cb(client)
  end
  local timeout = config.options.timeout_ms
  local deadline = vim.uv.now() + timeout
  local timer = assert(vim.uv.new_timer())
  timer:start(
    10,
    10,
    vim.schedule_wrap(function()
      if timer:is_closing() then
        return
      end
      if client.initialized then
        timer:close()
        cb(client)
      elseif client:is_stopped() then
        timer:close()
        notify.notify('the server exited during start-up (see :LspLog)', vim.log.levels.ERROR)
      elseif vim.uv.now() > deadline then
        timer:close()
        notify.notify(
          ('the server did not initialize within %d ms (see :LspLog)'):format(timeout),
          vim.log.levels.ERROR
        )
      end
    end)
  )
end

--- Blocks until the client is initialized (health check, completion). Returns the client or nil and an error.
---@return vim.lsp.Client?, string?
function M.wait_client(timeout_ms)
  local client, err = M.start()
  if not client then
    return nil, err
  end
  local ok = vim.wait(timeout_ms or config.options.timeout_ms, function()
    return client.initialized or client:is_stopped()
  end, 10)
  if not ok or not client.initialized then
    return nil,
      client:is_stopped() and 'the server exited during start-up (see :LspLog)'
        or 'the server did not initialize in time'
  end
  return client
end

--- Sends a request once the client runs; cb(err, result). `params` nil is sent as `{}`, never `[]`.
function M.request(method, params, cb)
  M.with_client(function(client)
    client:request(method, params or vim.empty_dict(), function(err, result)
      cb(err, result)
    end)
  end)
end

return M
