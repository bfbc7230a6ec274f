-- Shared helpers for the headless Neovim scenarios that tests/e2e/test_nvim.py runs:
--   nvim --headless --clean -l tests/nvim/<scenario>.lua
-- Environment (set by the driver): HOME (an isolated home), TUNA_PLUGIN_DIR (editors/nvim), TUNA_LSP_CMD (the
-- server executable), TUNA_TEST_TIMEOUT_MS (per wait), TUNA_CLI_PYTHON (the tunacode CLI's venv, where needed).
-- Exit codes: 0 passed; 1 a check failed or a Lua error; 77 the server lacks tuna/listModels.
-- Every exit goes through finish(), which stops the LSP clients first so no server outlives the test.
local H = {}

H.TIMEOUT = tonumber(os.getenv('TUNA_TEST_TIMEOUT_MS') or '10000')
H.EXIT_NO_CATALOG = 77
H.home = assert(os.getenv('HOME'), 'HOME not set')
H.config_path = vim.fs.joinpath(H.home, '.config', 'tunacode.json')
H.plugin_dir = assert(os.getenv('TUNA_PLUGIN_DIR'), 'TUNA_PLUGIN_DIR not set')
H.server_cmd = { (assert(os.getenv('TUNA_LSP_CMD'), 'TUNA_LSP_CMD not set')) }
H.notes = {} -- every vim.notify call: { msg = string, level = integer }

local t0 = vim.uv.hrtime()
function H.log(fmt, ...)
  io.stderr:write(('[%7.1f ms] ' .. fmt .. '\n'):format((vim.uv.hrtime() - t0) / 1e6, ...))
end

local function clients()
  return vim.lsp.get_clients({ name = 'tunacode', _uninitialized = true })
end

function H.finish(code, msg)
  H.log('%s (exit %d)', msg, code)
  for _, c in ipairs(clients()) do
    c:stop()
  end
  if not vim.wait(3000, function()
    return #clients() == 0
  end, 10) then
    H.log('clients did not stop gracefully: forcing')
    for _, c in ipairs(clients()) do
      c:stop(true)
    end
    vim.wait(2000, function()
      return #clients() == 0
    end, 10)
  end
  H.log('clients stopped')
  io.stderr:flush()
  os.exit(code)
end

function H.fail(msg)
  H.finish(1, 'FAIL: ' .. msg)
end

function H.check(cond, msg, ...)
  if not cond then
    H.fail(msg:format(...))
  end
end

function H.eq(expected, actual, what)
  if not vim.deep_equal(expected, actual) then
    H.fail(('%s: expected %s, got %s'):format(what, vim.inspect(expected), vim.inspect(actual)))
  end
end

--- Waits for pred() to be truthy; fails naming `what` when the deadline passes.
function H.wait(what, pred, timeout)
  local ok = vim.wait(timeout or H.TIMEOUT, function()
    local good, v = pcall(pred)
    return good and v
  end, 10)
  if not ok then
    H.fail('timeout waiting for ' .. what)
  end
  H.log('ok: %s', what)
end

--- Runs the scenario; any Lua error fails it (with the clients stopped).
function H.run(fn)
  local ok, err = xpcall(fn, debug.traceback)
  if not ok then
    H.finish(1, 'Lua error: ' .. tostring(err))
  end
  H.finish(0, 'PASS')
end

-- Record notifications instead of printing them to a UI that does not exist.
vim.notify = function(msg, level)
  level = level or vim.log.levels.INFO
  H.notes[#H.notes + 1] = { msg = tostring(msg), level = level }
  H.log('notify[%d]: %s', level, tostring(msg))
end

--- Index of the first notification after `from` whose level is `level` and whose text contains `needle`.
function H.find_note(needle, level, from)
  for i = (from or 0) + 1, #H.notes do
    local n = H.notes[i]
    if (level == nil or n.level == level) and n.msg:find(needle, 1, true) then
      return i
    end
  end
end

function H.wait_note(needle, level, from)
  local idx
  H.wait(('notification %q (level %s)'):format(needle, tostring(level)), function()
    idx = H.find_note(needle, level, from)
    return idx
  end)
  return H.notes[idx]
end

function H.read_file(path)
  local f = io.open(path, 'rb')
  if not f then
    return nil
  end
  local s = f:read('*a')
  f:close()
  return s
end

function H.read_config()
  local s = H.read_file(H.config_path)
  return s and vim.json.decode(s) or nil
end

function H.mtime(path)
  local st = vim.uv.fs_stat(path)
  return st and (st.mtime.sec * 1e9 + st.mtime.nsec) or nil
end

--- Puts the plugin on 'runtimepath' (as a plugin manager would) and loads its plugin/ file.
function H.add_plugin()
  vim.opt.rtp:prepend(H.plugin_dir)
  vim.cmd.runtime('plugin/tunacode.lua')
end

--- require('tunacode').setup() with the test's server; returns the module.
function H.setup(opts)
  H.add_plugin()
  local tunacode = require('tunacode')
  tunacode.setup(vim.tbl_extend('force', { cmd = H.server_cmd }, opts or {}))
  return tunacode
end

function H.client()
  return clients()[1]
end

function H.wait_ready()
  H.wait('the tunacode client to initialize', function()
    local c = H.client()
    return c and c.initialized
  end)
  H.wait('the first tuna/modelChanged', function()
    return require('tunacode').state() ~= nil
  end)
  return H.client()
end

function H.wait_status(expected)
  local tunacode = require('tunacode')
  local ok = vim.wait(H.TIMEOUT, function()
    return tunacode.status() == expected
  end, 10)
  if not ok then
    H.fail(('status(): expected %q, still %q'):format(expected, tunacode.status()))
  end
  H.log('ok: status() == %q', expected)
end

--- Exits 77 when the server has no tuna/listModels (the catalog), so the driver can say so plainly.
function H.require_catalog()
  local resp = H.client():request_sync('tuna/listModels', { limit = 1 }, H.TIMEOUT)
  if resp and resp.err and resp.err.code == -32601 then
    H.finish(H.EXIT_NO_CATALOG, 'the server has no tuna/listModels yet')
  end
  H.check(resp and resp.result, 'tuna/listModels failed: %s', vim.inspect(resp))
end

--- The folder a scenario starts from (TUNA_START_DIR, a repository with planted modules), as Neovim's current
--- directory: where the user typed `nvim`. Nil when the driver gives none.
function H.enter_start_dir()
  local dir = os.getenv('TUNA_START_DIR')
  if dir then
    vim.cmd.cd(vim.fn.fnameescape(dir))
    H.eq(dir, vim.uv.cwd(), "Neovim's current directory")
  end
  return dir
end

--- The markers planted modules left (TUNA_MARKER_DIR: each planted module writes a file there when imported).
function H.planted_markers()
  local dir = os.getenv('TUNA_MARKER_DIR')
  local found = {}
  for name in vim.fs.dir(assert(dir, 'TUNA_MARKER_DIR not set')) do
    found[#found + 1] = name
  end
  table.sort(found)
  return found
end

--- The tunacode server process of the running client: Neovim's child whose command line names tuna-lsp.
function H.server_pid()
  for _, pid in ipairs(vim.api.nvim_get_proc_children(vim.fn.getpid())) do
    local cmdline = H.read_file(('/proc/%d/cmdline'):format(pid)) or ''
    if cmdline:find('tuna-lsp', 1, true) then
      return pid
    end
  end
end

--- The working directory of the running server (from /proc), checked to be the plugin's own directory,
--- never the folder Neovim started in.
function H.check_server_cwd(start_dir)
  local pid = H.server_pid()
  H.check(pid, 'no tuna-lsp child of Neovim: %s', vim.inspect(vim.api.nvim_get_proc_children(vim.fn.getpid())))
  local cwd = vim.uv.fs_realpath(assert(vim.uv.fs_readlink(('/proc/%d/cwd'):format(pid))))
  local want = vim.uv.fs_realpath(vim.fs.joinpath(vim.fn.stdpath('data'), 'tunacode'))
  H.check(start_dir == nil or cwd ~= vim.uv.fs_realpath(start_dir), 'the server runs in the start folder %s', cwd)
  H.eq(want, cwd, 'the working directory of the server (pid ' .. pid .. ')')
  return pid
end

--- The screen of a terminal buffer (the real tunacode TUI under :TunaTerm), as one string.
function H.screen(buf)
  return table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), '\n')
end

function H.wait_screen(buf, needle, what, timeout)
  H.wait(what or ('the terminal to show %q'):format(needle), function()
    return H.screen(buf):find(needle, 1, true) ~= nil
  end, timeout)
end

--- Types a line into the TUI as a user would: the text, then Enter once the prompt shows it, and Enter again
--- while it stays (tunacode now and then drops an Enter right after it starts).
function H.type_line(job, buf, text)
  vim.fn.chansend(job, text)
  H.wait_screen(buf, text)
  for _ = 1, 3 do
    vim.fn.chansend(job, '\r')
    if vim.wait(1500, function()
      return not H.screen(buf):find(text, 1, true)
    end, 20) then
      return
    end
  end
  H.fail(('the TUI kept %q after three Enters'):format(text))
end

--- :TunaTerm with the real tunacode (TUNA_TUNACODE); returns its terminal once the TUI shows `ready`.
function H.start_tunacode(ready)
  local term = require('tunacode.terminal')
  local n = #term.terms
  vim.cmd('TunaTerm')
  H.wait(':TunaTerm to start tunacode', function()
    return #term.terms > n
  end)
  local t = term.terms[#term.terms]
  H.wait_screen(t.buf, ready, 'the tunacode TUI to show ' .. ready, 90000)
  vim.cmd('stopinsert')
  return t
end

return H
