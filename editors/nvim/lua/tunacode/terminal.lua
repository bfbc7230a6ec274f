--- :TunaTerm: terminals running `tunacode --model <effective model>`.
local config = require('tunacode.config')
local notify = require('tunacode.notify')
local server = require('tunacode.server')
local state = require('tunacode.state')

local M = {}

local function open_window()
  local pos = config.options.term_position
  if pos == 'vsplit' then
    vim.cmd('vertical new')
  elseif pos == 'tab' then
    vim.cmd('tabnew')
  elseif pos == 'current' then
    vim.cmd('enew')
  else
    vim.cmd('botright new')
  end
end

--- Opens a terminal running `tunacode --model <effective model>`, so a session-only choice reaches the CLI
--- session started from here. Extra args are appended. cb(err, {buf, job, cmd}).
---@param args? string[]
function M.open(args, cb)
  cb = cb or function() end
  local cli = config.as_list(config.options.cli_cmd) or { 'tunacode' }
  if vim.fn.executable(cli[1]) ~= 1 then
    notify.notify(
      (
        '%q is not executable: install the tunacode CLI (pip install tunacode-cli) or set cli_cmd in '
        .. 'require("tunacode").setup()'
      ):format(cli[1]),
      vim.log.levels.ERROR
    )
    return cb('not executable')
  end
  server.request('tuna/getModel', nil, function(err, s)
    if err then
      notify.error(err)
      return cb(err)
    end
    state.set(s)
    local cmd = vim.list_extend(vim.list_extend(cli, { '--model', s.model }), args or {})
    open_window()
    local buf = vim.api.nvim_get_current_buf()
    local ok, job = pcall(vim.fn.jobstart, cmd, { term = true })
    if not ok or job <= 0 then
      notify.notify('could not start ' .. table.concat(cmd, ' ') .. ': ' .. tostring(job), vim.log.levels.ERROR)
      return cb('jobstart failed')
    end
    vim.cmd.startinsert()
    cb(nil, { buf = buf, job = job, cmd = cmd })
  end)
end

return M
