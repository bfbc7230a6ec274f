--- :TunaModel usage [days]: `tuna/usage` (PROTOCOL.md section 10) as text in a scratch buffer: save outcomes
--- against the targets (99.9% of saves succeed, a save takes under 100 ms), selections of the global model and
--- the time on each, stale overwrites. The same figures as `tuna-lsp usage`, laid out for reading in a window.
local notify = require('tunacode.notify')
local server = require('tunacode.server')

local M = {}

M.FILETYPE = 'tunacode-usage'
M.TARGET_RATE = 0.999 -- PROTOCOL.md section 10: 99.9% of saves succeed
M.BUDGET_MS = 100 -- and a save takes under 100 ms
M.BAR_WIDTH = 20

--- The buffer last shown (reused by the next :TunaModel usage while it is still there).
M.buf = nil

--- JSON null arrives as nil or vim.NIL: either is "none".
local function present(v)
  return v ~= nil and v ~= vim.NIL
end

--- 7500 -> "2h 5m", as `tuna-lsp usage` writes durations.
function M.duration(seconds)
  local s = math.floor(tonumber(seconds) or 0)
  local days, hours, minutes = math.floor(s / 86400), math.floor(s % 86400 / 3600), math.floor(s % 3600 / 60)
  if days > 0 then
    return ('%dd %dh %dm'):format(days, hours, minutes)
  elseif hours > 0 then
    return ('%dh %dm'):format(hours, minutes)
  end
  return ('%dm %ds'):format(minutes, s % 60)
end

local EIGHTHS = { '', '▏', '▎', '▍', '▌', '▋', '▊', '▉' }

--- A bar of `value / max` of M.BAR_WIDTH cells (in eighths of a cell), padded to that width.
function M.bar(value, max)
  local eighths = (max and max > 0) and math.floor(value / max * M.BAR_WIDTH * 8 + 0.5) or 0
  if value > 0 and eighths == 0 then
    eighths = 1 -- a non-zero figure never looks like nothing
  end
  local s = ('█'):rep(math.floor(eighths / 8)) .. EIGHTHS[eighths % 8 + 1]
  return s .. (' '):rep(math.max(0, M.BAR_WIDTH - vim.fn.strdisplaywidth(s)))
end

local function pad(s, width)
  return s .. (' '):rep(math.max(0, width - vim.fn.strdisplaywidth(s)))
end

--- "a 1, b 2" of a {key: count} map, largest first (then by name), as the server counts them.
local function counts(map)
  local keys = vim.tbl_keys(present(map) and map or {})
  table.sort(keys, function(a, b)
    if map[a] ~= map[b] then
      return map[a] > map[b]
    end
    return a < b
  end)
  return table.concat(
    vim.tbl_map(function(k)
      return ('%s %s'):format(k, tostring(map[k]))
    end, keys),
    ', '
  )
end

--- The Usage object as lines of text.
---@param u table the result of tuna/usage
---@param days? integer the days asked for (nil: the server's default)
---@return string[]
function M.format(u, days)
  local lines = {}
  local function add(s)
    lines[#lines + 1] = s
  end
  local since, till = tostring(u.since or '?'):sub(1, 10), tostring(u['until'] or '?'):sub(1, 10)
  add(('tunacode model usage, %s to %s (UTC, last %s days)'):format(since, till, tostring(days or 30)))
  add('')

  local s = u.saves or {}
  add(
    ('Saves: %d attempts, %d saved, %d unchanged, %d failed'):format(
      s.attempts or 0,
      s.saved or 0,
      s.unchanged or 0,
      s.failed or 0
    )
  )
  -- one row per figure: label, value (right-aligned), its target, and whether it meets it
  local rows = {}
  if present(s.successRate) then
    rows[#rows + 1] = {
      'success rate',
      ('%.2f%%'):format(s.successRate * 100),
      'target 99.9%',
      s.successRate >= M.TARGET_RATE and 'met' or 'BELOW TARGET',
    }
  else
    rows[#rows + 1] = { 'success rate', 'n/a', 'target 99.9%', 'no saved or failed attempts' }
  end
  local l = s.latencyMs
  if present(l) then
    for _, k in ipairs({ 'p50', 'p90', 'p99', 'max' }) do
      local v = tonumber(l[k]) or 0
      rows[#rows + 1] = {
        'latency ' .. k,
        ('%.1f ms'):format(v),
        ('budget %d ms'):format(M.BUDGET_MS),
        v < M.BUDGET_MS and 'within' or 'OVER BUDGET',
      }
    end
  else
    rows[#rows + 1] = { 'latency', 'n/a', ('budget %d ms'):format(M.BUDGET_MS), 'no saved attempts' }
  end
  local widths = { 0, 0, 0 }
  for _, r in ipairs(rows) do
    for i = 1, 3 do
      widths[i] = math.max(widths[i], #r[i])
    end
  end
  for _, r in ipairs(rows) do
    add(
      ('  %s  %s  %s  %s'):format(
        pad(r[1], widths[1]),
        (' '):rep(widths[2] - #r[2]) .. r[2],
        pad(r[3], widths[3]),
        r[4]
      )
    )
  end
  if present(s.failedByReason) and next(s.failedByReason) then
    add(('  %s  %s'):format(pad('failures', widths[1]), counts(s.failedByReason)))
  end

  local function model_width(list)
    local w = 5
    for _, x in ipairs(list) do
      w = math.max(w, vim.fn.strdisplaywidth(tostring(x.model)))
    end
    return w
  end

  add('')
  add('Selections of the global model:')
  local sel = present(u.selections) and u.selections or {}
  local w, top = model_width(sel), 0
  for _, x in ipairs(sel) do
    top = math.max(top, x.count or 0)
  end
  for _, x in ipairs(sel) do
    local n = x.count or 0
    add(('  %s  %5d  %s  (%s)'):format(pad(tostring(x.model), w), n, M.bar(n, top), counts(x.byOrigin)))
  end
  if #sel == 0 then
    add('  none')
  end

  add('')
  add('Time as the global model:')
  local time = present(u.timeOnModel) and u.timeOnModel or {}
  w, top = model_width(time), 0
  for _, x in ipairs(time) do
    top = math.max(top, x.seconds or 0)
  end
  for _, x in ipairs(time) do
    add(('  %s  %10s  %s'):format(pad(tostring(x.model), w), M.duration(x.seconds), M.bar(x.seconds or 0, top)))
  end
  if #time == 0 then
    add('  none')
  end

  local o = present(u.overwrites) and u.overwrites or {}
  add('')
  add(('Stale overwrites: %d caught, %d restored, %d kept'):format(o.caught or 0, o.restored or 0, o.kept or 0))
  if (u.skipped or 0) > 0 then
    add(('Lines skipped (did not parse): %d'):format(u.skipped))
  end
  add('')
  add('q closes, r reloads')
  -- the bar's padding leaves spaces at the end of some lines
  return vim.tbl_map(function(line)
    return (line:gsub('%s+$', ''))
  end, lines)
end

--- Closes the usage window (or, in the last window, wipes the buffer).
local function close(buf)
  local win = vim.fn.bufwinid(buf)
  if win ~= -1 and #vim.api.nvim_tabpage_list_wins(0) > 1 then
    vim.api.nvim_win_close(win, true) -- bufhidden=wipe wipes the buffer
  elseif vim.api.nvim_buf_is_valid(buf) then
    vim.api.nvim_buf_delete(buf, { force = true })
  end
end

--- The scratch buffer (a new one, or the one still shown), filled with `lines`, shown in a split below.
local function show_lines(lines, days)
  local buf = M.buf
  if not (buf and vim.api.nvim_buf_is_valid(buf)) then
    buf = vim.api.nvim_create_buf(false, true) -- unlisted, scratch
    M.buf = buf
    vim.bo[buf].buftype = 'nofile'
    vim.bo[buf].bufhidden = 'wipe'
    vim.bo[buf].swapfile = false
    vim.bo[buf].filetype = M.FILETYPE
    vim.keymap.set('n', 'q', function()
      close(buf)
    end, { buffer = buf, nowait = true, desc = 'tunacode: close the usage' })
  end
  vim.keymap.set('n', 'r', function()
    M.show(days)
  end, { buffer = buf, nowait = true, desc = 'tunacode: reload the usage' })
  vim.bo[buf].modifiable = true
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].modifiable = false
  vim.bo[buf].modified = false
  local win = vim.fn.bufwinid(buf)
  local height = math.min(#lines, math.max(5, math.floor(vim.o.lines / 2)))
  if win == -1 then
    win = vim.api.nvim_open_win(buf, true, { split = 'below', win = -1, height = height })
  else
    vim.api.nvim_set_current_win(win)
    vim.api.nvim_win_set_height(win, height)
  end
  vim.wo[win][0].wrap = false
  vim.wo[win][0].number = false
  vim.wo[win][0].relativenumber = false
  vim.wo[win][0].list = false
  vim.wo[win][0].spell = false
  vim.api.nvim_win_set_cursor(win, { 1, 0 })
  return buf
end

--- The `days` argument as sent: a whole number typed is sent as a number; anything else is sent as typed, so
--- the server's InvalidParams message says what was wrong with it.
function M.days_param(days)
  if days == nil or days == '' then
    return nil
  end
  if type(days) == 'string' and days:match('^%s*[-+]?%d+%s*$') then
    return tonumber(days)
  end
  return days
end

--- Asks the server for the usage of the last `days` days (default 30) and shows it. cb(err, {buf, usage}).
---@param days? integer|string
---@param cb? fun(err: table?, result: {buf: integer, usage: table}?)
function M.show(days, cb)
  cb = cb or function() end
  local d = M.days_param(days)
  server.request('tuna/usage', d ~= nil and { days = d } or nil, function(err, result)
    if err then
      notify.error(err)
      return cb(err)
    end
    local buf = show_lines(M.format(result or {}, d), d)
    cb(nil, { buf = buf, usage = result })
  end)
end

return M
