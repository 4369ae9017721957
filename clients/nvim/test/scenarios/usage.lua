-- :Codebench usage provider draws the same table and chart as `codebench usage` in a floating
-- window; q and <Esc> close it.
local H = require('helpers')

H.run(function()
  H.open('main.py')
  local file_win = vim.api.nvim_get_current_win()

  local function usage_window()
    return H.wait(10000, function()
      local win = vim.api.nvim_get_current_win()
      return win ~= file_win and vim.api.nvim_win_get_config(win).relative ~= '' and win
    end, 'the usage window')
  end

  vim.cmd('Codebench usage provider')
  local win = usage_window()
  local buf = vim.api.nvim_win_get_buf(win)
  H.eq(vim.api.nvim_win_get_config(win).relative, 'editor', 'a floating window')
  H.eq(H.lines(buf), H.params.expected, 'the table and chart codebench usage prints')
  H.eq(vim.bo[buf].modifiable, false, 'a read-only buffer')
  local bars = vim.tbl_filter(function(mark)
    return mark[4].hl_group == 'Special'
  end, vim.api.nvim_buf_get_extmarks(buf, -1, 0, -1, { details = true }))
  H.eq(#bars, #H.params.bars, 'one highlighted bar per non-empty row')

  vim.api.nvim_feedkeys('q', 'x', false)
  H.wait(2000, function()
    return not vim.api.nvim_win_is_valid(win)
  end, 'q to close the window')
  H.eq(vim.api.nvim_get_current_win(), file_win, 'back in the file')

  -- Per day by default; <Esc> closes it too.
  vim.cmd('Codebench usage')
  win = usage_window()
  local day = H.lines(vim.api.nvim_win_get_buf(win))
  H.ok(day[1]:match('^day '), 'grouped by day: ' .. day[1])
  H.ok(day[2]:match('^%d%d%d%d%-%d%d%-%d%d '), 'a UTC day: ' .. day[2])
  vim.api.nvim_feedkeys(vim.keycode('<Esc>'), 'x', false)
  H.wait(2000, function()
    return not vim.api.nvim_win_is_valid(win)
  end, '<Esc> to close the window')

  -- A grouping the server does not know is refused and named; no window opens.
  local notes = {}
  vim.notify = function(message)
    notes[#notes + 1] = message
  end
  vim.cmd('Codebench usage week')
  H.wait(10000, function()
    return notes[1]
  end, 'the refusal')
  H.ok(notes[1]:find('codebench/usage failed') and notes[1]:find('by'), 'the refusal names the field: ' .. notes[1])
  H.eq(vim.api.nvim_get_current_win(), file_win, 'no window for a refused request')
end)
