-- Issue 24 item 6: a state whose model is not a section 2 model string ("openai:gpt\r!touch FILE\r": tunacode
-- runs a `!cmd` line as a shell command) is never typed into a :TunaTerm terminal, nor put on its command line:
-- a warning says what was refused and why. A good global change is still typed. The "CLI" here is TUNA_PYTHON
-- reading its prompt line by line, recording each line and running `!` lines in a shell, as tunacode does.
local H = dofile(vim.fs.joinpath(vim.fs.dirname(arg[0]), 'harness.lua'))
local lines_file = vim.fs.joinpath(H.home, 'cli-lines.txt')
local pwned = vim.fs.joinpath(H.home, 'pwned')
local fake_cli = {
  (assert(os.getenv('TUNA_PYTHON'), 'TUNA_PYTHON not set')),
  '-c',
  table.concat({
    'import subprocess, sys',
    'out = open(sys.argv[1], "a", buffering=1)',
    'print("fake-tunacode ready", flush=True)',
    'while True:',
    '    line = sys.stdin.readline()',
    '    if not line: break',
    '    out.write(line)',
    '    if line.startswith("!"): subprocess.run(line[1:], shell=True)',
  }, '\n'),
  lines_file,
}
local bad = 'openai:gpt\r!touch ' .. pwned .. '\r'

--- The client's tuna/modelChanged handler given a state as the server would send it.
local function deliver(model)
  local client = H.client()
  local s = vim.deepcopy(require('tunacode').state())
  s.model, s.persistedModel, s.scope, s.viaEditor, s.origin = model, model, 'global', true, 'external'
  client.handlers['tuna/modelChanged'](nil, s, { client_id = client.id, method = 'tuna/modelChanged' })
end

H.run(function()
  local tunacode = H.setup({ cli_cmd = fake_cli, cli = { follow = 'always' } })
  H.wait_ready()
  H.wait_status('openai:gpt-4o')
  local terminal = require('tunacode.terminal')
  vim.cmd('TunaTerm')
  H.wait(':TunaTerm to start the CLI', function()
    return #terminal.terms == 1
  end)
  local t = terminal.terms[1]
  H.wait_screen(t.buf, 'fake-tunacode ready')
  vim.cmd('stopinsert')

  -- the bad model, from a notification, then a good global change: the good one is typed, and once its line
  -- reached the CLI anything typed before it has too (no waiting for something not to happen)
  local mark = #H.notes
  deliver(bad)
  vim.cmd('TunaModel openai:gpt-4.1')
  H.wait('the CLI to read /model openai:gpt-4.1', function()
    return (H.read_file(lines_file) or ''):find('/model openai:gpt-4.1\n', 1, true)
  end)
  local lines = H.read_file(lines_file)
  H.check(vim.uv.fs_stat(pwned) == nil, 'the command in the model string ran: %s exists', pwned)
  H.check(not lines:find('!touch', 1, true) and not lines:find('/model openai:gpt\n', 1, true), 'typed: %q', lines)
  H.eq({ { job = t.job, model = 'openai:gpt-4.1' } }, terminal.typed, 'lines typed')
  local note = H.notes[H.find_note('refused to type /model', vim.log.levels.WARN, mark) or 0]
  H.check(note, 'no warning about the refused model')
  H.check(note.msg:find(vim.inspect(bad), 1, true), 'the warning does not show the refused model: %s', note.msg)

  -- type_model itself refuses too (the last gate before chansend)
  mark = #H.notes
  H.eq(false, terminal.type_model(t, bad), 'type_model of the bad model')
  H.wait_note('refused to type /model', vim.log.levels.WARN, mark)
  H.eq(1, #terminal.typed, 'lines typed after type_model refused')

  -- :TunaTerm never puts a bad model on tunacode's command line
  local server = require('tunacode.server')
  local request = server.request
  server.request = function(method, params, cb)
    if method ~= 'tuna/getModel' then
      return request(method, params, cb)
    end
    request(method, params, function(err, s)
      if s then
        s.model = bad
      end
      cb(err, s)
    end)
  end
  mark = #H.notes
  local wins = #vim.api.nvim_list_wins()
  vim.cmd('TunaTerm')
  note = H.wait_note('refused to start tunacode with --model', vim.log.levels.WARN, mark)
  H.check(note.msg:find(vim.inspect(bad), 1, true), 'the warning does not show the refused model: %s', note.msg)
  server.request = request
  H.eq(wins, #vim.api.nvim_list_wins(), 'windows after a refused :TunaTerm')
  H.eq(1, #terminal.terms, 'terminals after a refused :TunaTerm')
  H.check(vim.uv.fs_stat(pwned) == nil, '%s exists', pwned)
  H.eq('openai:gpt-4.1', tunacode.state().persistedModel, 'the global model')
end)
