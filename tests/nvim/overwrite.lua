-- A stale overwrite by the real tunacode TUI (PROTOCOL.md section 9, issue 12): tunacode started from
-- :TunaTerm, the editor sets a model that tunacode has not seen (not followed), then tunacode's /theme writes
-- back its stale copy. The server's question comes through vim.ui.select; status() and User TunaModelChanged
-- mark it pending; Restore puts back the model and the dropped key, keeping the new theme. Then
-- :TunaModel restore with nothing pending is a clear error. TUNA_TUNACODE: the tunacode executable.
local H = dofile(vim.fs.joinpath(vim.fs.dirname(arg[0]), 'harness.lua'))
local tunacode_bin = assert(os.getenv('TUNA_TUNACODE'), 'TUNA_TUNACODE not set')

H.run(function()
  local tunacode = H.setup({ cli_cmd = { tunacode_bin }, cli = { follow = 'never' } })
  H.wait_ready()
  H.wait_status('openai:gpt-4o')
  local asked = {}
  vim.ui.select = function(items, opts, on_choice)
    asked[#asked + 1] = { items = items, opts = opts }
    for _, item in ipairs(items) do
      if type(item) == 'table' and vim.startswith(item.title or '', 'Restore') then
        return on_choice(item)
      end
    end
    on_choice(nil)
  end
  local pending = {} -- status() and the state, each time an event carried a pending overwrite
  vim.api.nvim_create_autocmd('User', {
    pattern = 'TunaModelChanged',
    callback = function(ev)
      if type(ev.data.overwrite) == 'table' and ev.data.overwrite.resolution == 'pending' then
        pending[#pending + 1] = { status = tunacode.status(), state = ev.data }
      end
    end,
  })

  local t = H.start_tunacode('OA/gpt-4o -')
  vim.cmd('TunaModel openai:gpt-4o-mini')
  H.wait_status('openai:gpt-4o-mini')
  local theme_before = H.read_config().settings.theme

  -- tunacode's /theme saves the copy it loaded at start
  H.type_line(t.job, t.buf, '/theme')
  H.wait_screen(t.buf, '(Dark)', 'the theme picker')
  vim.fn.chansend(t.job, '\27[B')
  vim.fn.chansend(t.job, '\r')
  H.wait_screen(t.buf, 'Theme:', "tunacode's theme confirmation", 30000)

  H.wait('the overwrite question', function()
    return #asked > 0
  end, 30000)
  local q = asked[1]
  H.eq('tunacode.overwrite', q.opts.kind, 'kind')
  local titles = vim.tbl_map(function(a)
    return a.title
  end, q.items)
  H.eq({ 'Restore openai:gpt-4o-mini', 'Keep openai:gpt-4o' }, titles, 'actions')
  H.check(q.opts.prompt:find('hooks', 1, true), 'the question does not name the dropped key: %s', q.opts.prompt)
  H.check(not q.opts.prompt:find('sk-test-nvim-VALUE', 1, true), 'the question shows a key value')
  H.check(#pending > 0, 'no User TunaModelChanged with a pending overwrite')
  H.check(pending[1].status:find('[overwritten]', 1, true), 'status while pending: %q', pending[1].status)
  H.eq('openai:gpt-4o-mini', pending[1].state.overwrite.replacedModel, 'overwrite.replacedModel')

  -- Restore: the editor's model and the dropped key back, tunacode's new theme kept
  H.wait('the restore written', function()
    local c = H.read_config()
    return c and c.default_model == 'openai:gpt-4o-mini' and c.hooks ~= nil
  end, 30000)
  local c = H.read_config()
  H.eq({ pre = { 'echo keep me' } }, c.hooks, 'the dropped key, back')
  H.check(c.settings.theme ~= theme_before, 'the new theme was not kept: %s', tostring(c.settings.theme))
  H.wait_status('openai:gpt-4o-mini')
  H.eq('restored', tunacode.state().overwrite and tunacode.state().overwrite.resolution, 'resolution')

  -- nothing pending now: a clear error, nothing written
  local before = H.read_file(H.config_path)
  local mark = #H.notes
  vim.cmd('TunaModel restore')
  local note = H.wait_note('restore', vim.log.levels.ERROR, mark)
  H.log('restore with nothing pending: %s', note.msg)
  H.eq(before, H.read_file(H.config_path), 'config after a restore with nothing pending')
  vim.fn.jobstop(t.job)
end)
