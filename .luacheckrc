-- luacheck editors/nvim tests/nvim (make lint): the Neovim plugin and its test scenarios, as LuaJIT run by Neovim.
std = 'luajit'
-- vim's fields are assigned (vim.notify, vim.ui.select, vim.o, vim.env, vim.g)
globals = { 'vim' }
max_line_length = 120
-- tests/nvim/*.lua run under `nvim -l`: `arg` is the script's arguments (arg[0] its path)
files['tests/nvim'] = { read_globals = { 'arg' } }
