-- `:Codebench search` with no query prompts for one; its results show no `⟦…⟧` markers; the
-- session reopened from a hit shows its proposal and what became of it.
local H = require('helpers')

H.run(function()
  local buf = H.open('values.py')
  require('codebench').ask({ instruction = 'bump the count and ü', bufnr = buf })
  local run = H.wait_run()
  H.wait_finished(run)
  local review = require('codebench.review')
  H.wait(10000, function()
    return #review.hunks_in(buf) == 2
  end, 'two hunks drawn')
  local done
  review.accept({
    all = true,
    bufnr = buf,
    callback = function(status)
      done = status
    end,
  })
  H.wait(10000, function()
    return done
  end, 'the proposal applied')

  local prompted, items, format
  vim.ui.input = function(opts, on_confirm)
    prompted = opts.prompt
    on_confirm('bump')
  end
  vim.ui.select = function(list, opts, on_choice)
    items, format = list, opts.format_item
    on_choice(list[1])
  end
  vim.cmd('Codebench search')
  H.wait(10000, function()
    return items
  end, 'the search results')
  H.eq(prompted, 'codebench search: ', 'the search prompt')
  local shown = format(items[1])
  H.log('search result:', shown)
  H.ok(shown:find('bump', 1, true), 'the match in the result')
  H.ok(not shown:find('⟦', 1, true) and not shown:find('⟧', 1, true), 'no raw match markers')

  local chat = require('codebench.chat')
  H.wait(10000, function()
    return chat.transcript() and H.text(chat.transcript()):find('✎ proposed changes', 1, true)
  end, 'the reopened session with its proposal line')
  local text = H.text(chat.transcript())
  H.log(text)
  H.ok(text:find('✎ proposed changes to values.py[^\n]* — applied'), 'the proposal and its outcome')
  -- The run's tool steps under its request (codebench/runs), before the answer.
  local request_at = text:find('bump the count and ü', 1, true)
  local step_at = text:find('✓ edited values.py', 1, true)
  local answer_at = text:find('Changed the count and ü.', 1, true)
  H.ok(
    request_at and step_at and answer_at and request_at < step_at and step_at < answer_at,
    'the tool steps between the request and the answer'
  )
end)
