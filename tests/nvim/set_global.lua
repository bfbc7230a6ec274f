-- :TunaModel openai:gpt-4.1 writes the shared config (checked again by the driver) and updates status();
-- the old "default" keyword is global too; :TunaModel! (and :TunaModel history) shows both changes.
local H = dofile(vim.fs.joinpath(vim.fs.dirname(arg[0]), 'harness.lua'))

H.run(function()
  local tunacode = H.setup()
  H.wait_ready()
  H.wait_status('openai:gpt-4o')

  local mark = #H.notes
  vim.cmd('TunaModel openai:gpt-4.1')
  local note = H.wait_note('openai:gpt-4.1', vim.log.levels.INFO, mark)
  H.check(note.msg:find(H.config_path, 1, true), 'message does not name the config: %s', note.msg)
  H.wait_status('openai:gpt-4.1')
  H.eq('global', tunacode.state().scope, 'scope')
  H.wait('default_model in the file', function()
    return H.read_config().default_model == 'openai:gpt-4.1'
  end)
  local recent = H.read_config().recent_models
  H.eq({ 'openai:gpt-4.1', 'openai:gpt-4o' }, { recent[1], recent[2] }, 'recent_models[1..2]')

  mark = #H.notes
  vim.cmd('TunaModel openai:gpt-4o-mini default')
  H.wait_note('openai:gpt-4o-mini', vim.log.levels.INFO, mark)
  H.wait_status('openai:gpt-4o-mini')
  H.eq('openai:gpt-4o-mini', H.read_config().default_model, 'default_model after the "default" keyword')

  mark = #H.notes
  vim.cmd('TunaModel!')
  local hist = H.wait_note('model history', vim.log.levels.INFO, mark)
  H.check(hist.msg:find('openai:gpt-4.1 -> openai:gpt-4o-mini', 1, true), 'history lacks the 2nd change: %s', hist.msg)
  H.check(hist.msg:find('openai:gpt-4o -> openai:gpt-4.1', 1, true), 'history lacks the 1st change: %s', hist.msg)
  H.check(
    hist.msg:find('gpt-4o-mini', 1, true) < hist.msg:find('openai:gpt-4o -> openai:gpt-4.1', 1, true),
    'history is not newest first: %s',
    hist.msg
  )
  mark = #H.notes
  vim.cmd('TunaModel history')
  H.eq(hist.msg, H.wait_note('model history', vim.log.levels.INFO, mark).msg, ':TunaModel history')

  H.eq(0, #vim.tbl_filter(function(n)
    return n.level >= vim.log.levels.WARN and not n.msg:find('key', 1, true)
  end, H.notes), 'warnings or errors')
end)
