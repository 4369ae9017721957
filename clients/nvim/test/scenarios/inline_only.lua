-- The plugin reviews inline, so the server publishes no "Agent proposal" diagnostics to it and
-- offers no "Agent: open chat" code action.
local H = require('helpers')

H.run(function()
  local buf, client = H.open('values.py')
  require('codebench').ask({ instruction = 'bump the count and ü', bufnr = buf })
  local run = H.wait_run()
  H.wait_finished(run)
  local review = require('codebench.review')
  H.wait(10000, function()
    return #review.hunks_in(buf) == 2
  end, 'two hunks drawn')
  vim.wait(1000)
  local messages = vim.tbl_map(function(d)
    return d.message
  end, vim.diagnostic.get(buf))
  H.log('diagnostics:', messages)
  for _, message in ipairs(messages) do
    H.ok(not message:find('Agent proposal', 1, true), 'no proposal diagnostic, got ' .. message)
  end

  vim.api.nvim_win_set_cursor(0, { 2, 0 })
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
  H.ok(#titles > 0, 'some code actions')
  for _, title in ipairs(titles) do
    H.ok(not title:find('open chat', 1, true), 'no "Agent: open chat", got ' .. title)
  end
end)
