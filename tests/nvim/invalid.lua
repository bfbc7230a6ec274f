-- Invalid input shows an error and changes nothing: not the file, not status(), not the state.
local H = dofile(vim.fs.joinpath(vim.fs.dirname(arg[0]), 'harness.lua'))

H.run(function()
  local tunacode = H.setup()
  H.wait_ready()
  H.wait_status('openai:gpt-4o')
  local before, mtime = H.read_file(H.config_path), H.mtime(H.config_path)
  local state = tunacode.state()

  local cases = {
    { cmd = 'TunaModel nosuchprovider:some-model', needle = 'nosuchprovider' },
    { cmd = 'TunaModel openai:', needle = '' },
    { cmd = 'TunaModel openai:gpt-4.1 forever', needle = 'forever' },
    { cmd = 'TunaModel a b c', needle = 'usage' },
  }
  for _, case in ipairs(cases) do
    local mark = #H.notes
    vim.cmd(case.cmd)
    local note = H.wait_note(case.needle, vim.log.levels.ERROR, mark)
    H.log('%s -> %s', case.cmd, note.msg)
    H.eq(0, #vim.tbl_filter(function(n)
      return n.level == vim.log.levels.INFO
    end, { unpack(H.notes, mark + 1) }), 'INFO notifications after ' .. case.cmd)
  end
  -- the server's error says what is expected
  local first = H.notes[H.find_note('nosuchprovider', vim.log.levels.ERROR)]
  H.check(first.msg:find('provider', 1, true), 'error does not explain: %s', first.msg)

  -- a request after the errors proves the server is alive and unchanged
  local resp = H.client():request_sync('tuna/getModel', vim.empty_dict(), H.TIMEOUT)
  H.check(resp and resp.result, 'tuna/getModel after errors: %s', vim.inspect(resp))
  H.eq('openai:gpt-4o', resp.result.model, 'model after errors')
  H.eq(state.model, tunacode.state().model, 'state after errors')
  H.eq('openai:gpt-4o', tunacode.status(), 'status after errors')
  H.eq(before, H.read_file(H.config_path), 'config bytes')
  H.eq(mtime, H.mtime(H.config_path), 'config mtime')
end)
