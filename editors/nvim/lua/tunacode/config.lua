--- The options of require('tunacode').setup(): their defaults and how user options merge over them.
--- Owns the options table every other module reads; reads no files and starts nothing.
local M = {}

---@class tunacode.StatusOpts
---@field session? string appended when the model is set for this session only
---@field workspace? string appended when the model is this workspace folder's choice
---@field overwrite? string appended while a stale overwrite of the shared config waits for an answer
---@field missing_key? string appended when the provider's API key is missing
---@field short? boolean show the model id without its provider
---@field format? fun(state: table): string replaces the whole formatting

---@class tunacode.Opts
---@field cmd? string|string[]|function server command; default: found as doc/tunacode.txt |tunacode-server| says
---@field cmd_env? table<string, string> extra environment for the server
---@field config_path? string the shared config (initializationOptions.configPath); default: the server's choice
---@field cli_cmd? string|string[] the tunacode CLI for :TunaTerm; `--model <model>` is appended
---@field autostart? boolean start the server at setup, with no file open (default true)
---@field attach? boolean attach the client to the config documents, via vim.lsp.enable (default true)
---@field picker_limit? integer catalog entries per request to the server (1..1000)
---@field picker_max? integer most entries the picker shows
---@field timeout_ms? integer how long commands wait for the server to start
---@field complete_timeout_ms? integer how long command-line completion waits for the server
---@field term_position? 'split'|'vsplit'|'tab'|'current' where :TunaTerm opens its terminal
---@field status? tunacode.StatusOpts
---@field cli? {follow?: 'ask'|'always'|'never'} whether :TunaTerm's terminals follow a global change made
---  through tuna-lsp (default 'ask': Switch / Always / Never)
---@field stale_overwrite? 'ask'|'restore'|'accept' what the server does when a running tunacode writes back a
---  stale copy of the config (initializationOptions.staleOverwrite; default: the server's, 'ask')
---@field python? string|string[] the Python 3.11+ :TunaInstall builds the server's venv with, a path or a command
---  such as { 'py', '-3.12' } (default: found on PATH)
M.defaults = {
  cmd = nil,
  cmd_env = nil,
  config_path = nil,
  cli_cmd = { 'tunacode' },
  autostart = true,
  attach = true,
  picker_limit = 1000,
  picker_max = 10000,
  timeout_ms = 10000,
  complete_timeout_ms = 2000,
  term_position = 'split',
  status = {
    session = ' [session]',
    workspace = ' [workspace]',
    missing_key = ' [no key]',
    overwrite = ' [overwritten]',
    short = false,
  },
  cli = { follow = nil }, -- nil: the answer remembered from Always / Never, else 'ask'
  stale_overwrite = nil,
  python = nil,
}

---@type tunacode.Opts
M.options = vim.deepcopy(M.defaults)

--- Merges `opts` over the defaults; lists (commands) replace, never merge element by element.
---@param opts? tunacode.Opts
---@return tunacode.Opts
function M.apply(opts)
  local o = vim.tbl_deep_extend('force', vim.deepcopy(M.defaults), opts or {})
  for _, key in ipairs({ 'cli_cmd', 'cmd', 'python' }) do
    if opts and opts[key] ~= nil then
      o[key] = opts[key]
    end
  end
  M.options = o
  return o
end

--- A string or a list as a new list (nil stays nil).
function M.as_list(v)
  if v == nil then
    return nil
  end
  return type(v) == 'table' and vim.deepcopy(v) or { v }
end

return M
