--- :TunaInstall: the server's virtual environment under stdpath('data') (python -m venv, then pip install), with
--- Python 3.11+ found on PATH (`py -3` too on Windows) or given by the user. pip installs the clone this plugin
--- lives in; a plugin in no clone (the published copy of editors/nvim a plugin manager installs) gets
--- `tuna-lsp==<the plugin's version>` (version.lua) from the package index, through pip's own configuration
--- (pip.conf, PIP_INDEX_URL, PIP_FIND_LINKS, ...: pip reads them; `-I` does not hide PIP_* variables).
--- Where the venv keeps tuna-lsp (`bin/`, `Scripts\` on Windows) is asked of the venv's own python (sysconfig)
--- once it exists; platform.lua has every other OS difference.
--- The server search (server.lua, step 2) finds the result; nothing else is written.
--- Every Python it runs is isolated (`-I`: no current directory, no PYTHON* variables, no user site on the import
--- path) and runs from server.work_dir() (stdpath('data')/tunacode), never from Neovim's current directory: a
--- repository holding `venv.py` or `pip/` must not run as the user when :TunaInstall is typed in it.
local config = require('tunacode.config')
local notify = require('tunacode.notify')
local platform = require('tunacode.platform')
local server = require('tunacode.server')

local M = {}

M.MIN_PYTHON = { 3, 11 }

--- Interpreters tried, in order, when setup{ python = ... } is not given: each an argv prefix (`py -3`).
---@return string[][]
function M.pythons()
  return platform.pythons()
end

local function info(msg)
  notify.notify(msg, vim.log.levels.INFO)
end

--- The version of a Python as {major, minor, text, path = executable, argv = the command that runs it}, or nil
--- and why not. `python`: an executable, or a command and its first arguments (`{ 'py', '-3' }`).
---@param python string|string[]
---@return table?, string?
function M.python_version(python)
  local argv = config.as_list(python)
  local path = vim.fn.exepath(argv[1])
  if path == '' then
    return nil, 'not found'
  end
  argv[1] = path
  local ok, res = pcall(function()
    return vim
      .system(
        vim.list_extend(vim.list_slice(argv), { '-I', '-c', 'import sys; print("%d.%d.%d" % sys.version_info[:3])' }),
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
  return { tonumber(major), tonumber(minor), vim.trim(res.stdout), path = path, argv = argv }
end

local function new_enough(v)
  return v[1] > M.MIN_PYTHON[1] or (v[1] == M.MIN_PYTHON[1] and v[2] >= M.MIN_PYTHON[2])
end

--- The first Python 3.11+ (setup's `python`, else M.pythons() on PATH), or nil and what was found.
---@return table?, string?
function M.find_python()
  local tried = config.options.python and { config.options.python } or M.pythons()
  local found = {}
  for _, python in ipairs(tried) do
    local v, why = M.python_version(python)
    if v and new_enough(v) then
      return v
    end
    found[#found + 1] = ('%s: %s'):format(
      table.concat(config.as_list(python), ' '),
      v and ('Python %s at %s'):format(v[3], v.path) or why
    )
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

--- The plugin's version (version.lua), read from the file now: after a plugin manager updated the plugin in this
--- Neovim, `require('tunacode.version')` still holds the version loaded before (package.loaded).
---@return string
function M.plugin_version()
  local path = vim.fs.joinpath(server.plugin_root(), 'lua', 'tunacode', 'version.lua')
  local ok, v = pcall(dofile, path)
  if ok and type(v) == 'string' then
    return v
  end
  return require('tunacode.version')
end

--- What pip installs: `spec` (its argument), `from` (for the progress message) and `hint` (added to a failure).
--- The clone this plugin lives in, else the server release of the plugin's version from the package index.
---@return {spec: string, from: string, hint: string?}
function M.source()
  local clone = server.clone_root()
  if clone then
    return { spec = clone, from = clone }
  end
  local spec = 'tuna-lsp==' .. M.plugin_version()
  return {
    spec = spec,
    from = ('the package index (%s, the version of this plugin)'):format(spec),
    hint = (
      '\n\n%s comes from the package index your pip is configured with (pip.conf, PIP_INDEX_URL, '
      .. 'PIP_EXTRA_INDEX_URL, PIP_FIND_LINKS, PIP_NO_INDEX): check that it is reachable and holds %s, '
      .. 'then run :TunaInstall again; or install the server yourself (pipx install %s) and give its path: '
      .. 'require("tunacode").setup({ cmd = { "/path/to/tuna-lsp" } })'
    ):format(spec, spec, spec),
  }
end

--- The callbacks of the install under way, or nil when none runs.
---@type fun(err: string?, exe: string?)[]?
local waiting = nil

--- Whether an install is under way.
function M.running()
  return waiting ~= nil
end

--- The install itself; cb(err, exe) is called once, at its end.
local function start(cb)
  local function fail(msg)
    notify.notify(msg, vim.log.levels.ERROR)
    cb(msg)
  end
  local source = M.source()
  local python, why = M.find_python()
  if not python then
    return fail(why)
  end
  local venv = server.venv_dir()
  local function pip_install(venv_python)
    info(('installing the server from %s into %s (pip; a minute or so the first time)'):format(source.from, venv))
    run({ venv_python, '-I', '-m', 'pip', 'install', '--disable-pip-version-check', source.spec }, function(res)
      if res.code ~= 0 then
        local broken = (res.stderr or ''):find('No module named pip', 1, true)
          and ('\n\n%s has no pip (an install cut short?): delete %s, then run :TunaInstall again'):format(
            venv_python,
            venv
          )
        return fail(failed('pip install ' .. source.spec, res) .. (broken or source.hint or ''))
      end
      M.scripts_dir(venv_python, function(scripts)
        local exe = vim.fs.joinpath(scripts, platform.exe('tuna-lsp'))
        if vim.fn.executable(exe) ~= 1 then
          return fail(('pip finished, but %s is missing'):format(exe))
        end
        if vim.uv.fs_realpath(scripts) ~= vim.uv.fs_realpath(platform.venv_scripts(venv)) then
          -- a layout discovery does not compute (it runs no process): say how to start this one
          notify.notify(
            ('installed %s, where the plugin does not look for the server: set '
              .. 'require("tunacode").setup({ cmd = { %q } })'):format(exe, exe),
            vim.log.levels.WARN
          )
          return cb(nil, exe)
        end
        info(('installed %s; the plugin now starts it (no cmd setting needed)'):format(exe))
        switch_running_client(exe)
        cb(nil, exe)
      end)
    end)
  end
  local venv_python = M.venv_python(venv)
  if venv_python then
    return pip_install(venv_python)
  end
  vim.fn.mkdir(vim.fs.dirname(venv), 'p')
  local shown = table.concat(python.argv, ' ')
  info(('creating a virtual environment at %s (Python %s, %s)'):format(venv, python[3], shown))
  run(vim.list_extend(vim.list_slice(python.argv), { '-I', '-m', 'venv', venv }), function(res)
    if res.code ~= 0 then
      return fail(failed(shown .. ' -I -m venv ' .. venv, res))
    end
    venv_python = M.venv_python(venv)
    if not venv_python then
      return fail(
        ('%s -I -m venv finished, but %s is missing'):format(shown, table.concat(platform.venv_pythons(venv), ' or '))
      )
    end
    pip_install(venv_python)
  end)
end

--- Creates (or updates) the venv and installs the server into it. cb(err, path of tuna-lsp).
--- While one install runs, another call joins it (two pips in one venv would break it: a plugin manager's hook
--- can fire twice for one install, vim.pack's PackChanged for `update` then `install`): cb gets its outcome.
---@param cb? fun(err: string?, exe: string?)
function M.install(cb)
  if waiting then
    info('the server is being installed already: this waits for that install')
    waiting[#waiting + 1] = cb
    return
  end
  waiting = { cb }
  local function finish(err, exe)
    local cbs = waiting or {}
    waiting = nil
    for _, f in ipairs(cbs) do
      f(err, exe)
    end
  end
  local ok, err = pcall(start, finish)
  if not ok then -- never left "under way" by an error
    notify.notify('the install failed: ' .. tostring(err), vim.log.levels.ERROR)
    finish(tostring(err))
  end
end

--- The python of the venv at `venv`, or nil when it has none (not created yet).
---@return string?
function M.venv_python(venv)
  for _, p in ipairs(platform.venv_pythons(venv)) do
    if vim.fn.executable(p) == 1 then
      return p
    end
  end
end

--- The folder where the venv of `venv_python` keeps its executables, asked of that python (sysconfig), so a
--- layout other than the usual `bin/` or `Scripts\` is found too. cb(folder): the answer, or the python's own
--- folder when it gives none (a venv's python lives in that folder).
---@param venv_python string
---@param cb fun(scripts: string)
function M.scripts_dir(venv_python, cb)
  local own = vim.fs.dirname(venv_python)
  run(platform.scripts_query(venv_python), function(res)
    cb(res.code == 0 and platform.scripts_from_answer(res.stdout, own) or own)
  end)
end

return M
