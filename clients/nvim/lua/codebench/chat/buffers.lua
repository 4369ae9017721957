---@mod codebench.chat.buffers The chat panel's two scratch buffers
---
--- The transcript (`codebench://chat`, read-only between writes) and the input area
--- (`codebench://input`) are created on first use and again whenever one was wiped, so every
--- caller asks for them here instead of holding a buffer number.

local keymaps = require('codebench.chat.keymaps')
local state = require('codebench.chat.state')

local M = {}

---@param buf integer?
---@return boolean
function M.valid_buf(buf)
  return buf ~= nil and vim.api.nvim_buf_is_valid(buf)
end

---@param win integer?
---@return boolean
function M.valid_win(win)
  return win ~= nil and vim.api.nvim_win_is_valid(win)
end

---@param name string
---@param filetype string
---@return integer
local function scratch(name, filetype)
  local buf = vim.api.nvim_create_buf(false, true)
  vim.bo[buf].buftype = 'nofile'
  vim.bo[buf].bufhidden = 'hide'
  vim.bo[buf].swapfile = false
  pcall(vim.api.nvim_buf_set_name, buf, name)
  -- A broken ftplugin (e.g. a missing tree-sitter parser on 0.12) must not break the panel.
  local ok, problem = pcall(function()
    vim.bo[buf].filetype = filetype
  end)
  if not ok then
    vim.notify_once(
      'codebench: the ' .. filetype .. ' filetype plugin failed: ' .. tostring(problem),
      vim.log.levels.WARN
    )
  end
  return buf
end

---@return integer
function M.transcript()
  if not M.valid_buf(state.transcript) then
    state.transcript = scratch('codebench://chat', 'markdown')
    vim.bo[state.transcript].modifiable = false
    keymaps.transcript(state.transcript)
  end
  return state.transcript --[[@as integer]]
end

---@return integer
function M.input()
  if not M.valid_buf(state.input) then
    state.input = scratch('codebench://input', 'markdown')
    keymaps.input(state.input)
  end
  return state.input --[[@as integer]]
end

return M
