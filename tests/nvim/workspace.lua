-- The workspace scope (PROTOCOL.md section 3a, issue 13): :TunaModel <model> workspace, status() marks it,
-- the shared config is untouched, :TunaTerm gets --model <workspace model>, a session choice goes over it,
-- :TunaModel clear session|workspace drops each; a bad scope to clear is a clear error.
-- TUNA_WORKSPACE_STEP=set (above, ending with the workspace choice set) or reopen (a new Neovim on the same
-- folder sees it, then clears it).
local H = dofile(vim.fs.joinpath(vim.fs.dirname(arg[0]), 'harness.lua'))
local step = assert(os.getenv('TUNA_WORKSPACE_STEP'), 'TUNA_WORKSPACE_STEP not set')
local args_file = vim.fs.joinpath(H.home, 'cli-args.txt')
local recorder = {
  (assert(os.getenv('TUNA_PYTHON'), 'TUNA_PYTHON not set')),
  '-c',
  'import sys; open(sys.argv[1], "w").write(" ".join(sys.argv[2:]))',
  args_file,
}

local function run_term(expected)
  os.remove(args_file)
  vim.cmd('TunaTerm')
  H.wait('the terminal to record ' .. expected, function()
    return H.read_file(args_file) == expected
  end)
  vim.cmd('stopinsert')
  vim.cmd('bwipeout!')
end

H.run(function()
  local tunacode = H.setup({ cli_cmd = recorder })
  H.wait_ready()
  local folder = assert(vim.uv.cwd())
  if step == 'reopen' then
    H.wait_status('openai:gpt-4.1 [workspace]')
    H.eq(folder, tunacode.state().workspaceFolder, 'workspaceFolder')
    vim.cmd('TunaModel clear workspace')
    H.wait_status('openai:gpt-4o')
    H.eq('global', tunacode.state().scope, 'scope after clearing the workspace choice')
    return
  end
  H.wait_status('openai:gpt-4o')
  local before = H.read_file(H.config_path)
  H.eq(folder, tunacode.state().workspaceFolder, 'workspaceFolder (Neovim\'s working directory)')

  local mark = #H.notes
  vim.cmd('TunaModel openai:gpt-4.1 workspace')
  H.wait_note('openai:gpt-4.1', vim.log.levels.INFO, mark)
  H.wait_status('openai:gpt-4.1 [workspace]')
  local s = tunacode.state()
  H.eq('workspace', s.scope, 'scope')
  H.eq('openai:gpt-4.1', s.workspaceModel, 'workspaceModel')
  H.eq('openai:gpt-4o', s.persistedModel, 'persistedModel')
  H.eq(before, H.read_file(H.config_path), 'the shared config after a workspace set')
  run_term('--model openai:gpt-4.1')

  -- session over workspace; clearing it shows the workspace choice again
  vim.cmd('TunaModel anthropic:claude-sonnet-4-20250514 session')
  H.wait_status('anthropic:claude-sonnet-4-20250514 [session] [no key]')
  vim.cmd('TunaModel clear session')
  H.wait_status('openai:gpt-4.1 [workspace]')

  -- the picker says which scope it writes
  local prompts = {}
  vim.ui.select = function(_, opts, on_choice)
    prompts[#prompts + 1] = opts.prompt
    on_choice(nil)
  end
  vim.cmd('TunaModel workspace')
  H.wait('the workspace picker', function()
    return #prompts == 1
  end)
  H.check(prompts[1]:find('workspace', 1, true), 'picker prompt: %s', prompts[1])

  -- clearing the global choice is not a thing: an error that says what is expected, nothing changed
  mark = #H.notes
  vim.cmd('TunaModel clear global')
  local note = H.wait_note('clear', vim.log.levels.ERROR, mark)
  H.check(note.msg:find('session', 1, true) and note.msg:find('workspace', 1, true), 'unclear: %s', note.msg)
  H.wait_status('openai:gpt-4.1 [workspace]')
  H.eq(before, H.read_file(H.config_path), 'the shared config at the end')
end)
