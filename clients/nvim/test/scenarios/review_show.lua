-- A proposal with two hunks after non-ASCII text is drawn inline: removed text highlighted in
-- place, the replacement lines as virtual lines, one hint per hunk, and nothing edited.
local H = require('helpers')

local function review_marks(buf)
  local ns = require('codebench.review').ns
  return vim.api.nvim_buf_get_extmarks(buf, ns, 0, -1, { details = true })
end

H.run(function()
  local buf = H.open('values.py')
  local original = H.lines(buf)
  require('codebench').ask({ instruction = 'bump the count and ü', bufnr = buf, open_chat = true })
  local run = H.wait_run()
  H.wait_finished(run)
  H.eq(run.status, 'completed', 'run status')
  local review = require('codebench.review')
  H.wait(10000, function()
    return #review.hunks_in(buf) == 2
  end, 'two hunks drawn in values.py')

  local virt, deleted_text, hints = {}, {}, 0
  for _, mark in ipairs(review_marks(buf)) do
    local row, col, d = mark[2], mark[3], mark[4]
    if d.virt_lines then
      for _, line in ipairs(d.virt_lines) do
        table.insert(virt, { row = row, text = vim.trim(line[2][1]), hl = line[2][2] })
      end
    end
    if d.hl_group == 'CodebenchDeleteText' then
      local text = vim.api.nvim_buf_get_text(buf, row, col, d.end_row, d.end_col, {})
      table.insert(deleted_text, table.concat(text, '\n'))
    end
    if d.virt_text then
      hints = hints + 1
    end
  end
  H.log('virtual lines:', virt, 'removed spans:', deleted_text)
  H.eq(virt, {
    { row = 1, text = "naïve = 'café'; count = 2", hl = 'CodebenchAdd' },
    { row = 7, text = "ü = 'three'", hl = 'CodebenchAdd' },
  }, 'added lines shown as virtual lines under the changed lines')
  -- The server's minimal hunks ("1"→"2", "wo"→"hree") sit after multi-byte characters: the
  -- exact spans prove the ranges were converted from the client's encoding to bytes.
  table.sort(deleted_text)
  H.eq(deleted_text, { '1', 'wo' }, 'replaced text highlighted exactly')
  H.eq(hints, 2, 'one hint per hunk')
  local removed_lines = {}
  for _, mark in ipairs(review_marks(buf)) do
    if mark[4].line_hl_group == 'CodebenchDelete' then
      table.insert(removed_lines, mark[2])
    end
  end
  table.sort(removed_lines)
  H.eq(removed_lines, { 1, 7 }, 'removed lines highlighted')
  H.eq(H.lines(buf), original, 'the buffer is not edited by showing the review')
  H.eq(vim.bo[buf].modified, false, 'buffer unmodified')
  H.ok(require('codebench').status():find('2 hunks to review', 1, true), 'status() counts the hunks')
  local transcript = H.wait(3000, function()
    local text = H.text(require('codebench.chat').transcript())
    return text:find('✎ proposed changes to values.py', 1, true) and text:find('\n— ', 1, true) and text
  end, 'the proposal and summary lines in the chat')
  H.log(transcript)
  H.ok(transcript:find('✓ editing values.py', 1, true), 'tool steps as compact lines')
  H.ok(not transcript:find('⚙', 1, true), 'finished tool steps marked done')
end)
