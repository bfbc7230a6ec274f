-- Defines :TunaModel, :TunaTerm and :TunaInstall at startup, so the plain `vim.lsp.enable('tunacode')` form gets
-- them too.
-- Starts nothing and loads no other module: the server starts with require('tunacode').setup(),
-- vim.lsp.enable or the first command.
if vim.g.loaded_tunacode then
  return
end
vim.g.loaded_tunacode = 1

if vim.fn.has('nvim-0.11') ~= 1 then
  return -- lsp/tunacode.lua and this plugin need vim.lsp.config (Neovim 0.11+)
end

require('tunacode.commands').create()
