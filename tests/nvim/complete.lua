-- Command-line completion of :TunaModel: catalog models for a prefix (server query), fuzzy matches, scopes.
local H = dofile(vim.fs.joinpath(vim.fs.dirname(arg[0]), 'harness.lua'))

local function starts_with_all(list, prefix)
  for _, m in ipairs(list) do
    if not vim.startswith(m, prefix) then
      return false
    end
  end
  return true
end

H.run(function()
  H.setup()
  H.wait_ready()
  H.require_catalog()

  local t = vim.uv.hrtime()
  local prefix = vim.fn.getcompletion('TunaModel openai:gpt-4', 'cmdline')
  H.log('completion of openai:gpt-4 took %.1f ms: %s', (vim.uv.hrtime() - t) / 1e6, vim.inspect(prefix))
  H.check(vim.tbl_contains(prefix, 'openai:gpt-4.1'), 'openai:gpt-4.1 not offered for openai:gpt-4')
  H.check(vim.tbl_contains(prefix, 'openai:gpt-4o'), 'openai:gpt-4o not offered for openai:gpt-4')
  H.check(starts_with_all({ unpack(prefix, 1, 2) }, 'openai:gpt-4'), 'best matches do not start with the prefix')

  -- every model of the provider, before the other matches (the same models through other providers)
  local by_provider = vim.fn.getcompletion('TunaModel anthropic:', 'cmdline')
  local n = 0
  while vim.startswith(by_provider[n + 1] or '', 'anthropic:') do
    n = n + 1
  end
  H.check(n >= 5, 'anthropic: gave %s', vim.inspect(by_provider))
  H.check(starts_with_all(vim.list_slice(by_provider, 1, n), 'anthropic:'), 'prefix matches not first')
  H.check(not vim.iter(vim.list_slice(by_provider, n + 1)):any(function(m)
    return vim.startswith(m, 'anthropic:')
  end), 'prefix matches not first: %s', vim.inspect(by_provider))

  -- fuzzy: no model string contains "gpt41", but gpt-4.1 models match it fuzzily
  local fuzzy = vim.fn.getcompletion('TunaModel opengpt41', 'cmdline')
  H.log('fuzzy opengpt41: %s', vim.inspect({ unpack(fuzzy, 1, 5) }))
  H.check(#fuzzy > 0 and vim.iter(fuzzy):any(function(m)
    return m:find('gpt-4.1', 1, true) ~= nil
  end), 'fuzzy opengpt41 gave %s', vim.inspect(fuzzy))

  -- no argument yet: current model first
  local all = vim.fn.getcompletion('TunaModel ', 'cmdline')
  H.eq(require('tunacode').state().model, all[1], 'first completion with no argument')

  H.eq({ 'session' }, vim.fn.getcompletion('TunaModel openai:gpt-4.1 se', 'cmdline'), 'scope completion')
  H.eq(
    { 'default', 'global', 'session', 'workspace' },
    vim.fn.getcompletion('TunaModel openai:gpt-4.1 ', 'cmdline'),
    'scopes'
  )
  H.eq({ 'session', 'workspace' }, vim.fn.getcompletion('TunaModel clear ', 'cmdline'), 'clear scopes')
end)
