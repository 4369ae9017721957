---@mod codebench.chat.keymaps The chat panel's keys
---
--- Set once per buffer, when the buffer is created. The keys call the public module through
--- `require` at key time, since that module loads this one.

local config = require('codebench.config')

local M = {}

local function close()
  require('codebench.chat').close()
end

local function submit()
  require('codebench.chat').submit()
end

--- `close` in the transcript.
---@param buf integer
function M.transcript(buf)
  local keys = config.get().keys
  if keys.close then
    vim.keymap.set('n', keys.close, close, { buffer = buf, desc = 'codebench: close the chat' })
  end
end

--- `send` (normal mode), `send_insert` (insert mode) and `close` in the input area.
---@param buf integer
function M.input(buf)
  local keys = config.get().keys
  if keys.send then
    vim.keymap.set('n', keys.send, submit, { buffer = buf, desc = 'codebench: send' })
  end
  if keys.send_insert then
    vim.keymap.set('i', keys.send_insert, submit, { buffer = buf, desc = 'codebench: send' })
  end
  if keys.close then
    vim.keymap.set('n', keys.close, close, { buffer = buf, desc = 'codebench: close the chat' })
  end
end

return M
