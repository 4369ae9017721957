-- `\a` (accept_hunk) on the first hunk applies only that hunk (through the server's WorkspaceEdit); the
-- other hunk stays proposed and drawn. The messages say what was applied, hunk by hunk.
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

  vim.api.nvim_win_set_cursor(0, { 2, 0 })
  H.feed('<LocalLeader>a')
  H.wait(10000, function()
    return H.lines(buf)[2] ~= original[2] and #review.hunks_in(buf) == 1
  end, 'the first hunk applied and one hunk left')
  local expected = vim.deepcopy(original)
  expected[2] = "naïve = 'café'; count = 2"
  H.eq(H.lines(buf), expected, 'only the accepted hunk changed the buffer')
  H.eq(review.hunks_in(buf)[1].hunk.first, 7, 'the remaining hunk is the ü line')
  H.ok(vim.bo[buf].modified, "the buffer is modified (not written: saving is the user's)")
end)
