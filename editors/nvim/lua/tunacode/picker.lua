--- The model picker: vim.ui.select over `tuna/listModels` (paged with `offset`), a search through
--- vim.ui.input when the catalog is larger than the picker shows, and the row format.
local config = require('tunacode.config')
local format = require('tunacode.format')
local model = require('tunacode.model')
local notify = require('tunacode.notify')
local server = require('tunacode.server')

local M = {}

--- One picker row: model, its name, context window and what is special about it.
function M.format_item(item)
  local parts = { item.model }
  if type(item.name) == 'string' and item.name ~= '' then
    parts[#parts + 1] = item.name
  end
  local ctx = format.tokens(item.contextWindow)
  if ctx then
    parts[#parts + 1] = ctx .. ' ctx'
  end
  local marks = {}
  if item.current then
    marks[#marks + 1] = 'current'
  elseif item.recent then
    marks[#marks + 1] = 'recent'
  end
  if item.apiKey == 'missing' then
    marks[#marks + 1] = 'no key'
  end
  if #marks > 0 then
    parts[#parts + 1] = '(' .. table.concat(marks, ', ') .. ')'
  end
  return table.concat(parts, '  ')
end

--- Catalog items, page by page (the server caps one answer at 1000), up to `picker_max`.
---@param query? string
---@param cb fun(err: table?, items: table[]?, total: integer?)
local function fetch_items(query, cb)
  local o = config.options
  local limit = math.max(1, math.min(o.picker_limit, 1000))
  local items, seen = {}, {}
  local function page(offset)
    server.request('tuna/listModels', { limit = limit, query = query, offset = offset }, function(err, result)
      if err then
        return cb(err)
      end
      local added = 0
      for _, item in ipairs(result.items or {}) do
        if type(item.model) == 'string' and not seen[item.model] then
          seen[item.model] = true
          items[#items + 1] = item
          added = added + 1
        end
      end
      local total = tonumber(result.total) or #items
      -- an empty page ends the paging too: the loop is bounded whatever the answer
      if added > 0 and #items < total and #items < o.picker_max then
        return page(#items)
      end
      cb(nil, items, total)
    end)
  end
  page(0)
end

local SEARCH = { search = true }

local function format_choice(item)
  return item.search and item.label or M.format_item(item)
end

local PROMPTS = {
  session = 'tunacode model (this session only)',
  workspace = 'tunacode model (this workspace folder only)',
}

local function prompt_for(scope)
  return PROMPTS[model.SCOPES[scope] or ''] or 'tunacode model'
end

local function select_model(items, scope, prompt)
  vim.ui.select(items, { prompt = prompt, kind = 'tunacode.model', format_item = format_choice }, function(item)
    if not item then
      return
    elseif item.search then
      return M.search(scope)
    end
    model.set(item.model, scope)
  end)
end

--- Asks for a query (vim.ui.input), then picks among the catalog's matches.
---@param scope? string 'global' (default), 'workspace' or 'session'
---@param query? string skips the question
function M.search(scope, query)
  scope = scope or 'global'
  local function run(q)
    if not q or vim.trim(q) == '' then
      return
    end
    fetch_items(q, function(err, items, total)
      if err then
        return notify.error(err)
      elseif #items == 0 then
        return notify.notify(('no model matches %q'):format(q), vim.log.levels.WARN)
      end
      if total > #items then
        items[#items + 1] = vim.tbl_extend('force', SEARCH, {
          label = ('... %d more match %q: search again'):format(total - #items, q),
        })
      end
      select_model(items, scope, ('%s matching %q'):format(prompt_for(scope), q))
    end)
  end
  if query then
    return run(query)
  end
  vim.ui.input({ prompt = 'Search models (provider, id or name): ' }, run)
end

--- vim.ui.select over the catalog (current and recents first), then sets the chosen model. When the catalog
--- is larger than the picker shows, the last entry searches the whole catalog instead.
---@param scope? string 'global' (default), 'workspace' or 'session'
function M.pick(scope)
  scope = scope or 'global'
  fetch_items(nil, function(err, items, total)
    if err then
      return notify.error(err)
    elseif #items == 0 then
      return notify.notify('the server listed no models', vim.log.levels.WARN)
    end
    if total > #items then
      items[#items + 1] = vim.tbl_extend('force', SEARCH, { label = ('... search all %d models'):format(total) })
    end
    select_model(items, scope, prompt_for(scope))
  end)
end

return M
