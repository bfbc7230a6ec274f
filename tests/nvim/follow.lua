-- :TunaTerm with the real tunacode TUI, following the model (PROTOCOL.md section 9, issue 12):
--   always: a global set here types `/model <model>` into it, and the TUI switches (its resource bar);
--   never: nothing is typed; ask: one vim.ui.select (Switch / Always / Never) for a global set made in another
--   window (a second tuna-lsp, as another editor); a session choice is never typed; the CLI's own /model is
--   not typed back. TUNA_TUNACODE: the tunacode executable.
local H = dofile(vim.fs.joinpath(vim.fs.dirname(arg[0]), 'harness.lua'))
local tunacode_bin = assert(os.getenv('TUNA_TUNACODE'), 'TUNA_TUNACODE not set')

local other -- the other window's client

local function set_from_other_window(model)
  if not other then
    local id = vim.lsp.start({
      name = 'tunacode-other-window',
      cmd = H.server_cmd,
      root_dir = vim.fs.joinpath(H.home, 'other-project'),
      init_options = vim.empty_dict(),
    }, { attach = false, silent = true })
    other = assert(vim.lsp.get_client_by_id(assert(id)))
    H.wait('the other window\'s server', function()
      return other.initialized
    end)
  end
  local resp = other:request_sync('tuna/setModel', { model = model, scope = 'global' }, H.TIMEOUT)
  H.check(resp and resp.result, 'set from the other window: %s', vim.inspect(resp))
end

H.run(function()
  local tunacode = H.setup({ cli_cmd = { tunacode_bin }, cli = { follow = 'always' } })
  H.wait_ready()
  H.wait_status('openai:gpt-4o')
  local terminal = require('tunacode.terminal')
  local selects = {}
  local answer = nil
  vim.ui.select = function(items, opts, on_choice)
    selects[#selects + 1] = { items = items, opts = opts }
    on_choice(answer)
  end

  local t = H.start_tunacode('OA/gpt-4o -')
  H.eq('--model openai:gpt-4o', table.concat(t.cmd, ' ', 2), 'the command :TunaTerm ran')

  -- always: a global set here is typed into the terminal; tunacode switches and saves the file itself
  vim.cmd('TunaModel openai:gpt-4.1')
  H.wait_status('openai:gpt-4.1')
  H.check(tunacode.state().viaEditor == true, 'viaEditor after a set here: %s', vim.inspect(tunacode.state().viaEditor))
  H.wait_screen(t.buf, 'OA/gpt-4.1', 'the TUI to switch to openai:gpt-4.1', 30000)
  H.wait_screen(t.buf, 'Model: openai:gpt-4.1', "tunacode's own confirmation", 30000)
  H.eq(1, #terminal.typed, 'lines typed')
  H.eq(0, #selects, 'questions asked with follow = always')

  -- never: nothing typed
  tunacode.options.cli.follow = 'never'
  vim.cmd('TunaModel openai:gpt-4o-mini')
  H.wait_status('openai:gpt-4o-mini')
  H.eq(1, #terminal.typed, 'lines typed with follow = never')

  -- ask, for a global set made in another window: one question; Switch types it
  tunacode.options.cli.follow = 'ask'
  answer = 'Switch'
  set_from_other_window('openai:gpt-4o')
  H.wait_status('openai:gpt-4o')
  H.wait('the follow question', function()
    return #selects == 1
  end)
  H.eq({ 'Switch', 'Always', 'Never' }, selects[1].items, 'follow choices')
  H.check(selects[1].opts.prompt:find('openai:gpt-4o', 1, true), 'prompt: %s', selects[1].opts.prompt)
  H.wait_screen(t.buf, 'OA/gpt-4o -', 'the TUI to switch to openai:gpt-4o', 30000)
  H.eq(2, #terminal.typed, 'lines typed after Switch')

  -- Always: typed now, remembered for every later Neovim, and no question next time
  tunacode.options.cli.follow = nil
  answer = 'Always'
  set_from_other_window('openai:gpt-4.1-mini')
  H.wait_screen(t.buf, 'OA/gpt-4.1-mini', 'the TUI to switch to openai:gpt-4.1-mini', 30000)
  H.eq(2, #selects, 'questions after Always')
  H.eq('always', terminal.remembered_follow(), 'the remembered answer')
  tunacode.options.cli.follow = nil -- as in a later Neovim whose setup() does not set it
  H.eq('always', terminal.follow_setting(), 'follow in a later Neovim')
  set_from_other_window('openai:gpt-4o')
  H.wait_screen(t.buf, 'OA/gpt-4o -', 'the TUI to switch back to openai:gpt-4o', 30000)
  H.eq(2, #selects, 'questions once Always is remembered')
  H.eq(4, #terminal.typed, 'lines typed after Always')

  -- a session choice is never typed, nor asked about
  vim.cmd('TunaModel openai:gpt-4.1 session')
  H.wait_status('openai:gpt-4.1 [session]')
  vim.cmd('TunaModel clear session')
  H.wait_status('openai:gpt-4o')
  H.eq(4, #terminal.typed, 'lines typed after a session choice')
  H.eq(2, #selects, 'questions after a session choice')

  -- the CLI's own /model: the file changes (viaEditor false), nothing is typed back, nothing asked
  H.type_line(t.job, t.buf, '/model openai:gpt-4.1')
  H.wait_screen(t.buf, 'OA/gpt-4.1', 'the TUI to switch itself to openai:gpt-4.1', 30000)
  H.wait_status('openai:gpt-4.1')
  H.eq(false, tunacode.state().viaEditor, 'viaEditor after the CLI\'s own change')
  H.eq(4, #terminal.typed, 'lines typed after the CLI\'s own change')
  H.eq(2, #selects, 'questions after the CLI\'s own change')

  other:stop()
  H.wait('the other window\'s server to stop', function()
    return other:is_stopped()
  end)
  vim.fn.jobstop(t.job)
end)
