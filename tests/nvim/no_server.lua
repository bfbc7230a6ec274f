-- A server command that does not exist, then one that exits at once: setup(), :TunaModel and :checkhealth say
-- so clearly, as errors; status() stays empty and nothing is left running.
local H = dofile(vim.fs.joinpath(vim.fs.dirname(arg[0]), 'harness.lua'))
local missing = vim.fs.joinpath(H.home, 'nowhere', 'tuna-lsp')

H.run(function()
  local tunacode = H.setup({ cmd = { missing } })
  H.wait_note(missing, vim.log.levels.ERROR)
  H.eq('', tunacode.status(), 'status() without a server')

  local mark = #H.notes
  vim.cmd('TunaModel openai:gpt-4.1')
  local note = H.wait_note('not executable', vim.log.levels.ERROR, mark)
  H.check(note.msg:find(missing, 1, true), 'error does not name the command: %s', note.msg)

  vim.cmd('checkhealth tunacode')
  local text
  H.wait('the checkhealth report', function()
    for _, b in ipairs(vim.api.nvim_list_bufs()) do
      if vim.bo[b].filetype == 'checkhealth' then
        text = table.concat(vim.api.nvim_buf_get_lines(b, 0, -1, false), '\n')
        return text:find('is not executable', 1, true)
      end
    end
  end)
  H.check(text:find('ERROR server command', 1, true), 'report: %s', text)
  H.eq(0, #vim.lsp.get_clients({ name = 'tunacode', _uninitialized = true }), 'clients')
  H.check(vim.uv.fs_stat(H.config_path) == nil, 'a config was written')

  -- a server that exits at once
  local python = assert(os.getenv('TUNA_PYTHON'), 'TUNA_PYTHON not set')
  tunacode.setup({ cmd = { python, '-c', 'import sys; sys.exit(3)' } })
  mark = #H.notes
  vim.cmd('TunaModel openai:gpt-4.1')
  H.wait_note('the server exited during start-up', vim.log.levels.ERROR, mark)
  H.eq('', tunacode.status(), 'status() after a failed start')
end)
