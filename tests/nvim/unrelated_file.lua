-- A large file unrelated to tunacode is opened: the client does not attach to it, no textDocument/didOpen (nor
-- didChange on an edit) for it reaches the server, and the server's memory does not grow by its size. Opening
-- the shared config afterwards does reach the server (its diagnostics come back), and the commands still work.
-- TUNA_BIG_MB sets the size of the unrelated file.
local H = dofile(vim.fs.joinpath(vim.fs.dirname(arg[0]), 'harness.lua'))
local big_mb = tonumber(os.getenv('TUNA_BIG_MB') or '16')

local function rss_kib(pid)
  local status = H.read_file(('/proc/%d/status'):format(pid)) or ''
  return tonumber(status:match('VmRSS:%s*(%d+)'))
end

H.run(function()
  local tunacode = H.setup()
  local client = H.wait_ready()

  -- every notification the client sends, in order (the wire to the server)
  local sent = {}
  local notify = client.rpc.notify
  client.rpc.notify = function(method, params)
    local uri = type(params) == 'table' and params.textDocument and params.textDocument.uri or nil
    sent[#sent + 1] = { method = method, uri = uri }
    return notify(method, params)
  end

  -- the shared config first: its didOpen reaches the server, which loads what config documents need
  vim.cmd.edit(H.config_path)
  local cfg_buf = vim.api.nvim_get_current_buf()
  H.wait('the client to attach to the shared config', function()
    return vim.lsp.buf_is_attached(cfg_buf, client.id)
  end)
  H.wait('the server to answer on the config document', function()
    local r = client:request_sync('textDocument/hover', {
      textDocument = { uri = vim.uri_from_bufnr(cfg_buf) },
      position = { line = 1, character = 24 },
    }, H.TIMEOUT)
    return r and not r.err and r.result
  end)
  local stats = client:request_sync('tuna/stats', vim.empty_dict(), H.TIMEOUT)
  H.check(stats and stats.result and stats.result.pid, 'tuna/stats gave no pid: %s', vim.inspect(stats))
  local pid = stats.result.pid
  local before = rss_kib(pid)

  local big = vim.fs.joinpath(H.home, 'proj', 'data.json')
  vim.fn.mkdir(vim.fs.dirname(big), 'p')
  local line = ('{"id": %d, "text": "' .. ('x'):rep(90) .. '"}\n')
  local f = assert(io.open(big, 'w'))
  for i = 1, big_mb * 1024 * 1024 / 110 do
    f:write(line:format(i))
  end
  f:close()
  local t = vim.uv.hrtime()
  vim.cmd.edit(big)
  local big_buf = vim.api.nvim_get_current_buf()
  local lines = vim.api.nvim_buf_line_count(big_buf)
  H.log('opened %d MiB (%d lines) in %.0f ms', big_mb, lines, (vim.uv.hrtime() - t) / 1e6)
  vim.api.nvim_buf_set_lines(big_buf, 0, 1, false, { '{"id": 0}' }) -- an edit: would be a didChange
  -- an attach is scheduled from the FileType event: let the loop run past it
  local ticked = false
  vim.schedule(function()
    vim.schedule(function()
      ticked = true
    end)
  end)
  H.wait('the event loop past the FileType event of the unrelated file', function()
    return vim.bo[big_buf].filetype == 'json' and ticked
  end)

  -- then an edit of the config document: its didChange follows anything the big file caused, on the same
  -- pipe, and its diagnostics say when the server has handled it
  vim.api.nvim_buf_set_lines(cfg_buf, 0, -1, false, { vim.json.encode({ default_model = 'opnai:gpt-4.1' }) })
  H.wait("the server's diagnostics for the edited config", function()
    return vim.iter(vim.diagnostic.get(cfg_buf)):any(function(d)
      return d.message:find('opnai', 1, true) ~= nil
    end)
  end)
  H.check(not vim.lsp.buf_is_attached(big_buf, client.id), 'the client attached to the unrelated file')
  local big_uri = vim.uri_from_bufnr(big_buf)
  local methods = {}
  for _, n in ipairs(sent) do
    H.check(n.uri ~= big_uri, '%s for the unrelated file reached the server', n.method)
    methods[#methods + 1] = n.method .. (n.uri and (' ' .. vim.fs.basename(vim.uri_to_fname(n.uri))) or '')
  end
  H.log('notifications sent: %s', table.concat(methods, ', '))
  local opened = vim.tbl_contains(methods, 'textDocument/didOpen tunacode.json')
  H.check(opened, 'no didOpen for the config: %s', vim.inspect(methods))

  local after = rss_kib(pid)
  H.log(
    'server RSS: %.1f MiB before, %.1f MiB after a %d MiB unrelated file (%+.1f MiB)',
    before / 1024,
    after / 1024,
    big_mb,
    (after - before) / 1024
  )
  H.check(after - before < big_mb * 1024 / 4, 'the server grew by %.1f MiB', (after - before) / 1024)

  -- the commands still work through the same client, with the config buffer closed too
  vim.cmd('bwipeout! ' .. cfg_buf)
  vim.cmd('TunaModel openai:gpt-4.1 session')
  H.wait_status('openai:gpt-4.1 [session]')
  H.eq(1, #vim.lsp.get_clients({ name = 'tunacode', _uninitialized = true }), 'clients')
  H.eq(client.id, tunacode.get_client().id, 'the command used the same client')
end)
