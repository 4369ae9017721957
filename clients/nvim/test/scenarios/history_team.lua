-- :Codebench history with teammates' sessions pulled by team sync (planted by the test): they
-- follow the user's own, each as `[author] title`; picking one shows it read-only, every message
-- under its author, and a message typed then does not continue it.
local H = require('helpers')

H.run(function()
  H.open('main.py')
  local offered
  vim.ui.select = function(items, opts, on_choice)
    offered = vim.tbl_map(opts.format_item, items)
    -- The first teammate's session: the item after the user's own one.
    on_choice(items[2])
  end
  vim.cmd('Codebench history')
  H.wait(10000, function()
    return offered
  end, 'the history picker')
  H.log('sessions offered:', offered)
  H.eq(#offered, 3, "the own session and the workspace's two teammates' sessions (not the other workspace's)")
  H.ok(offered[1]:find('  my own work  ', 1, true), 'own session first, without an author')
  H.ok(not offered[1]:find('[', 1, true), 'no author on the own session')
  H.ok(offered[2]:find('  [alice] fix the login redirect  (3 messages)', 1, true), "alice's session with her name")
  H.ok(offered[3]:find('  [bob] nothing said yet  (0 messages)', 1, true), "bob's session with his name")

  local chat = require('codebench.chat')
  local transcript = H.wait(10000, function()
    local t = chat.transcript()
    return t and H.text(t):find('keeps the query string.', 1, true) and t
  end, "alice's session in the chat")
  local lines = H.lines(transcript)
  H.log('transcript:', lines)
  H.eq(lines[1], '# [alice] fix the login redirect', 'the title with its author')
  H.ok(lines[2]:find("alice's session, read-only", 1, true), 'marked read-only')
  H.ok(vim.tbl_contains(lines, '## alice'), "alice's turn under her name")
  H.ok(vim.tbl_contains(lines, '## codebench (alice)'), "the answers of alice's run under her name")
  H.ok(not vim.tbl_contains(lines, '## You'), 'no turn shown as yours')
  H.ok(H.text(transcript):find('Looked at auth.ts.', 1, true), 'every message shown')
  H.eq(chat.state.session_id, nil, "the input does not continue alice's session")
  H.eq(vim.bo[transcript].modifiable, false, 'the transcript is read-only')

  -- A message typed now is the user's own new conversation, on a clean transcript.
  vim.api.nvim_set_current_win(chat.state.input_win)
  vim.api.nvim_buf_set_lines(chat.state.input, 0, -1, false, { 'what did alice change?' })
  H.feed('<CR>')
  local run = H.wait_run()
  H.wait_finished(run)
  H.eq(run.status, 'completed', 'the new run')
  H.ok(run.session_id and run.session_id ~= H.params.aliceSession, "a session of the user's own, not alice's")
  H.wait(2000, function()
    return H.text(transcript):find('She kept the query string.', 1, true)
  end, 'the answer in the chat')
  H.ok(not H.text(transcript):find('[alice]', 1, true), "alice's transcript cleared first")
end)
