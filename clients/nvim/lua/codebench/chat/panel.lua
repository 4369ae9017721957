---@mod codebench.chat.panel The chat panel's windows
---
--- The transcript window is the panel: when it is gone, `open` builds both windows again (the
--- input area is closed first so it does not linger alone). Neither window is closed when it is
--- the last one, since Neovim cannot close its last window.

local config = require('codebench.config')
local buffers = require('codebench.chat.buffers')
local state = require('codebench.chat.state')
local transcript = require('codebench.chat.transcript')

local M = {}

---@return boolean
function M.is_open()
  return buffers.valid_win(state.win)
end

--- Opens the panel (or focuses it) and puts the cursor in the input area.
---@param opts { focus: boolean? }?
function M.open(opts)
  opts = opts or {}
  local current = vim.api.nvim_get_current_buf()
  if require('codebench.lsp').eligible(current) then
    state.source_buf = current
  end
  local chat = config.get().chat
  if not buffers.valid_win(state.win) then
    -- The transcript window was closed by hand: rebuild the panel, input area included.
    if buffers.valid_win(state.input_win) and #vim.api.nvim_list_wins() > 1 then
      vim.api.nvim_win_close(state.input_win --[[@as integer]], true)
    end
    local vertical = chat.position == 'right' or chat.position == 'left'
    local total = vertical and vim.o.columns or vim.o.lines
    local size = chat.width <= 1 and math.floor(total * chat.width) or math.floor(chat.width)
    local split = ({ right = 'right', left = 'left', bottom = 'below', top = 'above' })[chat.position] or 'right'
    state.win = vim.api.nvim_open_win(buffers.transcript(), false, {
      split = split,
      win = -1,
      width = vertical and size or nil,
      height = (not vertical) and size or nil,
    })
    vim.wo[state.win].wrap = true
    vim.wo[state.win].linebreak = true
    vim.wo[state.win].number = false
    vim.wo[state.win].relativenumber = false
    vim.wo[state.win].signcolumn = 'no'
    vim.wo[state.win].winfixwidth = vertical
    state.input_win = vim.api.nvim_open_win(buffers.input(), false, {
      split = 'below',
      win = state.win,
      height = chat.input_height,
    })
    vim.wo[state.input_win].number = false
    vim.wo[state.input_win].relativenumber = false
    vim.wo[state.input_win].winfixheight = true
    vim.wo[state.input_win].winbar = '%#CodebenchChatHeader#codebench%* — '
      .. (config.get().keys.send or '')
      .. ' to send'
    transcript.scroll(buffers.transcript(), { state.win })
  end
  if opts.focus ~= false and buffers.valid_win(state.input_win) then
    vim.api.nvim_set_current_win(state.input_win --[[@as integer]])
  end
end

function M.close()
  for _, win in ipairs({ state.input_win, state.win }) do
    if buffers.valid_win(win) and #vim.api.nvim_list_wins() > 1 then
      vim.api.nvim_win_close(win, true)
    end
  end
  state.win, state.input_win = nil, nil
end

function M.toggle()
  if M.is_open() then
    M.close()
  else
    M.open()
  end
end

return M
