--- :TunaTerm: terminals running `tunacode --model <effective model>`, and following: when the global model
--- changes through tuna-lsp (`viaEditor`, from this window or another editor), `/model <model>` is typed into
--- the terminals started here (setup{ cli = { follow = 'ask'|'always'|'never' } }; PROTOCOL.md section 9).
--- Never typed: a change the CLI made itself, and session or workspace choices (tunacode's /model saves globally).
local config = require('tunacode.config')
local notify = require('tunacode.notify')
local server = require('tunacode.server')
local state = require('tunacode.state')

local M = {}

---@class tunacode.Term
---@field buf integer
---@field job integer
---@field cmd string[]
---@field model string the model it was started with or last switched to

---@type tunacode.Term[] the terminals started here, oldest first (exited ones are dropped)
M.terms = {}
--- Every `/model` line typed into a terminal, in order: {job, model}. What the user (and a test) can audit.
M.typed = {}
--- The global model (persistedModel) last seen, so each global change is followed once.
local last_global = nil
local augroup = nil

--- Screen text of a terminal buffer.
local function screen(buf)
  if not vim.api.nvim_buf_is_valid(buf) then
    return ''
  end
  return table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), '\n')
end

--- Polls `pred` every 50 ms until true or `timeout_ms` passed, then calls done(ok). Never blocks the editor.
local function poll(pred, timeout_ms, done)
  local deadline = vim.uv.now() + timeout_ms
  local timer = assert(vim.uv.new_timer())
  timer:start(
    0,
    50,
    vim.schedule_wrap(function()
      if timer:is_closing() then
        return
      end
      local ok = pred()
      if ok or vim.uv.now() > deadline then
        timer:close()
        done(ok)
      end
    end)
  )
end

--- Whether a model string may be typed into a terminal or put on tunacode's command line: PROTOCOL.md section 2's
--- alphabet, `provider:model_id` with provider `[a-z0-9][a-z0-9._-]{0,63}` and model_id 1 to 256 characters of
--- `A-Z a-z 0-9 . _ / : @ ~ + ( ) -` (the rule the VS Code extension's follow.ts applies). Nothing a shell or
--- tunacode's prompt reads (whitespace, `\r`, `!`, `$`, quotes, `;`, ...) gets through. Returns ok, and why not.
---@return boolean, string?
function M.typable(model)
  if type(model) ~= 'string' then
    return false, 'not a string'
  end
  local colon = model:find(':', 1, true)
  if not colon then
    return false, 'not of the form provider:model_id'
  end
  local provider, id = model:sub(1, colon - 1), model:sub(colon + 1)
  if #provider < 1 or #provider > 64 or not provider:find('^[a-z0-9][a-z0-9%._%-]*$') then
    return false, 'the provider must be 1 to 64 of a-z 0-9 . _ - (starting with a letter or digit)'
  end
  if #id < 1 or #id > 256 or not id:find('^[A-Za-z0-9%._/:@~%+%(%)%-]+$') then
    return false, 'the model id must be 1 to 256 of A-Z a-z 0-9 . _ / : @ ~ + ( ) -'
  end
  return true
end

--- Says (WARN) that a model string was refused, what for and why.
local function refuse(model, doing, why)
  notify.notify(
    ('refused to %s: %s is not a model string that may be typed or run (%s; PROTOCOL.md section 2)'):format(
      doing,
      vim.inspect(model),
      why
    ),
    vim.log.levels.WARN
  )
end

--- Types `/model <model>` and Enter into one terminal. tunacode now and then keeps the text but drops the
--- Enter (right after it starts): wait until its prompt shows the text, press Enter, and press it again while
--- the text is still there (at most 3 times).
function M.type_model(term, model)
  local ok, why = M.typable(model)
  if not ok then
    refuse(model, ('type /model into tunacode terminal %d'):format(term.job), why)
    return false
  end
  local text = '/model ' .. model
  M.typed[#M.typed + 1] = { job = term.job, model = model }
  term.model = model
  vim.fn.chansend(term.job, text)
  local function shown()
    return screen(term.buf):find(text, 1, true) ~= nil
  end
  poll(shown, 10000, function(seen)
    if not seen then
      return notify.notify(('tunacode terminal %d did not show %q: type it yourself'):format(term.job, text))
    end
    local tries = 0
    local function enter()
      tries = tries + 1
      vim.fn.chansend(term.job, '\r')
      poll(function()
        return not shown()
      end, 1500, function(gone)
        if not gone and tries < 3 then
          enter()
        end
      end)
    end
    enter()
  end)
  return true
end

local function live_terms()
  M.terms = vim.tbl_filter(function(t)
    return vim.api.nvim_buf_is_valid(t.buf) and vim.fn.jobwait({ t.job }, 0)[1] == -1
  end, M.terms)
  return M.terms
end

local function switch_all(model)
  for _, t in ipairs(live_terms()) do
    if t.model ~= model then
      M.type_model(t, model)
    end
  end
end

--- Where an Always / Never answer is remembered across restarts (setup's cli.follow, when given, wins).
local function remembered_path()
  return vim.fs.joinpath(vim.fn.stdpath('state'), 'tunacode', 'cli-follow')
end

--- The remembered answer: 'always', 'never' or nil.
function M.remembered_follow()
  local f = io.open(remembered_path(), 'r')
  if not f then
    return nil
  end
  local value = f:read('*l')
  f:close()
  return (value == 'always' or value == 'never') and value or nil
end

local function remember_follow(value)
  local path = remembered_path()
  vim.fn.mkdir(vim.fs.dirname(path), 'p')
  local f = io.open(path, 'w')
  if f then
    f:write(value, '\n')
    f:close()
  end
end

--- cli.follow from setup(), else the answer remembered from an earlier Always / Never, else 'ask'.
function M.follow_setting()
  local cli = config.options.cli or {}
  return cli.follow or M.remembered_follow() or 'ask'
end

--- Decides, for a new state, whether the terminals follow; asks when the setting is 'ask'.
function M.on_state(s)
  if type(s) ~= 'table' then
    return
  end
  local changed = s.persistedModel ~= last_global
  last_global = s.persistedModel
  -- only a global change made through tuna-lsp, while the global model is the one in effect here
  if not changed or s.viaEditor ~= true or s.scope ~= 'global' or type(s.model) ~= 'string' then
    return
  end
  local typable, why = M.typable(s.model)
  if not typable then
    if #live_terms() > 0 then
      refuse(s.model, 'type /model into the tunacode terminals', why)
    end
    return
  end
  local pending = vim.tbl_filter(function(t)
    return t.model ~= s.model
  end, live_terms())
  if #pending == 0 then
    return
  end
  local follow = M.follow_setting()
  if follow == 'never' then
    return
  elseif follow == 'always' then
    return switch_all(s.model)
  end
  local model = s.model
  local choices = { 'Switch', 'Always', 'Never' }
  vim.ui.select(choices, {
    prompt = ('tunacode: the model is now %s; switch the tunacode terminal%s started here?'):format(
      model,
      #pending == 1 and '' or 's'
    ),
    kind = 'tunacode.follow',
  }, function(choice)
    if choice == 'Always' or choice == 'Never' then
      -- the user's answer from now on: here, and in every later Neovim (remembered in stdpath('state'))
      config.options.cli = vim.tbl_extend('force', config.options.cli or {}, { follow = choice:lower() })
      remember_follow(choice:lower())
    end
    if (choice == 'Switch' or choice == 'Always') and (state.current or {}).persistedModel == model then
      switch_all(model)
    end
  end)
end

local function watch()
  if augroup then
    return
  end
  augroup = vim.api.nvim_create_augroup('tunacode.terminal', { clear = true })
  vim.api.nvim_create_autocmd('User', {
    group = augroup,
    pattern = 'TunaModelChanged',
    callback = function(ev)
      M.on_state(ev.data)
    end,
  })
end

local function open_window()
  local pos = config.options.term_position
  if pos == 'vsplit' then
    vim.cmd('vertical new')
  elseif pos == 'tab' then
    vim.cmd('tabnew')
  elseif pos == 'current' then
    vim.cmd('enew')
  else
    vim.cmd('botright new')
  end
end

--- Opens a terminal running `tunacode --model <effective model>`, so a session or workspace choice reaches the
--- CLI session started from here. Extra args are appended. cb(err, {buf, job, cmd}).
---@param args? string[]
function M.open(args, cb)
  cb = cb or function() end
  local cli = config.as_list(config.options.cli_cmd) or { 'tunacode' }
  if vim.fn.executable(cli[1]) ~= 1 then
    notify.notify(
      (
        '%q is not executable: install the tunacode CLI (pip install tunacode-cli) or set cli_cmd in '
        .. 'require("tunacode").setup()'
      ):format(cli[1]),
      vim.log.levels.ERROR
    )
    return cb('not executable')
  end
  server.request('tuna/getModel', nil, function(err, s)
    if err then
      notify.error(err)
      return cb(err)
    end
    local typable, why = M.typable(s.model)
    if not typable then
      refuse(s.model, 'start tunacode with --model', why)
      return cb('bad model')
    end
    watch()
    last_global = s.persistedModel
    state.set(s)
    local cmd = vim.list_extend(vim.list_extend(cli, { '--model', s.model }), args or {})
    open_window()
    local buf = vim.api.nvim_get_current_buf()
    local ok, job = pcall(vim.fn.jobstart, cmd, { term = true })
    if not ok or job <= 0 then
      notify.notify('could not start ' .. table.concat(cmd, ' ') .. ': ' .. tostring(job), vim.log.levels.ERROR)
      return cb('jobstart failed')
    end
    M.terms[#M.terms + 1] = { buf = buf, job = job, cmd = cmd, model = s.model }
    vim.cmd.startinsert()
    cb(nil, { buf = buf, job = job, cmd = cmd })
  end)
end

return M
