-- Accepting every hunk (`\A`) is one WorkspaceEdit: a single `u` restores the original text.
local H = require('helpers')

H.run(function()
  local buf = H.open('values.py')
  local original = H.lines(buf)
  require('codebench').ask({ instruction = 'bump the count and ü', bufnr = buf })
  local run = H.wait_run()
  H.wait_finished(run)
  local review = require('codebench.review')
  H.wait(10000, function()
    return #review.hunks_in(buf) == 2
  end, 'two hunks drawn')

  H.feed('<LocalLeader>A')
  H.wait(10000, function()
    return next(review.reviews) == nil
  end, 'the proposal applied')
  local applied = H.lines(buf)
  H.eq(applied[2], "naïve = 'café'; count = 2", 'first hunk applied')
  H.eq(applied[8], "ü = 'three'", 'second hunk applied')

  vim.cmd('normal! u')
  H.eq(H.lines(buf), original, 'one undo restores the text before the accept')
  vim.cmd('normal! u')
  H.eq(H.lines(buf), original, 'nothing else to undo')
  H.eq(vim.bo[buf].modified, false, 'back to the unmodified text')
end)
