-- The plugin writes token counts by the one rule the server and VS Code follow (tests/data/token_counts.json).
-- No server: the formatter alone, on every case of the rule.
vim.opt.rtp:prepend(assert(os.getenv('TUNA_PLUGIN_DIR')))
local format = require('tunacode.format')
local data = vim.fs.joinpath(vim.fs.dirname(arg[0]), '..', 'data', 'token_counts.json')
local cases = vim.json.decode(table.concat(vim.fn.readfile(data), '\n')).cases
local wrong = {}
for _, case in ipairs(cases) do
  local got = format.tokens(case[1])
  if got ~= case[2] then
    wrong[#wrong + 1] = ('%d gave %s, the rule says %s'):format(case[1], tostring(got), case[2])
  end
end
assert(format.tokens(nil) == nil and format.tokens('8k') == nil, 'not a number: no text')
if #wrong > 0 then
  io.stderr:write(table.concat(wrong, '\n') .. '\n')
  os.exit(1)
end
print(('%d token counts as the rule says'):format(#cases))
