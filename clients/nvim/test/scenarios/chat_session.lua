-- One panel, one conversation: a code action run after a chat message continues the panel's
-- session, and its heading names the file and lines with the selected code folded.
local H = require('helpers')

H.run(function()
  local buf, client = H.open('values.py')
  local chat = require('codebench.chat')
  require('codebench').ask({ instruction = 'what is count?', bufnr = buf, open_chat = true })
  local first = H.wait_run()
  H.wait_finished(first)

  -- "Agent: explain this code" on lines 3-4, run as vim.lsp.buf.code_action() would.
  vim.api.nvim_set_current_win(vim.fn.bufwinid(buf))
  vim.api.nvim_win_set_cursor(0, { 3, 0 })
  local params = vim.lsp.util.make_given_range_params({ 3, 0 }, { 4, 4 }, buf, client.offset_encoding)
  params.context = { diagnostics = {} }
  local responses = vim.lsp.buf_request_sync(buf, 'textDocument/codeAction', params, 10000) or {}
  local explain
  for _, response in pairs(responses) do
    for _, action in ipairs(response.result or {}) do
      if action.title == 'Agent: explain this code' then
        explain = action
      end
    end
  end
  H.ok(explain and explain.command, 'the explain code action with a command')
  vim.lsp.commands[explain.command.command](explain.command, { client_id = client.id, bufnr = buf })
  local runs = require('codebench.runs')
  local second = H.wait(20000, function()
    for id, run in pairs(runs.runs) do
      if id ~= first.id then
        return run
      end
    end
  end, 'the code action run')
  H.wait_finished(second)
  H.eq(second.session_id, first.session_id, 'the code action continued the panel session')

  local transcript = chat.transcript()
  local lines = H.lines(transcript)
  H.log(table.concat(lines, '\n'))
  local heading
  for row, line in ipairs(lines) do
    if line == '## You — values.py:3-4' then
      heading = row
    end
  end
  H.ok(heading, 'the code action ask headed with its file and lines')
  H.ok(not H.text(transcript):find('# New session', 1, true), 'no new session started')
  -- The selected code follows the instruction, folded closed in the panel.
  local fence
  for row = heading + 1, #lines do
    if lines[row]:match('^```') then
      fence = row
      break
    end
  end
  H.ok(fence, 'a code block after the heading')
  H.eq(lines[fence + 1], 'a = 1', 'the selected code in the block')
  H.eq(lines[fence + 2], 'b = 2', 'the selected code in the block (last line, as selected)')
  local closed = vim.api.nvim_win_call(chat.state.win, function()
    return vim.fn.foldclosed(fence + 1)
  end)
  H.eq(closed, fence, 'the code block folded closed from its fence')
end)
