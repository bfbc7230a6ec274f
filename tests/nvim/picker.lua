-- :TunaModel with no argument: vim.ui.select over tuna/listModels, current then recents first; choosing sets it.
-- The catalog is larger than one server answer: then the last entry searches it (vim.ui.input, then a select).
-- :TunaModel session picks for this session only; cancelling changes nothing.
local H = dofile(vim.fs.joinpath(vim.fs.dirname(arg[0]), 'harness.lua'))

H.run(function()
  local tunacode = H.setup()
  H.wait_ready()
  H.wait_status('openai:gpt-4o')
  H.require_catalog()
  local total = H.client():request_sync('tuna/listModels', { limit = 1 }, H.TIMEOUT).result.total

  local selects, inputs = {}, {}
  local choose, answer = 'openai:gpt-4.1', nil
  vim.ui.select = function(items, opts, on_choice)
    selects[#selects + 1] = { items = items, opts = opts }
    for _, item in ipairs(items) do
      if item.model == choose then
        return on_choice(item)
      end
    end
    on_choice(items[#items].search and items[#items] or nil)
  end
  vim.ui.input = function(opts, on_confirm)
    inputs[#inputs + 1] = opts
    on_confirm(answer)
  end

  vim.cmd('TunaModel')
  H.wait('vim.ui.select', function()
    return #selects == 1
  end)
  local items, opts = selects[1].items, selects[1].opts
  H.check(#items > 3, 'only %d items', #items)
  H.eq('openai:gpt-4o', items[1].model, 'first item (current)')
  H.check(items[1].current, 'first item not marked current')
  H.eq({ 'openai:gpt-4.1', 'anthropic:claude-sonnet-4-20250514' }, { items[2].model, items[3].model }, 'recents next')
  H.check(opts.format_item(items[1]):find('current', 1, true), 'format_item: %s', opts.format_item(items[1]))
  H.eq('tunacode.model', opts.kind, 'kind')
  local last = items[#items]
  if last.search then
    H.check(opts.format_item(last):find(tostring(total), 1, true), 'search entry: %s', opts.format_item(last))
    H.check(#items - 1 < total, 'search entry although all %d models are listed', total)
  else
    H.eq(total, #items, 'items when the whole catalog is listed')
  end
  H.wait_status('openai:gpt-4.1')
  H.wait('default_model in the file', function()
    return H.read_config().default_model == 'openai:gpt-4.1'
  end)

  -- for the session only, through the search when the model is not in the first list
  selects, choose, answer = {}, 'openai:gpt-4o-mini', 'gpt-4o-mini'
  local before = H.read_file(H.config_path)
  vim.cmd('TunaModel session')
  H.wait_status('openai:gpt-4o-mini [session]')
  for _, sel in ipairs(selects) do
    H.check(sel.opts.prompt:find('session', 1, true), 'prompt: %s', sel.opts.prompt)
  end
  H.log('session pick took %d select(s), %d input(s)', #selects, #inputs)
  H.eq(before, H.read_file(H.config_path), 'config after a session pick')

  -- the search directly
  selects, choose = {}, 'openai:gpt-4.1'
  tunacode.search('global', 'gpt-4.1')
  H.wait('the search select', function()
    return #selects == 1
  end)
  H.check(selects[1].opts.prompt:find('gpt-4.1', 1, true), 'search prompt: %s', selects[1].opts.prompt)
  H.wait_status('openai:gpt-4.1')

  selects, choose = {}, 'no such item'
  vim.cmd('TunaModel')
  H.wait('vim.ui.select (cancelled)', function()
    return #selects == 1
  end)
  H.eq('openai:gpt-4.1', tunacode.status(), 'status after cancel')
end)
