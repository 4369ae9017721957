-- The review keys leave the built-ins alone (`ga` still runs :ascii on a hunk line), the preview
-- opens in a split, messages say what was applied hunk by hunk, and the status line is redrawn
-- once the last hunk is settled.
local H = require('helpers')

H.run(function()
  local buf = H.open('values.py')
  local source_win = vim.api.nvim_get_current_win()
  local notes = {}
  vim.notify = function(message)
    table.insert(notes, message)
  end
  require('codebench').ask({ instruction = 'bump the count and ü', bufnr = buf })
  local run = H.wait_run()
  H.wait_finished(run)
  local review = require('codebench.review')
  H.wait(10000, function()
    return #review.hunks_in(buf) == 2
  end, 'two hunks drawn')

  -- Built-ins untouched: no mapping of ga, gr, gR (nor gra, grn, grr) from the plugin, and
  -- `ga` on a hunk line prints the character under the cursor.
  for _, lhs in ipairs({ 'ga', 'gr', 'gR', 'gA', 'grn', 'gra', 'grr' }) do
    local map = vim.fn.maparg(lhs, 'n', false, true)
    H.ok(not (map.desc or ''):find('codebench', 1, true), lhs .. ' not mapped by codebench')
  end
  vim.api.nvim_win_set_cursor(0, { 2, 0 })
  local ascii = vim.api.nvim_exec2('normal ga', { output = true }).output
  H.log('ga:', ascii)
  H.ok(ascii:find('<n>', 1, true) and ascii:find('Hex 6e', 1, true), ':ascii output for "n", got ' .. ascii)
  H.eq(#review.hunks_in(buf), 2, 'ga accepted nothing')

  -- Preview in a split: the reviewed buffer stays in its window.
  local wins = #vim.api.nvim_list_wins()
  review.preview()
  H.wait(10000, function()
    return #vim.api.nvim_list_wins() == wins + 1
  end, 'the preview in a new window')
  H.ok(vim.api.nvim_buf_get_name(0):find('%.diff$') or vim.bo.filetype == 'diff', 'the preview shows the diff')
  H.eq(vim.api.nvim_win_get_buf(source_win), buf, 'values.py still shown beside the preview')
  vim.cmd.close()
  vim.api.nvim_set_current_win(source_win)

  -- Accept the first hunk: the message counts that hunk only.
  vim.api.nvim_win_set_cursor(0, { 2, 0 })
  H.feed('<LocalLeader>a')
  H.wait(10000, function()
    return #review.hunks_in(buf) == 1 and #notes > 0
  end, 'one hunk applied and a message')
  H.log('notes:', notes)
  H.eq(
    notes[#notes],
    'codebench: values.py — applied 1 of 2 hunks (+1 −1); 1 hunk left to review',
    'partial message'
  )
  H.eq(require('codebench').status(), 'codebench: 1 hunk to review', 'status with one hunk left')

  -- Reject the last: the closing message says what was applied and what was rejected, and the
  -- status line is redrawn with no run event to prompt it.
  local redraws = 0
  local progress = require('codebench.progress')
  local redraw = progress.redraw
  progress.redraw = function()
    redraws = redraws + 1
    redraw()
  end
  vim.api.nvim_win_set_cursor(0, { 8, 0 })
  H.feed('<LocalLeader>r')
  H.wait(10000, function()
    return #review.hunks_in(buf) == 0 and notes[#notes]:find('rejected', 1, true)
  end, 'the last hunk rejected and a closing message')
  H.eq(
    notes[#notes],
    'codebench: values.py — 1 of 2 hunks applied (+1 −1), 1 rejected (+1 −1)',
    'closing message'
  )
  H.eq(require('codebench').status(), '', 'status idle')
  H.ok(redraws > 0, 'the status line redrawn when the last hunk was settled')
end)
