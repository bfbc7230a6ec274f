-- :checkhealth tunacode: OK for a running server and a valid config; ERROR once the file is not valid JSON.
local H = dofile(vim.fs.joinpath(vim.fs.dirname(arg[0]), 'harness.lua'))

local function health_report()
  vim.cmd('checkhealth tunacode')
  local buf
  H.wait('the checkhealth buffer', function()
    for _, b in ipairs(vim.api.nvim_list_bufs()) do
      if vim.bo[b].filetype == 'checkhealth' then
        local lines = vim.api.nvim_buf_get_lines(b, 0, -1, false)
        if table.concat(lines, '\n'):find('tunacode: CLI', 1, true) or #lines > 30 then
          buf = b
          return true
        end
      end
    end
  end)
  local text = table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), '\n')
  vim.api.nvim_buf_delete(buf, { force = true })
  return text
end

H.run(function()
  H.setup({ autostart = false })
  local text = health_report()
  H.log('report:\n%s', text)
  H.check(text:find('OK server started', 1, true), 'no "OK server started"')
  H.check(text:find('OK ' .. H.config_path .. ' is valid', 1, true), 'config not reported valid')
  H.check(text:find('OK effective model: openai:gpt-4o (scope: global)', 1, true), 'effective model not reported')
  H.check(not text:find('ERROR', 1, true), 'report has an ERROR')

  local f = assert(io.open(H.config_path, 'w'))
  f:write('{"default_model": "openai:gpt-4o", ')
  f:close()
  text = health_report()
  H.log('report with a broken config:\n%s', text)
  H.check(text:find('ERROR ' .. H.config_path .. ' is not valid', 1, true), 'broken config not reported')
end)
