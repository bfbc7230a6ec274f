--- :TunaInstall: the server's virtual environment under stdpath('data'), built from the clone this plugin lives
--- in (python -m venv, then pip install of the clone), with Python 3.11+ found on PATH or given by the user.
--- The server search (server.lua, step 2) finds the result; nothing else is written.
--- Every Python it runs is isolated (`-I`: no current directory, no PYTHON* variables, no user site on the import
--- path) and runs from server.work_dir() (stdpath('data')/tunacode), never from Neovim's current directory: a
--- repository holding `venv.py` or `pip/` must not run as the user when :TunaInstall is typed in it.
local config = require('tunacode.config')
local notify = require('tunacode.notify')
local server = require('tunacode.server')

local M = {}

M.MIN_PYTHON = { 3, 11 }
--- Interpreters tried, in order, when setup{ python = ... } is not given.
M.PYTHONS = { 'python3.13', 'python3.12', 'python3.11', 'python3' }

local function info(msg)
  notify.notify(msg, vim.log.levels.INFO)
end

--- The version of a Python executable as {major, minor, text}, or nil and why not.
---@return table?, string?
function M.python_version(exe)
  local path = vim.fn.exepath(exe)
  if path == '' then
    return nil, 'not found'
  end
  local ok, res = pcall(function()
    return vim
      .system(
        { path, '-I', '-c', 'import sys; print("%d.%d.%d" % sys.version_info[:3])' },
        { text = true, cwd = server.work_dir() }
      )
      :wait(15000)
  end)
  if not ok or res.code ~= 0 then
    return nil, ('%s does not run as Python'):format(path)
  end
  local major, minor = (res.stdout or ''):match('^(%d+)%.(%d+)')
  if not major then
    return nil, ('%s does not run as Python'):format(path)
  end
  return { tonumber(major), tonumber(minor), vim.trim(res.stdout), path = path }
end

local function new_enough(v)
  return v[1] > M.MIN_PYTHON[1] or (v[1] == M.MIN_PYTHON[1] and v[2] >= M.MIN_PYTHON[2])
end

--- The first Python 3.11+ (setup's `python`, else M.PYTHONS on PATH), or nil and what was found.
---@return table?, string?
function M.find_python()
  local tried = config.options.python and { config.options.python } or M.PYTHONS
  local found = {}
  for _, exe in ipairs(tried) do
    local v, why = M.python_version(exe)
    if v and new_enough(v) then
      return v
    end
    found[#found + 1] = ('%s: %s'):format(exe, v and ('Python %s at %s'):format(v[3], v.path) or why)
  end
  return nil,
    ('Python %d.%d or later is needed to install the server; found %s. Install Python 3.11+ '
      .. '(python.org, your package manager, pyenv or uv), or give its path: '
      .. 'require("tunacode").setup({ python = "/path/to/python3.11" })'):format(
      M.MIN_PYTHON[1],
      M.MIN_PYTHON[2],
      table.concat(found, '; ')
    )
end

local function run(cmd, on_done)
  local ok, err = pcall(vim.system, cmd, { text = true, cwd = server.work_dir() }, function(res)
    vim.schedule(function()
      on_done(res)
    end)
  end)
  if not ok then -- not started (a missing executable): reported as a failure, never a hang
    vim.schedule(function()
      on_done({ code = -1, stdout = '', stderr = tostring(err) })
    end)
  end
end

local function failed(what, res)
  local out = vim.trim((res.stderr or '') .. '\n' .. (res.stdout or ''))
  local lines = vim.split(out, '\n')
  local tail = table.concat(vim.list_slice(lines, math.max(1, #lines - 12)), '\n')
  return ('%s failed (exit %s):\n%s'):format(what, tostring(res.code), tail)
end

--- A client already running another server would keep it: restart it on the new one.
local function switch_running_client(exe)
  local client = server.get_client()
  if not client or (type(client.config.cmd) == 'table' and client.config.cmd[1] == exe) then
    return
  end
  local bufs = vim.tbl_keys(client.attached_buffers or {})
  client:stop()
  vim.wait(3000, function()
    return client:is_stopped()
  end, 10)
  local new = server.start()
  for _, buf in ipairs(new and bufs or {}) do
    if vim.api.nvim_buf_is_valid(buf) then
      vim.lsp.buf_attach_client(buf, new.id)
    end
  end
end

--- Creates (or updates) the venv and installs the server into it. cb(err, path of tuna-lsp).
---@param cb? fun(err: string?, exe: string?)
function M.install(cb)
  cb = cb or function() end
  local function fail(msg)
    notify.notify(msg, vim.log.levels.ERROR)
    cb(msg)
  end
  local clone = server.clone_root()
  if not vim.uv.fs_stat(vim.fs.joinpath(clone, 'pyproject.toml')) then
    return fail(
      ('cannot install: %s is not the tunacode-lsp clone this plugin came from (no pyproject.toml); '
        .. 'install the plugin with its repository (lazy.nvim does), or install tuna-lsp yourself'):format(clone)
    )
  end
  local python, why = M.find_python()
  if not python then
    return fail(why)
  end
  local venv = server.venv_dir()
  local venv_python = vim.fs.joinpath(venv, 'bin', 'python')
  local exe = vim.fs.joinpath(venv, 'bin', 'tuna-lsp')
  local function pip_install()
    info(('installing the server from %s into %s (pip; a minute or so the first time)'):format(clone, venv))
    run({ venv_python, '-I', '-m', 'pip', 'install', '--disable-pip-version-check', clone }, function(res)
      if res.code ~= 0 then
        return fail(failed('pip install ' .. clone, res))
      elseif vim.fn.executable(exe) ~= 1 then
        return fail(('pip finished, but %s is missing'):format(exe))
      end
      info(('installed %s; the plugin now starts it (no cmd setting needed)'):format(exe))
      switch_running_client(exe)
      cb(nil, exe)
    end)
  end
  if vim.fn.executable(venv_python) == 1 then
    return pip_install()
  end
  vim.fn.mkdir(vim.fs.dirname(venv), 'p')
  info(('creating a virtual environment at %s (Python %s, %s)'):format(venv, python[3], python.path))
  run({ python.path, '-I', '-m', 'venv', venv }, function(res)
    if res.code ~= 0 then
      return fail(failed(python.path .. ' -I -m venv ' .. venv, res))
    elseif vim.fn.executable(venv_python) ~= 1 then
      return fail(('%s -I -m venv finished, but %s is missing'):format(python.path, venv_python))
    end
    pip_install()
  end)
end

return M
