-- :TunaTerm runs the CLI command with --model <effective model> (a session choice included) in a terminal,
-- and says clearly when the CLI is not installed. The "CLI" here is TUNA_PYTHON recording its arguments.
local H = dofile(vim.fs.joinpath(vim.fs.dirname(arg[0]), 'harness.lua'))
local args_file = vim.fs.joinpath(H.home, 'cli-args.txt')
local recorder = {
  (assert(os.getenv('TUNA_PYTHON'), 'TUNA_PYTHON not set')),
  '-c',
  'import sys; open(sys.argv[1], "w").write(" ".join(sys.argv[2:]))',
  args_file,
}

local function run_term(expected)
  os.remove(args_file)
  local wins = #vim.api.nvim_list_wins()
  vim.cmd('TunaTerm')
  H.wait('the terminal to record ' .. expected, function()
    return H.read_file(args_file) == expected
  end)
  H.eq(wins + 1, #vim.api.nvim_list_wins(), 'windows after :TunaTerm')
  H.eq('terminal', vim.bo.buftype, 'buftype of the new window')
  vim.cmd('stopinsert')
  vim.cmd('bwipeout!')
end

H.run(function()
  local tunacode = H.setup({ cli_cmd = recorder })
  H.wait_ready()
  H.wait_status('openai:gpt-4o')
  run_term('--model openai:gpt-4o')

  vim.cmd('TunaModel openai:gpt-4.1 session')
  H.wait_status('openai:gpt-4.1 [session]')
  run_term('--model openai:gpt-4.1')

  tunacode.options.cli_cmd = { 'tunacode-not-installed' }
  local mark, wins = #H.notes, #vim.api.nvim_list_wins()
  vim.cmd('TunaTerm')
  local note = H.wait_note('tunacode-not-installed', vim.log.levels.ERROR, mark)
  H.check(note.msg:find('not executable', 1, true), 'unclear error: %s', note.msg)
  H.eq(wins, #vim.api.nvim_list_wins(), 'windows after a failed :TunaTerm')
end)
