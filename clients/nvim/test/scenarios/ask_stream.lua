-- :Codebench ask prompts with vim.ui.input and streams the answer into the chat transcript
-- while the (slow) model is still writing; progress reaches LspProgress and status().
local H = require('helpers')

H.run(function()
  local buf = H.open('main.py')
  local progress_events = 0
  vim.api.nvim_create_autocmd('LspProgress', {
    callback = function()
      progress_events = progress_events + 1
    end,
  })
  local prompted
  vim.ui.input = function(opts, on_confirm)
    prompted = opts.prompt
    on_confirm('explain this line')
  end

  vim.cmd('Codebench ask')
  H.eq(prompted, 'codebench: ', 'vim.ui.input prompt')
  local chat = require('codebench.chat')
  local transcript = H.wait(5000, chat.transcript, 'the chat transcript buffer')
  H.ok(chat.is_open(), 'the chat panel is open')
  local run = H.wait_run()

  -- Sample the transcript while the run streams: it must grow several times before the end.
  local sizes, statuses = {}, {}
  while run.status == 'running' do
    local size = #H.text(transcript)
    if sizes[#sizes] ~= size then
      table.insert(sizes, size)
    end
    local status = require('codebench').status()
    if status ~= '' then
      statuses[status] = true
    end
    vim.wait(100)
  end
  H.log('transcript sizes while streaming:', sizes)
  H.ok(#sizes >= 4, 'the transcript to grow at least 4 times while running, got ' .. vim.inspect(sizes))
  H.eq(run.status, 'completed', 'run status')
  H.ok(next(statuses) ~= nil, 'status() non-empty while running')

  -- The final flush lands within the throttle period.
  local expected = H.params.expected
  H.wait(2000, function()
    return H.text(transcript):find(expected, 1, true) and H.text(transcript):find('\n— ', 1, true)
  end, 'the whole answer and the summary line in the transcript')
  local text = H.text(transcript)
  H.log(text)
  H.ok(text:find('## codebench', 1, true), 'the answer header')
  H.ok(text:find('— ', 1, true), 'a summary line at the end')
  -- The server sums a run up with the answer's first line; the reply must not end repeating it.
  H.eq(select(2, text:gsub(vim.pesc(expected), '')), 1, 'the answer written once')
  H.ok(text:find('\n— done\n', 1, true), 'the end line says done, got ' .. text:sub(-200))
  H.ok(text:find('## You — main.py:1\nexplain this line', 1, true), 'the ask names its file and line')
  H.ok(progress_events >= 2, 'LspProgress events (begin/end), got ' .. progress_events)
  H.eq(require('codebench').status(), '', 'status() idle again')
  H.eq(vim.bo[buf].modified, false, 'the asked-about buffer is untouched')
end)
