-- :TunaModel usage (issue 27): two sets and a repeat through the plugin, then the usage in a scratch buffer with
-- those counts; :TunaModel usage 7 takes the days; bad days are the server's InvalidParams message at ERROR level;
-- `q` closes the buffer; <Tab> offers `usage`.
local H = dofile(vim.fs.joinpath(vim.fs.dirname(arg[0]), 'harness.lua'))

local function usage_buf()
  for _, buf in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_valid(buf) and vim.bo[buf].filetype == 'tunacode-usage' then
      return buf
    end
  end
end

local function text(buf)
  return table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), '\n')
end

local function has(buf, needle)
  H.check(text(buf):find(needle, 1, true), 'the usage buffer lacks %q:\n%s', needle, text(buf))
end

H.run(function()
  H.setup()
  H.wait_ready()
  H.wait_status('openai:gpt-4o')

  H.check(
    vim.tbl_contains(vim.fn.getcompletion('TunaModel us', 'cmdline'), 'usage'),
    '<Tab> does not offer usage: %s',
    vim.inspect(vim.fn.getcompletion('TunaModel us', 'cmdline'))
  )
  H.eq({ '7' }, vim.fn.getcompletion('TunaModel usage 7', 'cmdline'), 'completion of the days')

  -- two saves and one unchanged (the model already set)
  for _, m in ipairs({ 'openai:gpt-4.1', 'openai:gpt-4o-mini', 'openai:gpt-4o-mini' }) do
    local mark = #H.notes
    vim.cmd('TunaModel ' .. m)
    H.wait_note(m, vim.log.levels.INFO, mark)
    H.wait_status(m)
  end

  local wins = #vim.api.nvim_tabpage_list_wins(0)
  local mark = #H.notes
  vim.cmd('TunaModel usage')
  local buf
  H.wait('the usage buffer', function()
    buf = usage_buf()
    return buf
  end)
  H.log('usage buffer:\n%s', text(buf))
  H.eq(buf, vim.api.nvim_get_current_buf(), 'the current buffer')
  H.eq(wins + 1, #vim.api.nvim_tabpage_list_wins(0), 'windows (a split)')
  H.eq('nofile', vim.bo[buf].buftype, 'buftype')
  H.eq('wipe', vim.bo[buf].bufhidden, 'bufhidden')
  H.eq(false, vim.bo[buf].buflisted, 'buflisted')
  H.eq(false, vim.bo[buf].modifiable, 'modifiable')
  has(buf, 'last 30 days')
  has(buf, 'Saves: 3 attempts, 2 saved, 1 unchanged, 0 failed')
  local lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
  local function row(needle)
    return vim.iter(lines):find(function(l)
      return l:find(needle, 1, true)
    end)
  end
  local rate, p50, max = row('success rate'), row('latency p50'), row('latency max')
  H.check(rate and rate:match('100%.00%%%s+target 99%.9%%%s+met$'), 'success rate row: %s', tostring(rate))
  -- the latency figures depend on the machine: their columns, and a verdict of the 100 ms budget
  for _, r in ipairs({ p50, row('latency p90'), row('latency p99'), max }) do
    H.check(r and r:match('%d+%.%d ms%s+budget 100 ms%s+[%u%l ]+$'), 'latency row: %s', tostring(r))
    H.eq(rate:find('target', 1, true), r:find('budget', 1, true), 'the target column of ' .. r)
    H.eq(rate:find('%%'), select(2, r:find(' ms')), 'the right edge of the figures in ' .. r)
  end
  -- each model chosen once here, by this editor ("client"), the first of them with the full bar
  for _, m in ipairs({ 'openai:gpt-4.1', 'openai:gpt-4o-mini' }) do
    local sel = vim.iter(lines):find(function(l)
      return vim.startswith(l, '  ' .. m .. ' ')
    end)
    H.check(sel and sel:find('1  ' .. ('█'):rep(20) .. '  (client 1)', 1, true), 'selection row of %s: %s', m, sel)
  end
  has(buf, 'Time as the global model:')
  has(buf, 'Stale overwrites: 0 caught, 0 restored, 0 kept')
  H.check(not H.find_note('', vim.log.levels.ERROR, mark), 'an error: %s', H.notes[#H.notes].msg)

  -- the days: in the header, and the same buffer reused (no second one)
  vim.cmd('TunaModel usage 7')
  H.wait('the usage of 7 days', function()
    return text(buf):find('last 7 days', 1, true)
  end)
  has(buf, '2 saved')
  H.eq(wins + 1, #vim.api.nvim_tabpage_list_wins(0), 'windows after a second :TunaModel usage')

  -- bad days: the server's InvalidParams message, and the buffer left as it was
  for _, bad in ipairs({ '0', '3651', 'abc', '1.5' }) do
    mark = #H.notes
    vim.cmd('TunaModel usage ' .. bad)
    local note = H.wait_note('days must be an integer', vim.log.levels.ERROR, mark)
    H.check(note.msg:find('expected 1 to 3650', 1, true), 'unclear for %s: %s', bad, note.msg)
  end
  has(buf, 'last 7 days')

  -- q closes it (the buffer is wiped)
  vim.api.nvim_feedkeys('q', 'x', false)
  H.wait('q to close the usage', function()
    return not vim.api.nvim_buf_is_valid(buf)
  end)
  H.eq(wins, #vim.api.nvim_tabpage_list_wins(0), 'windows after q')
  H.eq(nil, usage_buf(), 'a usage buffer after q')

  -- the Lua API: the same, with a callback
  local got
  require('tunacode').usage(1, function(err, r)
    got = { err = err, r = r }
  end)
  H.wait('tunacode.usage() to answer', function()
    return got
  end)
  H.eq(nil, got.err, 'tunacode.usage() error')
  H.eq(2, got.r.usage.saves.saved, 'saves.saved')
  H.eq(1, got.r.usage.saves.unchanged, 'saves.unchanged')
  has(got.r.buf, 'last 1 days')
end)
