-- Opening the shared config shows the server's diagnostics in vim.diagnostic.get(): an unknown provider
-- (with its did-you-mean) and a settings type tunacode refuses; fixing the buffer clears them.
local H = dofile(vim.fs.joinpath(vim.fs.dirname(arg[0]), 'harness.lua'))

H.run(function()
  H.setup()
  H.wait_ready()
  vim.cmd.edit(H.config_path)
  local buf = vim.api.nvim_get_current_buf()
  local function diags()
    return vim.diagnostic.get(buf)
  end
  H.check(vim.wait(H.TIMEOUT, function()
    return #diags() >= 2
  end, 10), 'no diagnostics for %s: %s', H.config_path, vim.inspect(diags()))
  local messages = vim.tbl_map(function(d)
    return d.message
  end, diags())
  local text = table.concat(messages, '\n')
  H.check(text:find("did you mean 'openai'", 1, true), 'no did-you-mean in %s', text)
  H.check(text:find('settings.max_retries must be an integer', 1, true), 'no schema error in %s', text)
  for _, d in ipairs(diags()) do
    H.eq('tunacode', d.source, 'diagnostic source')
  end
  -- fix the buffer: the diagnostics go away (didChange -> publishDiagnostics)
  local fixed = vim.json.encode({ default_model = 'openai:gpt-4.1', env = { OPENAI_API_KEY = 'sk-nvim' } })
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, { fixed })
  H.check(vim.wait(H.TIMEOUT, function()
    return #diags() == 0
  end, 10), 'diagnostics left after the fix: %s', vim.inspect(diags()))
end)
