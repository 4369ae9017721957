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

local function cancel()
  require('codebench.chat').cancel()
end

local function pick_model()
  require('codebench.chat').pick_model()
end

--- The keys both buffers share: `close`, `cancel` (also in insert mode: <C-c> would otherwise
--- only leave it) and `model`.
---@param buf integer
local function shared(buf)
  local keys = config.get().keys
  if keys.close then
    vim.keymap.set('n', keys.close, close, { buffer = buf, desc = 'codebench: close the chat' })
  end
  if keys.cancel then
    vim.keymap.set({ 'n', 'i' }, keys.cancel, cancel, { buffer = buf, desc = 'codebench: stop the answer' })
  end
  if keys.model then
    vim.keymap.set('n', keys.model, pick_model, { buffer = buf, desc = 'codebench: switch the provider' })
  end
end

--- `close`, `cancel` and `model` in the transcript.
---@param buf integer
function M.transcript(buf)
  shared(buf)
end

--- `send` (normal mode), `send_insert` (insert mode), `close`, `cancel` and `model` in the input area.
---@param buf integer
function M.input(buf)
  local keys = config.get().keys
  if keys.send then
    vim.keymap.set('n', keys.send, submit, { buffer = buf, desc = 'codebench: send' })
  end
  if keys.send_insert then
    vim.keymap.set('i', keys.send_insert, submit, { buffer = buf, desc = 'codebench: send' })
  end
  shared(buf)
end

return M
