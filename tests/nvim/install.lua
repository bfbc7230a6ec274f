-- :TunaInstall with only the plugin on 'runtimepath' (a fresh clone with no .venv, no tuna-lsp on PATH, an
-- isolated XDG_DATA_HOME): first a clear error for a Python older than 3.11 and for a missing one, then the
-- install, then :TunaModel finds that server with no cmd setting and saves to the shared config.
-- TUNA_FAKE_PYTHON39: a script that reports Python 3.9. TUNA_INSTALL_TIMEOUT_MS: how long the install may take.
-- TUNA_START_DIR (optional): Neovim's current directory, a repository holding `venv.py` and `pip/__init__.py`
-- that leave a marker in TUNA_MARKER_DIR when imported (issue 24): the version probe, `python -m venv` and the
-- venv's pip must import none of them, and the install must work all the same.
local H = dofile(vim.fs.joinpath(vim.fs.dirname(arg[0]), 'harness.lua'))
local install_timeout = tonumber(os.getenv('TUNA_INSTALL_TIMEOUT_MS') or '240000')
local fake39 = assert(os.getenv('TUNA_FAKE_PYTHON39'), 'TUNA_FAKE_PYTHON39 not set')

H.run(function()
  local start_dir = H.enter_start_dir()
  H.add_plugin()
  local tunacode = require('tunacode')
  local venv_exe = vim.fs.joinpath(vim.fn.stdpath('data'), 'tunacode', 'venv', 'bin', 'tuna-lsp')
  H.check(vim.startswith(venv_exe, assert(os.getenv('XDG_DATA_HOME'))), 'stdpath data outside the test: %s', venv_exe)

  -- nothing installed: the command says where it looked and what to do
  local mark = #H.notes
  vim.cmd('TunaModel openai:gpt-4.1')
  local note = H.wait_note('no tuna-lsp found', vim.log.levels.ERROR, mark)
  H.check(note.msg:find(':TunaInstall', 1, true) and note.msg:find(venv_exe, 1, true), 'unclear: %s', note.msg)

  -- a Python that is too old, then one that does not exist: clear errors, nothing created
  for _, case in ipairs({ { fake39, 'Python 3.9.18' }, { '/nonexistent/python3.11', 'not found' } }) do
    tunacode.options.python = case[1]
    mark = #H.notes
    vim.cmd('TunaInstall')
    note = H.wait_note('Python 3.11 or later is needed', vim.log.levels.ERROR, mark)
    H.check(note.msg:find(case[1], 1, true) and note.msg:find(case[2], 1, true), 'error does not say: %s', note.msg)
    H.check(vim.uv.fs_stat(vim.fs.dirname(vim.fs.dirname(venv_exe))) == nil, 'a venv was created')
  end
  tunacode.options.python = nil

  mark = #H.notes
  local t = vim.uv.hrtime()
  vim.cmd('TunaInstall')
  H.wait_note('creating a virtual environment', vim.log.levels.INFO, mark)
  H.wait('the install to finish', function()
    if start_dir and #H.planted_markers() > 0 then
      H.fail("the repository's planted modules ran: " .. table.concat(H.planted_markers(), ', '))
    end
    return H.find_note('installed ' .. venv_exe, vim.log.levels.INFO, mark)
      or H.find_note('', vim.log.levels.ERROR, mark)
  end, install_timeout)
  H.check(not H.find_note('', vim.log.levels.ERROR, mark), 'install failed: %s', H.notes[#H.notes].msg)
  H.log('install took %.1f s', (vim.uv.hrtime() - t) / 1e9)
  H.check(H.find_note('installing the server from', vim.log.levels.INFO, mark), 'no progress message for pip')

  mark = #H.notes
  vim.cmd('TunaModel openai:gpt-4.1')
  H.wait_note('openai:gpt-4.1', vim.log.levels.INFO, mark)
  H.eq(venv_exe, H.client().config.cmd[1], 'the server the plugin started')
  H.eq('openai:gpt-4.1', H.read_config().default_model, 'default_model')
  H.wait_status('openai:gpt-4.1')
  if start_dir then
    H.eq({}, H.planted_markers(), "the repository's planted modules that ran")
    H.check_server_cwd(start_dir)
    -- again, as after updating the clone: the venv is there, only pip runs
    mark = #H.notes
    vim.cmd('TunaInstall')
    H.wait('the update to finish', function()
      if #H.planted_markers() > 0 then
        H.fail("the repository's planted modules ran: " .. table.concat(H.planted_markers(), ', '))
      end
      return H.find_note('installed ' .. venv_exe, vim.log.levels.INFO, mark)
        or H.find_note('', vim.log.levels.ERROR, mark)
    end, install_timeout)
    H.check(not H.find_note('', vim.log.levels.ERROR, mark), 'update failed: %s', H.notes[#H.notes].msg)
    H.check(not H.find_note('creating a virtual environment', nil, mark), 'the update created the venv again')
  end
end)
