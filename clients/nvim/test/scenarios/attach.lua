-- The plugin attaches the real server to a file buffer, negotiates the opt-in capabilities, its
-- code actions show in the standard code action request, and the help tags are valid.
local H = require('helpers')

H.run(function()
  local buf, client = H.open('main.py')
  H.eq(client.name, 'codebench', 'client name')
  -- Neovim 0.10 offers only utf-16; 0.11 offers utf-8 first.
  local default = vim.fn.has('nvim-0.11') == 1 and 'utf-8' or 'utf-16'
  H.eq(client.offset_encoding, H.params.expectEncoding or default, 'negotiated position encoding')
  H.eq(client.root_dir, H.root, 'root_dir')
  local caps = client.server_capabilities or {}
  H.ok(
    caps.executeCommandProvider and vim.tbl_contains(caps.executeCommandProvider.commands, 'codebench.ask'),
    'codebench.ask among the commands'
  )
  H.eq(vim.fn.exists(':Codebench'), 2, ':Codebench exists')
  H.eq(require('codebench').status(), '', 'status() when idle')

  -- A second file of the same workspace shares the client.
  vim.cmd.edit(vim.fn.fnameescape(H.root .. '/other.py'))
  local other = vim.api.nvim_get_current_buf()
  H.wait(10000, function()
    return vim.lsp.get_clients({ name = 'codebench', bufnr = other })[1]
  end, 'other.py to attach')
  H.eq(#vim.lsp.get_clients({ name = 'codebench' }), 1, 'one client per workspace')

  -- A scratch buffer (like the chat panel) is not attached.
  local scratch = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_set_current_buf(scratch)
  vim.bo[scratch].filetype = 'markdown'
  vim.wait(200)
  H.eq(#vim.lsp.get_clients({ name = 'codebench', bufnr = scratch }), 0, 'scratch buffer not attached')

  -- Code actions, as vim.lsp.buf.code_action() requests them.
  vim.api.nvim_set_current_buf(buf)
  local params = vim.lsp.util.make_range_params(0, client.offset_encoding)
  params.context = { diagnostics = {} }
  local responses = vim.lsp.buf_request_sync(buf, 'textDocument/codeAction', params, 10000) or {}
  local titles = {}
  for _, response in pairs(responses) do
    for _, action in ipairs(response.result or {}) do
      table.insert(titles, action.title)
    end
  end
  H.log('code actions:', titles)
  H.ok(vim.tbl_contains(titles, 'Agent: explain this code'), '"Agent: explain this code" among the code actions')

  -- A characterwise visual selection after multi-byte text becomes the right LSP range.
  vim.cmd.edit(vim.fn.fnameescape(H.root .. '/values.py'))
  local values = vim.api.nvim_get_current_buf()
  local line = vim.api.nvim_buf_get_lines(values, 1, 2, false)[1]
  vim.api.nvim_win_set_cursor(0, { 2, assert(line:find('café', 1, true)) - 1 })
  H.feed('v3l<Esc>') -- selects "café"
  local ask = require('codebench.ask')
  local command = { range = 2, line1 = 2, line2 = 2 }
  H.eq(ask.command_range(values, command, 'utf-16'), {
    start = { line = 1, character = 9 },
    ['end'] = { line = 1, character = 13 },
  }, 'visual range in utf-16')
  H.eq(ask.command_range(values, command, 'utf-8'), {
    start = { line = 1, character = 10 },
    ['end'] = { line = 1, character = 15 },
  }, 'visual range in utf-8')
  vim.api.nvim_win_set_cursor(0, { 1, 0 })
  H.eq(ask.command_range(values, nil, 'utf-32'), {
    start = { line = 0, character = 0 },
    ['end'] = { line = 0, character = #vim.fn.split(vim.api.nvim_buf_get_lines(values, 0, 1, false)[1], '\\zs') },
  }, 'cursor line range in utf-32')

  -- The help file's tags are valid (helptags fails on duplicates and bad tags).
  local doc = vim.fn.tempname()
  vim.fn.mkdir(doc, 'p')
  vim.uv.fs_copyfile(vim.env.CODEBENCH_PLUGIN_DIR .. '/doc/codebench.txt', doc .. '/codebench.txt')
  vim.cmd('helptags ' .. vim.fn.fnameescape(doc))
  local tags = vim.fn.readfile(doc .. '/tags')
  H.ok(#tags > 10, 'more than 10 help tags, got ' .. #tags)
  local names = vim.tbl_map(function(entry)
    return vim.split(entry, '\t')[1]
  end, tags)
  for _, tag in ipairs({ 'codebench', 'codebench.setup()', 'codebench-options', ':Codebench', 'codebench.status()' }) do
    H.ok(vim.tbl_contains(names, tag), 'help tag ' .. tag)
  end
  -- The shipped doc/tags (so `:h codebench` works after a plain packadd) is what :helptags makes.
  local shipped = vim.fn.readfile(vim.env.CODEBENCH_PLUGIN_DIR .. '/doc/tags')
  H.eq(shipped, tags, 'doc/tags matches :helptags of doc/codebench.txt (regenerate it)')
end)
