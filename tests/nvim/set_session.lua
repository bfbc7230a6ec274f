-- :TunaModel <model> session changes this editor's model only: status() marks it, the file is untouched
-- (the driver compares its bytes too), and a missing API key is marked.
local H = dofile(vim.fs.joinpath(vim.fs.dirname(arg[0]), 'harness.lua'))

H.run(function()
  local tunacode = H.setup()
  H.wait_ready()
  H.wait_status('openai:gpt-4o')
  local before, mtime = H.read_file(H.config_path), H.mtime(H.config_path)

  local mark = #H.notes
  vim.cmd('TunaModel anthropic:claude-sonnet-4-20250514 session')
  local note = H.wait_note('anthropic:claude-sonnet-4-20250514', vim.log.levels.INFO, mark)
  H.check(note.msg:lower():find('session', 1, true), 'message does not say session: %s', note.msg)
  -- only OPENAI_API_KEY is in the config: the anthropic key is missing
  H.wait_status('anthropic:claude-sonnet-4-20250514 [session] [no key]')
  local s = tunacode.state()
  H.eq('session', s.scope, 'scope')
  H.eq('missing', s.apiKey, 'apiKey')
  H.eq('openai:gpt-4o', s.persistedModel, 'persistedModel')
  H.eq(before, H.read_file(H.config_path), 'config bytes')
  H.eq(mtime, H.mtime(H.config_path), 'config mtime')

  -- custom formatting through status() options
  H.eq('claude-sonnet-4-20250514*', tunacode.status({ short = true, session = '*', missing_key = '' }), 'short status')
end)
