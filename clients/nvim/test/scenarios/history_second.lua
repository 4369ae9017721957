-- Second Neovim (same data dir): :Codebench history lists the session, reopens it in the chat,
-- and a message typed there continues it; :Codebench search finds it.
local H = require('helpers')

H.run(function()
  H.open('main.py')
  local offered
  vim.ui.select = function(items, opts, on_choice)
    offered = vim.tbl_map(opts.format_item, items)
    on_choice(items[1])
  end
  vim.cmd('Codebench history')
  H.wait(10000, function()
    return offered
  end, 'the history picker')
  H.log('sessions offered:', offered)
  H.eq(#offered, 1, 'one session in this workspace')
  H.ok(offered[1]:find('remember the word pineapple', 1, true), 'the session title')

  local chat = require('codebench.chat')
  local transcript = H.wait(10000, function()
    local t = chat.transcript()
    return t and H.text(t):find('Noted: pineapple.', 1, true) and t
  end, 'the reopened session in the chat')
  H.ok(chat.is_open(), 'chat panel open')
  H.ok(H.text(transcript):find('remember the word pineapple', 1, true), 'the user turn shown')

  -- Continue it from the chat input.
  vim.api.nvim_set_current_win(chat.state.input_win)
  vim.api.nvim_buf_set_lines(chat.state.input, 0, -1, false, { 'which word did I ask you to remember?' })
  H.feed('<CR>')
  local run = H.wait_run()
  H.wait_finished(run)
  H.eq(run.status, 'completed', 'continued run')
  H.wait(2000, function()
    return H.text(transcript):find('The word was pineapple.', 1, true)
  end, 'the new answer in the chat')
  H.eq(vim.api.nvim_buf_get_lines(chat.state.input, 0, -1, false), { '' }, 'input cleared')

  -- Search all history.
  local hits
  vim.ui.select = function(items, opts, on_choice)
    hits = vim.tbl_map(opts.format_item, items)
    on_choice(nil)
  end
  vim.cmd('Codebench search pineapple')
  H.wait(10000, function()
    return hits
  end, 'the search picker')
  H.log('search hits:', hits)
  H.ok(#hits >= 2, 'at least two messages match')
  local listed = table.concat(hits, '\n')
  H.ok(listed:find('pineapple', 1, true), 'the match shown')
  H.ok(not listed:find('⟦', 1, true) and not listed:find('⟧', 1, true), "no raw '⟦…⟧' match markers")
end)
