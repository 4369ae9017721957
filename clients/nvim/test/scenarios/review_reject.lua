-- `\r` rejects one hunk and `\R` the rest: the buffer is never touched, the marks go away, and
-- the server records the proposal as discarded.
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

  vim.api.nvim_win_set_cursor(0, { 8, 0 })
  H.feed('<LocalLeader>r')
  H.wait(10000, function()
    return #review.hunks_in(buf) == 1
  end, 'one hunk left after rejecting one')
  H.eq(review.hunks_in(buf)[1].hunk.first, 1, 'the count hunk is the one left')
  H.eq(H.lines(buf), original, 'rejecting one hunk leaves the buffer untouched')

  H.feed('<LocalLeader>R')
  H.wait(10000, function()
    return #review.hunks_in(buf) == 0 and next(review.reviews) == nil
  end, 'no hunks left')
  H.eq(H.lines(buf), original, 'rejecting all leaves the buffer untouched')
  H.eq(vim.bo[buf].modified, false, 'buffer unmodified')
  H.eq(#vim.api.nvim_buf_get_extmarks(buf, review.ns, 0, -1, {}), 0, 'review marks cleared')
  H.eq(vim.fn.maparg('\\a', 'n', false, true).buffer, nil, 'review keys unmapped')

  local client = vim.lsp.get_clients({ name = 'codebench' })[1]
  local response = client.request_sync('codebench/proposals', { sessionId = run.session_id }, 10000)
  H.eq(response.result.proposals[1].status, 'discarded', 'the server recorded the proposal as discarded')
end)
