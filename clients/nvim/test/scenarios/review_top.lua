-- A hunk inserted above line 1 is visible: the window scrolls so the virtual lines above the
-- first line show, and line 1 carries a sign.
local H = require('helpers')

H.run(function()
  local buf = H.open('main.py')
  require('codebench').ask({ instruction = 'import os first', bufnr = buf })
  local run = H.wait_run()
  H.wait_finished(run)
  local review = require('codebench.review')
  local item = H.wait(10000, function()
    return review.hunks_in(buf)[1]
  end, 'the hunk drawn')
  H.eq({ item.hunk.first, item.hunk.removed, item.hunk.added }, { 0, 0, 1 }, 'a pure insertion above line 1')
  local view = vim.fn.winsaveview()
  H.eq({ view.topline, view.topfill }, { 1, 1 }, 'the window shows the line above line 1')
  local signs = vim.api.nvim_buf_get_extmarks(buf, review.ns, { 0, 0 }, { 0, -1 }, { details = true })
  local found
  for _, mark in ipairs(signs) do
    if mark[4].sign_text and vim.trim(mark[4].sign_text) == '+↑' then
      found = true
    end
  end
  H.ok(found, 'a sign on line 1 for the lines above it')
  -- The screen shows it: the first screen row is the inserted line.
  vim.cmd.redraw()
  local row = {}
  for col = 1, 20 do
    table.insert(row, vim.fn.screenstring(1, col))
  end
  H.log('first screen row:', table.concat(row))
  H.ok(table.concat(row):find('import os', 1, true), 'the inserted line on the first screen row')
end)
