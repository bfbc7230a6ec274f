--- tunacode.nvim: pick the model the tunacode CLI uses, from Neovim, through the `tuna-lsp` language server.
---
--- Owns the Neovim side only: starting one `tunacode` LSP client per Neovim, the `:TunaModel` and `:TunaTerm`
--- commands, and the statusline text. The shared config file is the server's business: this module never reads
--- or writes it (the health check only reads it, to say whether it is valid).
local M = {}

local NAME = 'tunacode'
local EMPTY = vim.empty_dict
local SCOPES = { global = 'global', default = 'global', session = 'session' }
local METHOD_NOT_FOUND = -32601

---@class tunacode.StatusOpts
---@field session? string appended when the model is set for this session only
---@field missing_key? string appended when the provider's API key is missing
---@field short? boolean show the model id without its provider
---@field format? fun(state: table): string replaces the whole formatting

---@class tunacode.Opts
---@field cmd? string|string[]|function server command; default `tuna-lsp` on PATH, else common install places
---@field cmd_env? table<string, string> extra environment for the server
---@field config_path? string the shared config (initializationOptions.configPath); default: the server's choice
---@field cli_cmd? string|string[] the tunacode CLI for :TunaTerm; `--model <model>` is appended
---@field autostart? boolean start the server at setup, with no file open (default true)
---@field attach? boolean attach the client to every buffer, via vim.lsp.enable (default true)
---@field picker_limit? integer catalog entries per request to the server (1..1000)
---@field picker_max? integer most entries the picker shows (pages on where the server supports `offset`)
---@field timeout_ms? integer how long commands wait for the server to start
---@field complete_timeout_ms? integer how long command-line completion waits for the server
---@field term_position? 'split'|'vsplit'|'tab'|'current' where :TunaTerm opens its terminal
---@field status? tunacode.StatusOpts
local defaults = {
  cmd = nil,
  cmd_env = nil,
  config_path = nil,
  cli_cmd = { 'tunacode' },
  autostart = true,
  attach = true,
  picker_limit = 1000,
  picker_max = 10000,
  timeout_ms = 10000,
  complete_timeout_ms = 2000,
  term_position = 'split',
  status = { session = ' [session]', missing_key = ' [no key]', short = false },
}

---@type tunacode.Opts
M.options = vim.deepcopy(defaults)

--- The last ModelState the server sent (tuna/modelChanged) or returned, or nil.
M._state = nil
--- Model strings for fuzzy completion (the catalog's first answer, and one answer per typed prefix), per client.
local catalog_cache = { client_id = nil, models = nil, by_prefix = nil }
--- Warnings already shown after a change made here.
local shown_warnings = {}

local function notify(msg, level)
  vim.notify('tunacode: ' .. msg, level or vim.log.levels.INFO, { title = 'tunacode' })
end

local function as_list(v)
  if v == nil then
    return nil
  end
  return type(v) == 'table' and vim.deepcopy(v) or { v }
end

--- The plugin lives in `<repo>/editors/nvim`; a checkout's own venv is a useful last resort.
local function checkout_venv_server()
  local src = debug.getinfo(1, 'S').source:gsub('^@', '')
  local root = vim.fs.dirname(vim.fs.dirname(vim.fs.dirname(vim.fs.dirname(vim.fs.dirname(src)))))
  return root and vim.fs.joinpath(root, '.venv', 'bin', 'tuna-lsp') or nil
end

--- Finds the server beyond PATH too: editors started from a desktop often get a minimal PATH.
---@return string[]|function
function M.server_cmd()
  if type(M.options.cmd) == 'function' then
    return M.options.cmd -- vim.lsp's own form: fun(dispatchers): RpcClient
  end
  local cmd = as_list(M.options.cmd)
  if cmd then
    cmd[1] = vim.fs.normalize(cmd[1])
    return cmd
  end
  local candidates = {
    'tuna-lsp',
    vim.fs.normalize('~/.local/bin/tuna-lsp'), -- pipx, uv tool, pip --user
    checkout_venv_server(),
  }
  for _, c in ipairs(candidates) do
    if c and vim.fn.executable(c) == 1 then
      return { c }
    end
  end
  return { 'tuna-lsp' }
end

--- What setup() layers over `lsp/tunacode.lua` (and over the user's own vim.lsp.config('tunacode', ...)).
local function lsp_overrides()
  local o = M.options
  local cfg = { cmd = M.server_cmd() }
  if o.config_path then
    cfg.init_options = { configPath = vim.fs.normalize(o.config_path) }
  end
  if o.cmd_env then
    cfg.cmd_env = o.cmd_env
  end
  return cfg
end

---@return vim.lsp.Client?
function M.get_client()
  for _, c in ipairs(vim.lsp.get_clients({ name = NAME, _uninitialized = true })) do
    if not c:is_stopped() then
      return c
    end
  end
end

--- The resolved client config: `lsp/tunacode.lua` + vim.lsp.config overrides, or a built-in copy of it when
--- `lsp/` is not on 'runtimepath'.
---@return vim.lsp.Config
function M.lsp_config()
  local cfg = vim.lsp.config[NAME] or {}
  if not (cfg.handlers and cfg.handlers['tuna/modelChanged']) then
    local ok, base = pcall(dofile, vim.fs.joinpath(M.plugin_root(), 'lsp', 'tunacode.lua'))
    cfg = vim.tbl_deep_extend('force', ok and base or {}, lsp_overrides(), cfg)
  end
  cfg = vim.deepcopy(cfg)
  cfg.name = NAME
  if type(cfg.cmd) == 'table' and cfg.cmd[1] == 'tuna-lsp' and vim.fn.executable('tuna-lsp') ~= 1 then
    cfg.cmd = vim.list_extend(M.server_cmd(), vim.list_slice(cfg.cmd, 2))
  end
  return cfg
end

function M.plugin_root()
  local src = debug.getinfo(1, 'S').source:gsub('^@', '')
  return vim.fs.dirname(vim.fs.dirname(vim.fs.dirname(src)))
end

--- Starts the client if none runs, attached to no buffer. Returns the client or nil and an error.
---@return vim.lsp.Client?, string?
function M.start()
  local client = M.get_client()
  if client then
    return client
  end
  local cfg = M.lsp_config()
  local exe = type(cfg.cmd) == 'table' and cfg.cmd[1] or nil
  if exe and vim.fn.executable(exe) ~= 1 then
    return nil,
      (
        'server command %q is not executable: install the server (pip install tuna-lsp) '
        .. 'or set cmd in require("tunacode").setup()'
      ):format(exe)
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
    notify(err, vim.log.levels.ERROR)
    return
  end
  if client.initialized then
    return cb(client)
  end
  local deadline = vim.uv.now() + M.options.timeout_ms
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
        notify('the server exited during start-up (see :LspLog)', vim.log.levels.ERROR)
      elseif vim.uv.now() > deadline then
        timer:close()
        notify(
          ('the server did not initialize within %d ms (see :LspLog)'):format(M.options.timeout_ms),
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
  local ok = vim.wait(timeout_ms or M.options.timeout_ms, function()
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
    client:request(method, params or EMPTY(), function(err, result)
      cb(err, result)
    end)
  end)
end

local function set_state(state)
  if type(state) ~= 'table' or not state.model then
    return
  end
  local s = vim.deepcopy(state)
  s.message = nil
  M._state = s
  pcall(vim.cmd.redrawstatus, { bang = true })
  pcall(vim.api.nvim_exec_autocmds, 'User', { pattern = 'TunaModelChanged', modeline = false, data = s })
end

--- `tuna/modelChanged` handler (wired in lsp/tunacode.lua).
function M._on_model_changed(err, result, _)
  if not err then
    set_state(result)
  end
end

function M._on_exit(client_id)
  vim.schedule(function()
    if catalog_cache.client_id == client_id then
      catalog_cache.client_id, catalog_cache.models, catalog_cache.by_prefix = nil, nil, nil
    end
    if not M.get_client() then
      M._state = nil
      pcall(vim.cmd.redrawstatus, { bang = true })
    end
  end)
end

--- The last known ModelState (a copy), or nil before the server has answered.
function M.state()
  return M._state and vim.deepcopy(M._state) or nil
end

--- A short string for a statusline: the effective model, marked when it holds for this session only and when
--- its provider's API key is missing; '' while no server runs.
---@param opts? tunacode.StatusOpts
function M.status(opts)
  local s = M._state
  if not s or not s.model then
    return ''
  end
  local o = vim.tbl_extend('force', M.options.status, opts or {})
  if o.format then
    return o.format(vim.deepcopy(s))
  end
  local text = (o.short and s.modelId) or s.model
  if s.scope == 'session' then
    text = text .. (o.session or '')
  end
  if s.apiKey == 'missing' then
    text = text .. (o.missing_key or '')
  end
  return text
end

local function report_error(err)
  local msg = type(err) == 'table' and err.message or tostring(err)
  notify(msg, vim.log.levels.ERROR)
end

--- Sets the model. scope: 'global' (default; 'default' is the same), or 'session'.
---@param model string
---@param scope? string
---@param cb? fun(err: table?, state: table?)
function M.set_model(model, scope, cb)
  cb = cb or function() end
  local wire_scope = SCOPES[scope or 'global']
  if not wire_scope then
    notify(('unknown scope %q: use default, global or session'):format(scope), vim.log.levels.ERROR)
    return cb({ message = 'unknown scope' })
  end
  M.request('tuna/setModel', { model = model, scope = wire_scope }, function(err, result)
    if err then
      report_error(err)
      return cb(err)
    end
    set_state(result)
    notify(result.message or ('model set to ' .. tostring(result.model)))
    -- the same warning (a key missing, a readable config) on every change would be noise: once each
    for _, w in ipairs(result.warnings or {}) do
      if not shown_warnings[w] then
        shown_warnings[w] = true
        notify(w, vim.log.levels.WARN)
      end
    end
    cb(nil, result)
  end)
end

local function context_label(n)
  if type(n) ~= 'number' then
    return nil
  end
  if n >= 1000000 then
    return ('%gM'):format(math.floor(n / 100000) / 10)
  end
  return ('%dk'):format(math.floor(n / 1000))
end

--- One picker row: model, its name, context window and what is special about it.
function M.format_item(item)
  local parts = { item.model }
  if type(item.name) == 'string' and item.name ~= '' then
    parts[#parts + 1] = item.name
  end
  local ctx = context_label(item.contextWindow)
  if ctx then
    parts[#parts + 1] = ctx .. ' ctx'
  end
  local marks = {}
  if item.current then
    marks[#marks + 1] = 'current'
  elseif item.recent then
    marks[#marks + 1] = 'recent'
  end
  if item.apiKey == 'missing' then
    marks[#marks + 1] = 'no key'
  end
  if #marks > 0 then
    parts[#parts + 1] = '(' .. table.concat(marks, ', ') .. ')'
  end
  return table.concat(parts, '  ')
end

--- Items from what the state knows, when the server has no catalog (tuna/listModels).
local function items_from_state()
  local s = M._state or {}
  local items, seen = {}, {}
  local function add(model, extra)
    if type(model) == 'string' and not seen[model] then
      seen[model] = true
      items[#items + 1] = vim.tbl_extend('force', { model = model }, extra or {})
    end
  end
  add(s.model, { current = true, apiKey = s.apiKey, name = s.name, contextWindow = s.contextWindow })
  for _, m in ipairs(s.recentModels or {}) do
    add(m, { recent = true })
  end
  return items
end

--- Fetches catalog items for the picker. The server caps one answer at 1000 items (the catalog holds several
--- thousand): pages on with `offset` where the server supports it, and reports whether the list is complete.
---@param query? string
---@param cb fun(err: table?, items: table[]?, total: integer?)
local function fetch_items(query, cb)
  local limit = math.max(1, math.min(M.options.picker_limit, 1000))
  local items, seen = {}, {}
  local function page(offset)
    local params = { limit = limit, query = query }
    if offset > 0 then
      params.offset = offset
    end
    M.request('tuna/listModels', params, function(err, result)
      if err then
        return cb(err)
      end
      local added = 0
      for _, item in ipairs(result.items or {}) do
        if type(item.model) == 'string' and not seen[item.model] then
          seen[item.model] = true
          items[#items + 1] = item
          added = added + 1
        end
      end
      local total = tonumber(result.total) or #items
      -- a server without `offset` answers the first page again: nothing new, stop there
      if added > 0 and #items < total and #items < M.options.picker_max then
        return page(#items)
      end
      cb(nil, items, total)
    end)
  end
  page(0)
end

local SEARCH = { search = true }

local function format_choice(item)
  if item.search then
    return item.label
  end
  return M.format_item(item)
end

local function select_model(items, scope, prompt)
  vim.ui.select(items, { prompt = prompt, kind = 'tunacode.model', format_item = format_choice }, function(item)
    if not item then
      return
    elseif item.search then
      return M.search(scope)
    end
    M.set_model(item.model, scope)
  end)
end

local function picker_prompt(scope)
  return SCOPES[scope] == 'session' and 'tunacode model (this session only)' or 'tunacode model'
end

--- Asks for a query (vim.ui.input), then picks among the catalog's matches.
---@param scope? string 'global' (default) or 'session'
---@param query? string skips the question
function M.search(scope, query)
  scope = scope or 'global'
  local function run(q)
    if not q or vim.trim(q) == '' then
      return
    end
    fetch_items(q, function(err, items, total)
      if err then
        return report_error(err)
      elseif #items == 0 then
        return notify(('no model matches %q'):format(q), vim.log.levels.WARN)
      end
      if total > #items then
        items[#items + 1] = vim.tbl_extend('force', SEARCH, {
          label = ('... %d more match %q: search again'):format(total - #items, q),
        })
      end
      select_model(items, scope, ('%s matching %q'):format(picker_prompt(scope), q))
    end)
  end
  if query then
    return run(query)
  end
  vim.ui.input({ prompt = 'Search models (provider, id or name): ' }, run)
end

--- Opens vim.ui.select over the catalog (current and recents first), then sets the chosen model. When the
--- catalog is larger than one answer of the server, the last entry searches the whole catalog instead.
---@param scope? string 'global' (default) or 'session'
function M.pick(scope)
  scope = scope or 'global'
  fetch_items(nil, function(err, items, total)
    if err and err.code ~= METHOD_NOT_FOUND then
      return report_error(err)
    elseif err then
      items, total = items_from_state(), 0
    end
    if #items == 0 then
      return notify('the server listed no models', vim.log.levels.WARN)
    end
    if total > #items then
      items[#items + 1] = vim.tbl_extend('force', SEARCH, {
        label = ('... search all %d models'):format(total),
      })
    end
    select_model(items, scope, picker_prompt(scope))
  end)
end

local function format_ts(ts)
  if type(ts) == 'number' then
    return os.date('%Y-%m-%d %H:%M:%S', ts > 1e11 and math.floor(ts / 1000) or math.floor(ts))
  end
  return (tostring(ts or '?'):gsub('T', ' '):gsub('%.%d+', ''))
end

--- Shows the newest model changes (tuna/history).
function M.history(limit)
  M.request('tuna/history', { limit = limit or 20 }, function(err, result)
    if err then
      return report_error(err)
    end
    local entries = result and result.entries or {}
    if #entries == 0 then
      return notify('no model changes recorded yet')
    end
    local lines = { 'model history, newest first:' }
    for _, e in ipairs(entries) do
      local prev = type(e.previous) == 'string' and e.previous or '-'
      local who = vim.tbl_filter(function(x)
        return type(x) == 'string' and x ~= ''
      end, { e.scope, e.origin, e.client })
      lines[#lines + 1] = ('%s  %s -> %s  (%s)'):format(
        format_ts(e.ts),
        prev,
        tostring(e.model),
        table.concat(who, ', ')
      )
    end
    notify(table.concat(lines, '\n'))
  end)
end

--- Model strings for a command-line argument: the server's matches first (tuna/listModels query),
--- then fuzzy matches over the whole catalog. Synchronous, as command-line completion must be.
---@param arglead string
---@return string[]
function M.complete_models(arglead)
  local client = M.wait_client(M.options.complete_timeout_ms)
  local fallback = vim.tbl_map(function(i)
    return i.model
  end, items_from_state())
  local function from_state()
    return arglead == '' and fallback or vim.fn.matchfuzzy(fallback, arglead)
  end
  if not client then
    return from_state()
  end
  local t = M.options.complete_timeout_ms
  local out, seen = {}, {}
  local function add(m)
    if type(m) == 'string' and not seen[m] then
      seen[m] = true
      out[#out + 1] = m
    end
  end
  ---@return table[]?, boolean? missing
  local function list(params)
    local resp = client:request_sync('tuna/listModels', params, t)
    if not resp or resp.err then
      return nil, resp and resp.err and resp.err.code == METHOD_NOT_FOUND
    end
    return resp.result and resp.result.items or {}
  end

  local items, missing = list({ limit = 100, query = arglead ~= '' and arglead or nil })
  if missing then
    return from_state()
  elseif not items then
    return {}
  end
  -- "provider:rest": that provider's models, which the relevance ranking above may have pushed back.
  local provider, rest = arglead:match('^([%w._-]+):(.*)$')
  if provider then
    local own = list({ limit = 100, provider = provider:lower(), query = rest ~= '' and rest or nil })
    vim.list_extend(items, own or {})
  end
  -- The server ranks by relevance over model, provider and name; the command line reads left to right, so
  -- what starts with the typed text comes first, otherwise the server's order stands.
  for _, item in ipairs(items) do
    if type(item.model) == 'string' and vim.startswith(item.model, arglead) then
      add(item.model)
    end
  end
  for _, item in ipairs(items) do
    add(item.model)
  end

  -- Fuzzy ("gpt41" for gpt-4.1): the server matches substrings only, so match fuzzily here over the models
  -- that share the first characters typed (and the start of the catalog), one request per such prefix.
  if arglead ~= '' and #out < 20 then
    if catalog_cache.client_id ~= client.id then
      catalog_cache.client_id, catalog_cache.models, catalog_cache.by_prefix = client.id, {}, {}
      for _, i in ipairs(list({ limit = 1000 }) or {}) do
        catalog_cache.models[#catalog_cache.models + 1] = i.model
      end
    end
    local head = arglead:sub(1, 3):lower()
    if not catalog_cache.by_prefix[head] then
      catalog_cache.by_prefix[head] = vim.tbl_map(function(i)
        return i.model
      end, list({ limit = 1000, query = head }) or {})
    end
    local pool = vim.list_extend(vim.list_slice(catalog_cache.by_prefix[head]), catalog_cache.models)
    for _, m in ipairs(vim.fn.matchfuzzy(pool, arglead, { limit = 50 })) do
      add(m)
    end
  end
  return out
end

--- :TunaModel completion: model names for the first argument, scopes for the second.
function M._complete(arglead, cmdline, cursorpos)
  local before = cmdline:sub(1, cursorpos)
  local args = vim.split(vim.trim((before:gsub('^%s*%S+', '', 1))), '%s+', { trimempty = true })
  local index = #args + ((before:match('%s$') and 1) or 0)
  if index <= 1 then
    local out = M.complete_models(arglead)
    if arglead ~= '' then
      for _, word in ipairs({ 'history', 'session' }) do
        if vim.startswith(word, arglead) then
          table.insert(out, 1, word)
        end
      end
    end
    return out
  elseif index == 2 then
    return vim.tbl_filter(function(s)
      return vim.startswith(s, arglead)
    end, { 'default', 'global', 'session' })
  end
  return {}
end

--- :TunaModel[!] [model] [default|global|session]
function M._model_command(opts)
  local a = opts.fargs
  if opts.bang or (#a == 1 and a[1] == 'history') then
    return M.history()
  elseif #a == 0 then
    return M.pick('global')
  elseif #a == 1 and SCOPES[a[1]] then
    return M.pick(a[1])
  elseif #a <= 2 then
    return M.set_model(a[1], a[2])
  end
  notify('usage: :TunaModel [provider:model] [default|global|session], :TunaModel! for history', vim.log.levels.ERROR)
end

--- Opens a terminal running `tunacode --model <effective model>`, so a session-only choice reaches the CLI
--- session started from here. Extra args are appended.
---@param args? string[]
function M.term(args, cb)
  cb = cb or function() end
  local cli = as_list(M.options.cli_cmd) or { 'tunacode' }
  if vim.fn.executable(cli[1]) ~= 1 then
    notify(
      (
        '%q is not executable: install the tunacode CLI (pip install tunacode-cli) or set cli_cmd in '
        .. 'require("tunacode").setup()'
      ):format(cli[1]),
      vim.log.levels.ERROR
    )
    return cb('not executable')
  end
  M.request('tuna/getModel', nil, function(err, state)
    if err then
      report_error(err)
      return cb(err)
    end
    set_state(state)
    local cmd = vim.list_extend(vim.list_extend(cli, { '--model', state.model }), args or {})
    local pos = M.options.term_position
    if pos == 'vsplit' then
      vim.cmd('vertical new')
    elseif pos == 'tab' then
      vim.cmd('tabnew')
    elseif pos == 'current' then
      vim.cmd('enew')
    else
      vim.cmd('botright new')
    end
    local buf = vim.api.nvim_get_current_buf()
    local ok, job = pcall(vim.fn.jobstart, cmd, { term = true })
    if not ok or job <= 0 then
      notify('could not start ' .. table.concat(cmd, ' ') .. ': ' .. tostring(job), vim.log.levels.ERROR)
      return cb('jobstart failed')
    end
    vim.cmd.startinsert()
    cb(nil, { buf = buf, job = job, cmd = cmd })
  end)
end

function M.create_commands()
  vim.api.nvim_create_user_command('TunaModel', function(o)
    M._model_command(o)
  end, {
    nargs = '*',
    bang = true,
    complete = function(...)
      return M._complete(...)
    end,
    desc = 'tunacode: pick or set the model ([model] [default|global|session]); ! shows the history',
  })
  vim.api.nvim_create_user_command('TunaTerm', function(o)
    M.term(o.fargs)
  end, { nargs = '*', desc = 'tunacode: terminal running tunacode --model <effective model>' })
end

--- Configures the client (over lsp/tunacode.lua), defines the commands and starts the server.
---@param opts? tunacode.Opts
function M.setup(opts)
  M.options = vim.tbl_deep_extend('force', vim.deepcopy(defaults), opts or {})
  if opts and opts.cli_cmd then
    M.options.cli_cmd = opts.cli_cmd -- a list replaces, never merges
  end
  if opts and opts.cmd then
    M.options.cmd = opts.cmd
  end
  local current = vim.lsp.config[NAME]
  if not (current and current.handlers and current.handlers['tuna/modelChanged']) then
    -- lsp/tunacode.lua is not on 'runtimepath' (the module was found some other way): register it
    vim.lsp.config(NAME, dofile(vim.fs.joinpath(M.plugin_root(), 'lsp', 'tunacode.lua')))
  end
  vim.lsp.config(NAME, lsp_overrides())
  M.create_commands()
  if M.options.attach then
    vim.lsp.enable(NAME)
  end
  if M.options.autostart then
    local _, err = M.start()
    if err then
      notify(err, vim.log.levels.ERROR)
    end
  end
end

return M
