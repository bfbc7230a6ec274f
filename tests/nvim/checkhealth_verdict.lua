-- :checkhealth tunacode reports the server's own verdict on the config, with the server's rules: a
-- recent_models entry that is not a string is valid JSON of the right shape at first sight (what the plugin
-- checked on its own before), but tunacode's schema refuses it, and so does the server.
local H = dofile(vim.fs.joinpath(vim.fs.dirname(arg[0]), 'harness.lua'))

H.run(function()
  H.setup({ autostart = false })
  vim.cmd('checkhealth tunacode')
  local text
  H.wait('the checkhealth report', function()
    for _, b in ipairs(vim.api.nvim_list_bufs()) do
      if vim.bo[b].filetype == 'checkhealth' then
        text = table.concat(vim.api.nvim_buf_get_lines(b, 0, -1, false), '\n')
        return text:find('tunacode: CLI', 1, true)
      end
    end
  end)
  H.log('report:\n%s', text)
  H.check(text:find('ERROR ' .. H.config_path .. ' is not valid', 1, true), 'invalid config not reported')
  H.check(text:find('recent_models[1] must be a non-empty string', 1, true), 'not the server\'s reason')
  H.check(not text:find('is valid (', 1, true), 'reported valid too')
end)
