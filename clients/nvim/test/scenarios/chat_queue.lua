-- A message sent while the answer streams waits, shown as queued, and goes out when the answer
-- ends: the two answers never interleave, and both are one session (the second continues the
-- first).
local H = require('helpers')

--- Types a message in the input area and sends it with the send key.
local function send(text)
  local chat = require('codebench.chat')
  vim.api.nvim_set_current_win(chat.state.input_win)
  vim.api.nvim_buf_set_lines(chat.state.input, 0, -1, false, { text })
  H.feed('<CR>')
end

H.run(function()
  H.open('main.py')
  local chat = require('codebench.chat')
  chat.open()
  send('first question')
  local transcript = H.wait(5000, chat.transcript, 'the chat transcript')
  H.wait(20000, function()
    return H.text(transcript):find('alpha3', 1, true)
  end, 'the first answer streaming')
  local runs = require('codebench.runs')
  local first = H.wait_run()
  H.eq(first.status, 'running', 'the first run still streams')

  send('second question')
  -- Shown below the streaming answer as virtual lines, not written into the text it streams.
  local ns = vim.api.nvim_get_namespaces()['codebench.chat.queue']
  local marks = vim.api.nvim_buf_get_extmarks(transcript, ns, 0, -1, { details = true })
  local shown = marks[1] and marks[1][4].virt_lines and marks[1][4].virt_lines[1][1][1] or ''
  H.ok(shown:find('⏳ queued: second question', 1, true), 'the second message shown as queued, got ' .. shown)
  H.eq(marks[1][2], vim.api.nvim_buf_line_count(transcript) - 1, 'the queued line below the last line')
  vim.wait(300)
  H.eq(vim.tbl_count(runs.runs), 1, 'no second run while the first streams')

  H.wait_finished(first)
  local second = H.wait(20000, function()
    for id, run in pairs(runs.runs) do
      if id ~= first.id then
        return run
      end
    end
  end, 'the queued message to start a run')
  H.wait_finished(second)
  H.wait(3000, function()
    return H.text(transcript):find(H.params.second, 1, true)
  end, 'the second answer in the transcript')
  local text = H.text(transcript)
  H.log(text)
  H.eq(#vim.api.nvim_buf_get_extmarks(transcript, ns, 0, -1, {}), 0, 'the queued line gone once sent')
  H.ok(text:find(H.params.first, 1, true), 'the first answer whole, not interleaved')
  local first_answer = assert(text:find(H.params.first, 1, true))
  local second_heading = assert(text:find('## You — main.py\nsecond question', 1, true))
  H.ok(first_answer < second_heading, 'the second question after the whole first answer')
  H.eq(second.session_id, first.session_id, 'one session for the panel')
end)
