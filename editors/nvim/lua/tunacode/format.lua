--- Text for people, written the same way as the server (wire.tokens) and VS Code (formatTokenCount): the rule and
--- its cases are tests/data/token_counts.json.
local M = {}

--- A token count as people say it: 8.19k, 128k, 1M, 1.05M. Three significant digits rounded half up, in whole
--- numbers (exact in LuaJIT's doubles far past any context window), so every language rounds alike.
---@param n any
---@return string|nil
function M.tokens(n)
  if type(n) ~= 'number' or n ~= n or n < 0 or n == math.huge then
    return nil
  end
  n = math.floor(n)
  if n < 1000 then
    return ('%d'):format(n)
  end
  local unit, suffix = 1000, 'k'
  if n >= 999500 then
    unit, suffix = 1000000, 'M'
  end
  local places = n < 10 * unit and 2 or (n < 100 * unit and 1 or 0)
  local scale = 10 ^ places
  local scaled = math.floor((n * scale * 2 + unit) / (2 * unit))
  local whole = math.floor(scaled / scale)
  if places == 0 then
    return ('%d'):format(whole) .. suffix
  end
  local text = ('%d.%0' .. places .. 'd'):format(whole, scaled - whole * scale)
  text = text:gsub('0+$', ''):gsub('%.$', '')
  return text .. suffix
end

return M
