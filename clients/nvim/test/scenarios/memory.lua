-- :Codebench memory add remembers a fact; :Codebench memory lists it and forgets the picked one.
local H = require('helpers')

H.run(function()
  H.open('main.py')
  local notes = {}
  vim.notify = function(message)
    notes[#notes + 1] = message
  end
  local function noted(pattern)
    return H.wait(10000, function()
      for _, message in ipairs(notes) do
        if message:find(pattern) then
          return message
        end
      end
    end, 'a notification matching ' .. pattern)
  end

  vim.cmd('Codebench memory add Use tabs,   not spaces.')
  H.log(noted('^codebench: remembered '))

  local offered, forget_prompt
  vim.ui.select = function(items, opts, on_choice)
    if opts.format_item then
      offered = vim.tbl_map(opts.format_item, items)
      on_choice(items[1])
    else
      forget_prompt = opts.prompt
      on_choice('Forget it')
    end
  end
  vim.cmd('Codebench memory')
  H.log(noted('^codebench: forgot '))
  H.eq(#offered, 1, 'one fact offered')
  local listed = '^%x%x%x%x%x%x%x%x  added by you  Use tabs, not spaces%.$'
  H.ok(offered[1]:match(listed), 'the fact as listed: ' .. offered[1])
  H.eq(forget_prompt, 'Forget "Use tabs,   not spaces."?', 'the confirmation')

  local facts
  require('codebench.memory').facts(function(list)
    facts = list
  end)
  H.eq(
    H.wait(10000, function()
      return facts
    end, 'the fact list'),
    {},
    'no facts left'
  )

  vim.cmd('Codebench memory drop')
  H.ok(noted('unknown memory action "drop"'), 'an unknown action is named')
end)
