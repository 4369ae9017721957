-- <C-c> stops the answer from the input area (insert mode) and from the transcript; the
-- winbar names the model, `q` and `<C-c>`; :Codebench model switches the provider.
local H = require('helpers')

local function newest()
  local newest_run
  for _, run in pairs(require('codebench.runs').runs) do
    if not newest_run or run.started_at >= newest_run.started_at then
      newest_run = run
    end
  end
  return newest_run
end

H.run(function()
  H.open('main.py')
  local chat = require('codebench.chat')
  chat.open()
  H.wait(5000, function()
    return vim.wo[chat.state.input_win].winbar:find('ollama (default) · qwen-test', 1, true)
  end, 'the winbar to name the default provider')
  local bar = vim.wo[chat.state.input_win].winbar
  H.log('winbar:', bar)
  H.ok(bar:find('<C-c> stop', 1, true) and bar:find('q close', 1, true), 'the winbar names <C-c> and q')
  H.ok(vim.wo[chat.state.win].winbar:find('<C-c> stop · q close', 1, true), 'the transcript winbar too')

  -- Switch the model: the picker lists the configured providers.
  local offered
  vim.ui.select = function(items, _, on_choice)
    offered = items
    on_choice('anthropic')
  end
  vim.cmd('Codebench model')
  H.wait(5000, function()
    return offered
  end, 'the model picker')
  table.sort(offered)
  H.eq(offered, { 'anthropic', 'compatible', 'ollama', 'openai' }, 'the configured providers')
  H.ok(
    vim.wo[chat.state.input_win].winbar:find('model: anthropic · claude-test', 1, true),
    'the winbar shows the new provider and its model'
  )

  -- <C-c> in insert mode in the input area.
  vim.api.nvim_set_current_win(chat.state.input_win)
  vim.api.nvim_buf_set_lines(chat.state.input, 0, -1, false, { 'explain slowly' })
  H.feed('<CR>')
  local first = H.wait_run()
  H.wait(20000, function()
    return H.text(chat.transcript()):find('slow3', 1, true)
  end, 'some streamed text')
  H.feed('i<C-c>')
  H.wait(10000, function()
    return first.status ~= 'running'
  end, 'the run to stop after <C-c> in the input area')
  H.eq(first.status, 'cancelled', 'first run status')
  H.feed('<Esc>')

  -- <C-c> in normal mode in the transcript.
  vim.api.nvim_buf_set_lines(chat.state.input, 0, -1, false, { 'explain slowly again' })
  vim.api.nvim_set_current_win(chat.state.input_win)
  H.feed('<Esc><CR>')
  local second = H.wait(20000, function()
    local run = newest()
    return run ~= first and run
  end, 'a second run')
  H.wait(20000, function()
    return H.text(chat.transcript()):find('later3', 1, true)
  end, 'the second answer streaming')
  vim.api.nvim_set_current_win(chat.state.win)
  H.feed('<C-c>')
  H.wait(10000, function()
    return second.status ~= 'running'
  end, 'the run to stop after <C-c> in the transcript')
  H.eq(second.status, 'cancelled', 'second run status')
  H.wait(2000, function()
    return select(2, H.text(chat.transcript()):gsub('— cancelled', '')) == 2
  end, 'the transcript to say cancelled twice')
end)
