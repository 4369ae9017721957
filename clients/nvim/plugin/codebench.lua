-- Registers :Codebench only; everything else loads on first use (require('codebench')).
if vim.g.loaded_codebench then
  return
end
vim.g.loaded_codebench = true

if vim.fn.has('nvim-0.10') ~= 1 then
  vim.api.nvim_create_user_command('Codebench', function()
    vim.notify('codebench.nvim needs Neovim 0.10 or newer', vim.log.levels.ERROR)
  end, { nargs = '*' })
  return
end

vim.api.nvim_create_user_command('Codebench', function(command)
  require('codebench.commands').run(command)
end, {
  nargs = '*',
  range = true,
  desc = 'codebench: ask, chat, cancel, history, search, review, accept, reject, preview',
  complete = function(lead, line)
    return require('codebench.commands').complete(lead, line)
  end,
})
