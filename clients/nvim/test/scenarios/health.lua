-- :checkhealth codebench reports no ERROR with a reachable (fake) provider.
local H = require('helpers')

H.run(function()
  H.open('main.py')
  vim.cmd('checkhealth codebench')
  local buf = vim.api.nvim_get_current_buf()
  local lines = H.lines(buf)
  H.log('\n' .. table.concat(lines, '\n'))
  for _, line in ipairs(lines) do
    H.ok(not line:find('ERROR', 1, true), 'no ERROR line, got: ' .. line)
  end
  local text = table.concat(lines, '\n')
  H.ok(text:find('OK Neovim 0.1', 1, true), 'the Neovim version')
  H.ok(text:find('OK codebench %d+%.%d+'), 'the server version')
  H.ok(text:find('position encoding: utf%-'), 'the position encoding')
  H.ok(text:find('OK provider ollama', 1, true) or text:find('ollama', 1, true), 'the provider checks')
end)
