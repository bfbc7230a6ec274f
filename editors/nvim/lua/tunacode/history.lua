--- :TunaModel! : the newest model changes (`tuna/history`), shown as one notification.
local notify = require('tunacode.notify')
local server = require('tunacode.server')

local M = {}

local function format_ts(ts)
  if type(ts) == 'number' then
    return os.date('%Y-%m-%d %H:%M:%S', ts > 1e11 and math.floor(ts / 1000) or math.floor(ts))
  end
  return (tostring(ts or '?'):gsub('T', ' '):gsub('%.%d+', ''))
end

--- One line per entry: when, previous -> model, and who (scope, origin, client).
function M.format(entries)
  local lines = { 'model history, newest first:' }
  for _, e in ipairs(entries) do
    local prev = type(e.previous) == 'string' and e.previous or '-'
    local who = vim.tbl_filter(function(x)
      return type(x) == 'string' and x ~= ''
    end, { e.scope, e.origin, e.client })
    lines[#lines + 1] = ('%s  %s -> %s  (%s)'):format(format_ts(e.ts), prev, tostring(e.model), table.concat(who, ', '))
  end
  return table.concat(lines, '\n')
end

--- Shows the newest model changes.
function M.show(limit)
  server.request('tuna/history', { limit = limit or 20 }, function(err, result)
    if err then
      return notify.error(err)
    end
    local entries = result and result.entries or {}
    if #entries == 0 then
      return notify.notify('no model changes recorded yet')
    end
    notify.notify(M.format(entries))
  end)
end

return M
