-- The published plugin (issue 28): `git subtree split --prefix editors/nvim` of the repository, as its own
-- repository (TUNA_PACK_SRC, a file:// URL), installed with vim.pack into a clean stdpath('data'), in no clone of
-- tunacode-lsp. The PackChanged hook of doc/tunacode.txt runs :TunaInstall on install: with pip pointed at an
-- empty wheel folder it fails, clearly. Then :TunaInstall with pip pointed (PIP_NO_INDEX, PIP_FIND_LINKS: pip's own
-- configuration, never an option of the plugin) at a folder holding the server's wheel and its dependencies
-- installs `tuna-lsp==<the plugin's version>`, which :TunaModel then starts (no cmd setting) and saves through.
-- The help file's tags are built with :helptags (which fails on a duplicate) and every |link| in it resolves.
-- Environment: TUNA_PACK_SRC, TUNA_EXPECT_VERSION (the server's), TUNA_LSP_CMD (where the install puts it),
-- TUNA_GOOD_FIND_LINKS, TUNA_EMPTY_FIND_LINKS, TUNA_INSTALL_TIMEOUT_MS.
local H = dofile(vim.fs.joinpath(vim.fs.dirname(arg[0]), 'harness.lua'))
local install_timeout = tonumber(os.getenv('TUNA_INSTALL_TIMEOUT_MS') or '240000')
local src = assert(os.getenv('TUNA_PACK_SRC'), 'TUNA_PACK_SRC not set')
local want_version = assert(os.getenv('TUNA_EXPECT_VERSION'), 'TUNA_EXPECT_VERSION not set')
local good_links = assert(os.getenv('TUNA_GOOD_FIND_LINKS'), 'TUNA_GOOD_FIND_LINKS not set')
local empty_links = assert(os.getenv('TUNA_EMPTY_FIND_LINKS'), 'TUNA_EMPTY_FIND_LINKS not set')

--- Waits for the install started after notification `mark` to end; returns the index of its last note.
local function wait_install(mark)
  local done
  H.wait('the install to end', function()
    done = H.find_note('installed ' .. H.server_cmd[1], vim.log.levels.INFO, mark)
      or H.find_note('', vim.log.levels.ERROR, mark)
    return done
  end, install_timeout)
  return done
end

H.run(function()
  local plugin = vim.fs.joinpath(vim.fn.stdpath('data'), 'site', 'pack', 'core', 'opt', 'tunacode.nvim')
  H.check(vim.startswith(plugin, assert(os.getenv('XDG_DATA_HOME'))), 'stdpath data outside the test: %s', plugin)
  H.check(vim.uv.fs_stat(plugin) == nil, 'the plugin is installed already: %s', plugin)
  vim.env.PIP_FIND_LINKS = empty_links -- a package index with nothing in it

  -- the vim.pack form of doc/tunacode.txt (|tunacode-install|), as a user's init.lua has it
  vim.api.nvim_create_autocmd('PackChanged', {
    callback = function(ev)
      local d = ev.data
      if d.spec.name == 'tunacode.nvim' and d.kind ~= 'delete' then
        vim.cmd.packadd('tunacode.nvim') -- not loaded yet while it is installed
        vim.cmd('TunaInstall')
      end
    end,
  })
  local mark = #H.notes
  local t = vim.uv.hrtime()
  vim.pack.add({ src })
  H.log('vim.pack.add took %.1f s', (vim.uv.hrtime() - t) / 1e9)
  H.check(vim.uv.fs_stat(vim.fs.joinpath(plugin, 'lua', 'tunacode', 'init.lua')), 'vim.pack did not install it')
  H.check(not vim.uv.fs_stat(vim.fs.joinpath(plugin, 'editors')), 'the split holds the whole repository')
  H.eq(2, vim.fn.exists(':TunaInstall'), ':TunaInstall defined')
  require('tunacode').setup({ autostart = false })

  -- the plugin knows it is in no clone: it installs its own version from the package index
  local server = require('tunacode.server')
  H.eq(vim.uv.fs_realpath(plugin), vim.uv.fs_realpath(server.plugin_root()), 'the plugin the runtime loaded')
  H.eq(nil, server.clone_root(), 'clone_root() of the published plugin')
  H.eq(want_version, require('tunacode.version'), "the plugin's version")
  H.eq('tuna-lsp==' .. want_version, require('tunacode.install').source().spec, 'what pip installs')
  for _, c in ipairs(server.candidates()) do
    H.check(not c.where:find('clone', 1, true), 'discovery looks in a clone: %s', c.path)
  end

  -- the hook's :TunaInstall, with nothing to install from: a clear error, naming the version and pip's settings
  local done = wait_install(mark)
  H.wait('no install under way', function()
    return not require('tunacode.install').running()
  end)
  local err = H.find_note('', vim.log.levels.ERROR, mark)
  H.check(err, 'the install with an empty index did not fail: %s', H.notes[done].msg)
  local msg = H.notes[err].msg
  local says = { 'pip install tuna-lsp==' .. want_version .. ' failed', 'No matching distribution', 'PIP_INDEX_URL' }
  vim.list_extend(says, { 'PIP_FIND_LINKS', 'pip.conf', 'run :TunaInstall again', 'setup({ cmd = ' })
  for _, needle in ipairs(says) do
    H.check(msg:find(needle, 1, true), 'the failure does not say %q: %s', needle, msg)
  end
  local progress = 'installing the server from the package index (tuna-lsp==' .. want_version
  H.check(H.find_note(progress, vim.log.levels.INFO, mark), 'no progress message naming the version')
  -- one install, however often the hook fired (this vim.pack sends `update`, then `install`): a second
  -- :TunaInstall joins the one under way, never runs a second pip in the same venv
  local errors = vim.tbl_filter(function(n)
    return n.level == vim.log.levels.ERROR
  end, vim.list_slice(H.notes, mark + 1))
  H.eq(1, #errors, 'errors of the first install')

  -- pip configured with a folder holding the server's wheel: :TunaInstall installs that version
  vim.env.PIP_FIND_LINKS = good_links
  mark = #H.notes
  t = vim.uv.hrtime()
  vim.cmd('TunaInstall')
  done = wait_install(mark)
  H.check(not H.find_note('', vim.log.levels.ERROR, mark), 'install failed: %s', H.notes[done].msg)
  H.log('install took %.1f s', (vim.uv.hrtime() - t) / 1e9)
  H.check(not H.find_note('creating a virtual environment', nil, mark), 'the second install created the venv again')
  local exe = H.server_cmd[1]
  H.eq(vim.fs.joinpath(server.venv_dir(), 'bin', 'tuna-lsp'), exe, 'where :TunaInstall put the server')
  local res = vim.system({ exe, '--version' }, { text = true }):wait(30000)
  H.eq('tuna-lsp ' .. want_version, vim.trim(res.stdout or ''), 'tuna-lsp --version of the installed server')

  mark = #H.notes
  vim.cmd('TunaModel openai:gpt-4.1')
  H.wait_note('openai:gpt-4.1', vim.log.levels.INFO, mark)
  H.eq(exe, H.client().config.cmd[1], 'the server the plugin started')
  H.eq('openai:gpt-4.1', H.read_config().default_model, 'default_model')
  H.wait_status('openai:gpt-4.1')

  -- :help tunacode: the tags build (a duplicate is an error) and every |link| of the help file resolves
  local doc = vim.fs.joinpath(plugin, 'doc')
  vim.cmd.helptags(vim.fn.fnameescape(doc))
  local tags = {}
  local function read_tags(path)
    for line in io.lines(path) do
      tags[line:match('^[^\t]+')] = path
    end
  end
  read_tags(vim.fs.joinpath(doc, 'tags'))
  local text = assert(H.read_file(vim.fs.joinpath(doc, 'tunacode.txt')))
  local defined = {}
  for tag in text:gmatch('%*([^%*%s|]+)%*') do
    defined[tag] = vim.fs.joinpath(doc, 'tags')
  end
  H.eq(defined, tags, 'the tags :helptags made, against the *tags* of tunacode.txt')
  for _, path in ipairs(vim.api.nvim_get_runtime_file('doc/tags', true)) do -- Neovim's own, for its links
    read_tags(path)
  end
  for _, tag in ipairs({ 'tunacode.txt', 'tunacode-install', ':TunaInstall', ':TunaModel', 'tunacode-server' }) do
    H.check(tags[tag], 'no help tag %s', tag)
  end
  for link in text:gmatch('|([^|%s]+)|') do
    H.check(tags[link], 'the help link |%s| goes nowhere', link)
  end
  vim.cmd.help('tunacode-install')
  local shown = vim.api.nvim_buf_get_name(0)
  H.check(shown == vim.fs.joinpath(doc, 'tunacode.txt'), ':help tunacode-install opened %s', shown)
  local line = vim.api.nvim_get_current_line()
  H.check(line:find('*tunacode-install*', 1, true), ':help tunacode-install landed on %q', line)

  -- the next release of the plugin (refs/heads/next: version 9.9.9) through vim.pack.update: the hook's
  -- :TunaInstall asks pip for the new version, read from the updated file (package.loaded holds the old one)
  local bare = vim.uri_to_fname(src)
  res = vim.system({ 'git', '--git-dir', bare, 'update-ref', 'HEAD', 'refs/heads/next' }, { text = true }):wait(30000)
  H.eq(0, res.code, 'git update-ref in the published repository: ' .. tostring(res.stderr))
  mark = #H.notes
  vim.pack.update({ 'tunacode.nvim' }, { force = true })
  wait_install(mark)
  H.wait('no install under way', function()
    return not require('tunacode.install').running()
  end)
  H.eq(want_version, require('tunacode.version'), 'the version module loaded before the update')
  err = H.find_note('pip install tuna-lsp==9.9.9 failed', vim.log.levels.ERROR, mark)
  H.check(err, 'the update did not ask pip for tuna-lsp==9.9.9')
end)
