---@mod codebench.review.keymaps The review keys of a buffer with proposed hunks
---
--- The keys (and the autocommand that follows typing) exist only while a buffer shows hunks:
--- `attach` when the first hunk is drawn in it, `detach` when its last hunk is gone. They call the
--- public module through `require` at key time, since that module loads this one.

local config = require('codebench.config')

local M = {}

local group = vim.api.nvim_create_augroup('codebench.review', { clear = true })

---@type table<integer, boolean>
local mapped = {}

---@param bufnr integer
function M.attach(bufnr)
  if mapped[bufnr] then
    return
  end
  mapped[bufnr] = true
  local keys = config.get().keys
  local function map(lhs, fn, desc)
    if lhs then
      vim.keymap.set('n', lhs, fn, { buffer = bufnr, desc = 'codebench: ' .. desc, nowait = true })
    end
  end
  map(keys.accept_hunk, function()
    require('codebench.review').accept()
  end, 'accept the hunk under the cursor')
  map(keys.reject_hunk, function()
    require('codebench.review').reject()
  end, 'reject the hunk under the cursor')
  map(keys.accept_all, function()
    require('codebench.review').accept({ all = true })
  end, 'accept every hunk of the proposal')
  map(keys.reject_all, function()
    require('codebench.review').reject({ all = true })
  end, 'reject every hunk of the proposal')
  map(keys.next_hunk, function()
    require('codebench.review').jump(1)
  end, 'next proposed hunk')
  map(keys.prev_hunk, function()
    require('codebench.review').jump(-1)
  end, 'previous proposed hunk')
  -- Typing moves the text under the hunks: ask the server for them again (it rebases).
  vim.api.nvim_create_autocmd({ 'TextChanged', 'TextChangedI' }, {
    group = group,
    buffer = bufnr,
    callback = function()
      require('codebench.review').refresh_buffer(bufnr)
    end,
  })
end

---@param bufnr integer
function M.detach(bufnr)
  if not mapped[bufnr] then
    return
  end
  mapped[bufnr] = nil
  if not vim.api.nvim_buf_is_valid(bufnr) then
    return
  end
  for _, lhs in pairs(config.get().keys) do
    if lhs then
      pcall(vim.keymap.del, 'n', lhs, { buffer = bufnr })
    end
  end
  vim.api.nvim_clear_autocmds({ group = group, buffer = bufnr })
end

return M
