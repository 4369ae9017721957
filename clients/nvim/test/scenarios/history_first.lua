-- First Neovim: one exchange, stored by the server.
local H = require('helpers')

H.run(function()
  H.open('main.py')
  vim.cmd('Codebench ask remember the word pineapple')
  local run = H.wait_run()
  H.wait_finished(run)
  H.eq(run.status, 'completed', 'run status')
end)
