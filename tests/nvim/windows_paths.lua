-- Issue 25 item 5: the plugin's Windows branch, forced on Linux by replacing platform.is_windows (nothing else of
-- the OS is faked). Discovery looks in the venvs' `Scripts\` for `tuna-lsp.exe` (in `bin/` when a venv has only
-- that), :TunaInstall tries the `py -3` launcher, finds the venv's `Scripts\python.exe`, asks it for its scripts
-- folder (sysconfig) and installs there; the plugin then starts that server and saves a model.
-- The Pythons are one shell script (fake_python below) that logs every call in TUNA_FAKE_LOG and does what
-- Windows' would: the launcher and the venv's python answer the version and sysconfig questions, make the venv
-- (Scripts\python.exe), and "pip install" a tuna-lsp.exe (a link to the real server). Then the Linux branch is
-- checked to be as before.
local H = dofile(vim.fs.joinpath(vim.fs.dirname(arg[0]), 'harness.lua'))

local fake_python = [[#!/bin/sh
PATH=/usr/bin:/bin
printf '%s\n' "$(basename "$0") $*" >> "$TUNA_FAKE_LOG"
[ "$1" = -3 ] && shift
case "$1 $2 $3" in
  "-I -c import sys;"*) echo 3.12.9 ;;
  "-I -c import sysconfig;"*) echo "${TUNA_FAKE_SCRIPTS:-$(dirname "$0")}" ;;
  "-I -m venv") mkdir -p "$4/Scripts" && cp "$0" "$4/Scripts/python.exe" ;;
  "-I -m pip") ln -sf "$TUNA_LSP_CMD" "${TUNA_FAKE_SCRIPTS:-$(dirname "$0")}/tuna-lsp.exe" ;;
  *) echo "unexpected: $*" >&2; exit 9 ;;
esac
]]

local function write_exe(path, body)
  vim.fn.mkdir(vim.fs.dirname(path), 'p')
  local f = assert(io.open(path, 'w'))
  f:write(body)
  f:close()
  assert(vim.uv.fs_chmod(path, tonumber('755', 8)))
end

local function calls(log)
  return vim.split(vim.trim(H.read_file(log) or ''), '\n', { trimempty = true })
end

H.run(function()
  H.add_plugin()
  local platform = require('tunacode.platform')
  local server = require('tunacode.server')
  local install = require('tunacode.install')
  local linux = platform.is_windows
  H.eq(false, linux(), 'is_windows() on this machine')

  local tmp = vim.fs.joinpath(H.home, 'win')
  local launcher_dir = vim.fs.joinpath(tmp, 'launcher')
  write_exe(vim.fs.joinpath(launcher_dir, 'py'), fake_python)
  local log = vim.fs.joinpath(tmp, 'calls.log')
  vim.env.TUNA_FAKE_LOG = log
  -- only the launcher on PATH: no python3.x, no python3, no python, no tuna-lsp
  vim.env.PATH = launcher_dir

  platform.is_windows = function()
    return true
  end

  local venv = server.venv_dir()
  local clone_venv = vim.fs.joinpath(server.clone_root(), '.venv')
  local exe = vim.fs.joinpath(venv, 'Scripts', 'tuna-lsp.exe')
  -- this checkout's .venv is a Linux one (bin/ only), looked at as an MSYS2 venv would be
  local clone_bin = vim.uv.fs_stat(vim.fs.joinpath(clone_venv, 'bin'))
    and not vim.uv.fs_stat(vim.fs.joinpath(clone_venv, 'Scripts'))
  H.eq({
    exe,
    vim.fs.joinpath(clone_venv, clone_bin and 'bin' or 'Scripts', 'tuna-lsp.exe'),
    'tuna-lsp',
  }, vim.tbl_map(function(c)
    return c.path
  end, server.candidates()), 'where the server is looked for on Windows')
  H.eq(
    {
      vim.fs.joinpath(venv, 'Scripts', 'python.exe'),
      vim.fs.joinpath(venv, 'bin', 'python.exe'),
      vim.fs.joinpath(venv, 'bin', 'python'),
    },
    platform.venv_pythons(venv),
    "where a venv's python is looked for on Windows"
  )
  H.eq(
    { { 'python3.13' }, { 'python3.12' }, { 'python3.11' }, { 'py', '-3' }, { 'python3' }, { 'python' } },
    install.pythons(),
    'the Pythons tried on Windows'
  )
  H.eq('C:/Users/me/venv/Scripts', platform.scripts_from_answer('C:\\Users\\me\\venv\\Scripts\r\n', exe), 'an answer')
  H.eq(nil, platform.scripts_from_answer('\n', exe), 'an empty answer')

  -- py -3 is found, run with its -3 and -I, and reported as the Python to use
  local py = install.find_python()
  H.check(py, 'py -3 not found')
  H.eq({ vim.fs.joinpath(launcher_dir, 'py'), '-3' }, py.argv, 'the Python found')
  H.eq('3.12.9', py[3], 'its version')

  -- nothing installed: the error names the Windows places
  local mark = #H.notes
  vim.cmd('TunaModel openai:gpt-4.1')
  local note = H.wait_note('no tuna-lsp found', vim.log.levels.ERROR, mark)
  H.check(note.msg:find(exe, 1, true), 'the error does not name %s: %s', exe, note.msg)

  -- :TunaInstall through the launcher, into Scripts\
  os.remove(log)
  mark = #H.notes
  vim.cmd('TunaInstall')
  H.wait('the install to finish', function()
    return H.find_note('installed ', vim.log.levels.INFO, mark) or H.find_note('', vim.log.levels.ERROR, mark)
  end)
  H.check(not H.find_note('', vim.log.levels.ERROR, mark), 'install failed: %s', H.notes[#H.notes].msg)
  H.check(H.find_note('installed ' .. exe, vim.log.levels.INFO, mark), 'installed elsewhere: %s', H.notes[#H.notes].msg)
  local venv_python = vim.fs.joinpath(venv, 'Scripts', 'python.exe')
  H.eq({
    'py -3 -I -c import sys; print("%d.%d.%d" % sys.version_info[:3])',
    'py -3 -I -m venv ' .. venv,
    'python.exe -I -m pip install --disable-pip-version-check ' .. server.clone_root(),
    "python.exe -I -c import sysconfig; print(sysconfig.get_path('scripts'))",
  }, calls(log), 'what :TunaInstall ran')
  H.eq(venv_python, install.venv_python(venv), "the venv's python")

  -- the plugin now starts Scripts\tuna-lsp.exe and saves through it
  mark = #H.notes
  vim.cmd('TunaModel openai:gpt-4.1')
  H.wait_note('openai:gpt-4.1', vim.log.levels.INFO, mark)
  H.eq(exe, H.client().config.cmd[1], 'the server the plugin started')
  H.wait('default_model in the file', function()
    return H.read_config().default_model == 'openai:gpt-4.1'
  end)

  -- the venv's answer wins over the usual place: a scripts folder elsewhere is where tuna-lsp is looked for
  local odd = vim.fs.joinpath(tmp, 'odd', 'Tools')
  vim.fn.mkdir(odd, 'p')
  vim.env.TUNA_FAKE_SCRIPTS = odd
  local got
  install.scripts_dir(venv_python, function(dir)
    got = dir
  end)
  H.wait('the scripts folder the venv answers', function()
    return got
  end)
  H.eq(odd, got, 'the scripts folder asked of the venv')
  -- :TunaInstall again (an update: no new venv) into that folder: installed, and how to start it is said
  os.remove(log)
  mark = #H.notes
  vim.cmd('TunaInstall')
  local odd_exe = vim.fs.joinpath(odd, 'tuna-lsp.exe')
  note = H.wait_note('installed ' .. odd_exe, vim.log.levels.WARN, mark)
  H.check(note.msg:find(('cmd = { %q }'):format(odd_exe), 1, true), 'no cmd given: %s', note.msg)
  H.eq({
    'py -3 -I -c import sys; print("%d.%d.%d" % sys.version_info[:3])',
    'python.exe -I -m pip install --disable-pip-version-check ' .. server.clone_root(),
    "python.exe -I -c import sysconfig; print(sysconfig.get_path('scripts'))",
  }, calls(log), 'what the update ran (no new venv)')
  vim.env.TUNA_FAKE_SCRIPTS = nil
  -- a python that gives no answer: its own folder
  got = nil
  local mute = vim.fs.joinpath(tmp, 'mute', 'Scripts', 'python.exe')
  write_exe(mute, '#!/bin/sh\nexit 1\n')
  install.scripts_dir(mute, function(dir)
    got = dir
  end)
  H.wait('the fallback scripts folder', function()
    return got
  end)
  H.eq(vim.fs.dirname(mute), got, 'the scripts folder of a python that does not answer')

  -- a venv with bin/ only (an MSYS2 Python): bin\tuna-lsp.exe
  local msys = vim.fs.joinpath(tmp, 'msys-venv')
  vim.fn.mkdir(vim.fs.joinpath(msys, 'bin'), 'p')
  H.eq(vim.fs.joinpath(msys, 'bin', 'tuna-lsp.exe'), platform.venv_exe(msys, 'tuna-lsp'), 'an MSYS2 venv')

  -- the Linux branch: as before
  platform.is_windows = linux
  H.eq({
    vim.fs.joinpath(venv, 'bin', 'tuna-lsp'),
    vim.fs.joinpath(clone_venv, 'bin', 'tuna-lsp'),
    'tuna-lsp',
  }, vim.tbl_map(function(c)
    return c.path
  end, server.candidates()), 'where the server is looked for on Linux')
  H.eq({ vim.fs.joinpath(venv, 'bin', 'python') }, platform.venv_pythons(venv), "a venv's python on Linux")
  H.eq({ { 'python3.13' }, { 'python3.12' }, { 'python3.11' }, { 'python3' } }, install.pythons(), 'Pythons on Linux')
  H.eq(vim.fs.joinpath(msys, 'bin', 'tuna-lsp'), platform.venv_exe(msys, 'tuna-lsp'), 'a venv on Linux')
  H.eq('/', platform.last_resort_dir(), 'the last-resort working directory on Linux')
end)
