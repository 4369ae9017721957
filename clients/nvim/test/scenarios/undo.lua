-- :Codebench undo after accepting (and saving) reverts the agent's change as one edit; a line the
-- user added meanwhile stays; the proposal can be undone only once.
local H = require('helpers')

H.run(function()
  local buf = H.open('values.py')
  local original = H.lines(buf)
  local notes = {}
  vim.notify = function(message)
    notes[#notes + 1] = message
  end
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
  vim.cmd('write')

  -- The user's own line, added after the agent's last one: kept by the revert.
  vim.api.nvim_buf_set_lines(buf, -1, -1, false, { 'f = 6' })
  local expected = vim.deepcopy(original)
  expected[#expected + 1] = 'f = 6'

  vim.cmd('Codebench undo')
  H.wait(10000, function()
    return vim.deep_equal(H.lines(buf), expected)
  end, 'the agent change reverted, the user line kept')
  local said = H.wait(10000, function()
    for _, message in ipairs(notes) do
      if message:find('^codebench: reverted "values.py') then
        return message
      end
    end
  end, 'the revert told')
  H.log(said)

  -- Nothing applied is left to undo: the server says so, the buffer stays.
  local second
  require('codebench.undo').undo({}, function(result)
    second = result
  end)
  H.wait(10000, function()
    return second
  end, 'the second undo answered')
  H.eq(second.status, 'nothing', 'nothing left to undo')
  H.eq(H.lines(buf), expected, 'the buffer unchanged by the second undo')
end)
