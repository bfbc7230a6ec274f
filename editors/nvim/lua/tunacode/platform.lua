--- What differs between Windows and the other systems for the plugin, in one place (issue 25, item 5): where a
--- virtual environment keeps its executables (`Scripts\` on Windows, `bin/` elsewhere), their names (`.exe`),
--- and the Pythons worth trying (the `py` launcher, the only one python.org's installer puts on PATH).
--- Paths are joined with vim.fs.joinpath only. No other module tests the OS: they ask this one, and a test
--- forces the Windows branch by replacing M.is_windows.
local M = {}

--- Whether Neovim runs on Windows. A function so a test can force either branch.
function M.is_windows()
  return vim.fn.has('win32') == 1
end

--- An executable's file name: `name.exe` on Windows.
function M.exe(name)
  return M.is_windows() and (name .. '.exe') or name
end

--- Where a virtual environment keeps its executables, without running anything (server discovery runs at
--- every start): `venv/Scripts` on Windows, unless the venv has only `bin/` (an MSYS2 or Cygwin Python makes
--- that); `venv/bin` elsewhere. A venv :TunaInstall made is asked instead (M.SCRIPTS_CODE).
function M.venv_scripts(venv)
  if M.is_windows() then
    local scripts, bin = vim.fs.joinpath(venv, 'Scripts'), vim.fs.joinpath(venv, 'bin')
    if not vim.uv.fs_stat(scripts) and vim.uv.fs_stat(bin) then
      return bin
    end
    return scripts
  end
  return vim.fs.joinpath(venv, 'bin')
end

--- An executable of a venv (`venv/bin/tuna-lsp`, `venv\Scripts\tuna-lsp.exe`).
function M.venv_exe(venv, name)
  return vim.fs.joinpath(M.venv_scripts(venv), M.exe(name))
end

--- Where the python of a venv may be, most likely first (one that exists is found by its caller).
---@return string[]
function M.venv_pythons(venv)
  if M.is_windows() then
    return {
      vim.fs.joinpath(venv, 'Scripts', 'python.exe'),
      vim.fs.joinpath(venv, 'bin', 'python.exe'),
      vim.fs.joinpath(venv, 'bin', 'python'),
    }
  end
  return { vim.fs.joinpath(venv, 'bin', 'python') }
end

--- What a venv's own python prints for its scripts folder (one line).
M.SCRIPTS_CODE = "import sysconfig; print(sysconfig.get_path('scripts'))"

--- The command asking a venv's python for its scripts folder (isolated, as every Python the plugin runs).
function M.scripts_query(python)
  return { python, '-I', '-c', M.SCRIPTS_CODE }
end

--- The scripts folder from the answer to M.scripts_query, or nil when it is not one. The computed folder's
--- spelling is kept when both name the same folder, so messages show what discovery looks at.
---@param stdout string
---@param computed string
---@return string?
function M.scripts_from_answer(stdout, computed)
  local line = vim.trim(vim.split(stdout or '', '\n')[1] or '')
  if line == '' then
    return nil
  end
  local answer = vim.fs.normalize(line, { win = M.is_windows() })
  local real = vim.uv.fs_realpath(answer)
  if real and real == vim.uv.fs_realpath(computed) then
    return computed
  end
  return answer
end

--- The Pythons :TunaInstall tries when none is configured, in order: each an argv prefix. On Windows also the
--- `py` launcher (`py -3`: its newest Python 3) and `python`, after the versioned names and before `python3`
--- and `python` (the Microsoft Store's stubs, which only print where to get Python).
---@return string[][]
function M.pythons()
  local list = { { 'python3.13' }, { 'python3.12' }, { 'python3.11' } }
  if M.is_windows() then
    vim.list_extend(list, { { 'py', '-3' }, { 'python3' }, { 'python' } })
  else
    list[#list + 1] = { 'python3' }
  end
  return list
end

--- The working directory of last resort, when stdpath('data') and stdpath('cache') cannot be made: the root
--- elsewhere, the user's temporary folder on Windows (a drive's root may not be readable).
function M.last_resort_dir()
  if M.is_windows() then
    return vim.uv.os_tmpdir() or vim.fs.normalize(os.getenv('SystemRoot') or 'C:/Windows')
  end
  return '/'
end

return M
