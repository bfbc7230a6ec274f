--- The statusline text: the effective model and its marks. Reads the state; sends nothing.
local config = require('tunacode.config')
local state = require('tunacode.state')

local M = {}

--- A short string for a statusline: the effective model, marked when it holds for this session or workspace
--- only, when its provider's API key is missing and while a stale overwrite waits; '' while no server runs.
---@param opts? tunacode.StatusOpts
function M.status(opts)
  local s = state.current
  if not s or not s.model then
    return ''
  end
  local o = vim.tbl_extend('force', config.options.status, opts or {})
  if o.format then
    return o.format(vim.deepcopy(s))
  end
  local text = (o.short and s.modelId) or s.model
  if s.scope == 'session' then
    text = text .. (o.session or '')
  elseif s.scope == 'workspace' then
    text = text .. (o.workspace or '')
  end
  if s.apiKey == 'missing' then
    text = text .. (o.missing_key or '')
  end
  if type(s.overwrite) == 'table' and s.overwrite.resolution == 'pending' then
    text = text .. (o.overwrite or '')
  end
  return text
end

return M
