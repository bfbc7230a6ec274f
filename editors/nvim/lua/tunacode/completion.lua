--- Command-line completion for :TunaModel: model strings from the server's catalog (`tuna/listModels`),
--- fuzzy matches over it, and the scope and sub-command words (clear, restore, usage, history).
--- Synchronous, as command-line completion must be.
local config = require('tunacode.config')
local server = require('tunacode.server')
local state = require('tunacode.state')

local M = {}

--- Model strings for fuzzy matching (the catalog's first answer, and one answer per typed prefix), per client.
local cache = { client_id = nil, models = nil, by_prefix = nil }

--- The current model and the recent ones, from the last state: what completion offers without a server.
local function known_models()
  local s = state.current or {}
  local out = {}
  for _, m in ipairs(vim.list_extend({ s.model }, s.recentModels or {})) do
    if type(m) == 'string' and not vim.tbl_contains(out, m) then
      out[#out + 1] = m
    end
  end
  return out
end

--- Model strings for a command-line argument: the server's matches first (tuna/listModels query),
--- then fuzzy matches over the whole catalog.
---@param arglead string
---@return string[]
function M.models(arglead)
  local client = server.wait_client(config.options.complete_timeout_ms)
  if not client then
    local known = known_models()
    return arglead == '' and known or vim.fn.matchfuzzy(known, arglead)
  end
  local t = config.options.complete_timeout_ms
  local out, seen = {}, {}
  local function add(m)
    if type(m) == 'string' and not seen[m] then
      seen[m] = true
      out[#out + 1] = m
    end
  end
  ---@return table[]?
  local function list(params)
    local resp = client:request_sync('tuna/listModels', params, t)
    if not resp or resp.err then
      return nil
    end
    return resp.result and resp.result.items or {}
  end

  local items = list({ limit = 100, query = arglead ~= '' and arglead or nil })
  if not items then
    return {}
  end
  -- "provider:rest": that provider's models, which the relevance ranking above may have pushed back.
  local provider, rest = arglead:match('^([%w._-]+):(.*)$')
  if provider then
    vim.list_extend(items, list({ limit = 100, provider = provider:lower(), query = rest ~= '' and rest or nil }) or {})
  end
  -- The server ranks by relevance over model, provider and name; the command line reads left to right, so
  -- what starts with the typed text comes first, otherwise the server's order stands.
  for _, item in ipairs(items) do
    if type(item.model) == 'string' and vim.startswith(item.model, arglead) then
      add(item.model)
    end
  end
  for _, item in ipairs(items) do
    add(item.model)
  end

  -- Fuzzy ("gpt41" for gpt-4.1): the server matches substrings only, so match fuzzily here over the models
  -- that share the first characters typed (and the start of the catalog), one request per such prefix.
  if arglead ~= '' and #out < 20 then
    if cache.client_id ~= client.id then
      cache.client_id, cache.models, cache.by_prefix = client.id, {}, {}
      for _, i in ipairs(list({ limit = 1000 }) or {}) do
        cache.models[#cache.models + 1] = i.model
      end
    end
    local head = arglead:sub(1, 3):lower()
    if not cache.by_prefix[head] then
      cache.by_prefix[head] = vim.tbl_map(function(i)
        return i.model
      end, list({ limit = 1000, query = head }) or {})
    end
    local pool = vim.list_extend(vim.list_slice(cache.by_prefix[head]), cache.models)
    for _, m in ipairs(vim.fn.matchfuzzy(pool, arglead, { limit = 50 })) do
      add(m)
    end
  end
  return out
end

local function starting_with(words, arglead)
  return vim.tbl_filter(function(s)
    return vim.startswith(s, arglead)
  end, words)
end

--- :TunaModel completion: model names (and the sub-commands) for the first argument, scopes for the second.
function M.tuna_model(arglead, cmdline, cursorpos)
  local before = cmdline:sub(1, cursorpos)
  local args = vim.split(vim.trim((before:gsub('^%s*%S+', '', 1))), '%s+', { trimempty = true })
  local index = #args + ((before:match('%s$') and 1) or 0)
  if index <= 1 then
    local out = M.models(arglead)
    if arglead ~= '' then
      local words = { 'restore', 'clear', 'usage', 'history', 'workspace', 'session' }
      for _, word in ipairs(starting_with(words, arglead)) do
        table.insert(out, 1, word)
      end
    end
    return out
  elseif index == 2 and args[1] == 'clear' then
    return starting_with({ 'session', 'workspace' }, arglead)
  elseif index == 2 and args[1] == 'usage' then
    return starting_with({ '7', '30', '90', '365' }, arglead) -- days
  elseif index == 2 then
    return starting_with({ 'default', 'global', 'session', 'workspace' }, arglead)
  end
  return {}
end

return M
