-- `:h codebench` works right after the README's packadd steps (minimal_init does them): the
-- plugin ships doc/tags.
local H = require('helpers')

H.run(function()
  for _, topic in ipairs({ 'codebench', 'codebench-review', ':Codebench', 'codebench.setup()' }) do
    local ok, problem = pcall(vim.cmd.help, topic)
    H.ok(ok, ':help ' .. topic .. ' opens, got ' .. tostring(problem))
    H.ok(vim.api.nvim_buf_get_name(0):find('codebench.txt$'), ':help ' .. topic .. ' shows codebench.txt')
    vim.cmd.helpclose()
  end
end)
