---@mod codebench.chat.transcript Writing into the transcript buffer
---
--- The transcript is not modifiable, so that typing in it cannot corrupt what the stream appends:
--- every write goes through `edit`. Lines that change later (a tool's `…` becoming `✓`) and line
--- highlights are extmarks in this module's namespace.

local buffers = require('codebench.chat.buffers')

local M = {}

local ns = vim.api.nvim_create_namespace('codebench.chat')

--- Runs `fn` with the transcript modifiable.
---@param fn fun(buf: integer)
function M.edit(fn)
  local buf = buffers.transcript()
  vim.bo[buf].modifiable = true
  local ok, problem = pcall(fn, buf)
  vim.bo[buf].modifiable = false
  if not ok then
    error(problem)
  end
end

--- Appends text at the end of the transcript (newlines start new lines).
---@param buf integer
---@param text string
function M.append_text(buf, text)
  local last = vim.api.nvim_buf_line_count(buf) - 1
  local line = vim.api.nvim_buf_get_lines(buf, last, last + 1, false)[1] or ''
  vim.api.nvim_buf_set_text(buf, last, #line, last, #line, vim.split(text, '\n', { plain = true }))
end

--- Ends the current line when it has text.
---@param buf integer
function M.ensure_line_start(buf)
  local last = vim.api.nvim_buf_line_count(buf) - 1
  if (vim.api.nvim_buf_get_lines(buf, last, last + 1, false)[1] or '') ~= '' then
    M.append_text(buf, '\n')
  end
end

--- Writes one whole line (plus a line break) and highlights it.
---@param buf integer
---@param text string
---@param hl string?
---@return integer extmark
function M.append_line(buf, text, hl)
  M.ensure_line_start(buf)
  local row = vim.api.nvim_buf_line_count(buf) - 1
  M.append_text(buf, text .. '\n')
  return vim.api.nvim_buf_set_extmark(buf, ns, row, 0, { line_hl_group = hl, end_row = row })
end

--- Rewrites the line an `append_line` extmark points at (gone lines are left alone).
---@param buf integer
---@param mark integer
---@param text string
---@param hl string?
function M.replace_line(buf, mark, text, hl)
  local pos = vim.api.nvim_buf_get_extmark_by_id(buf, ns, mark, {})
  if not pos[1] then
    return
  end
  vim.api.nvim_buf_set_lines(buf, pos[1], pos[1] + 1, false, { text })
  vim.api.nvim_buf_set_extmark(buf, ns, pos[1], 0, { id = mark, line_hl_group = hl })
end

local folds = vim.api.nvim_create_namespace('codebench.chat.folds')

--- Closes rows `first`..`last` (0-based) into a fold in one window.
---@param win integer
---@param first integer
---@param last integer
local function fold_in(win, first, last)
  vim.wo[win].foldmethod = 'manual'
  vim.wo[win].foldenable = true
  vim.api.nvim_win_call(win, function()
    vim.cmd(('silent! %d,%dfold'):format(first + 1, last + 1))
  end)
end

--- Folds rows `first`..`last` (0-based) closed in every window showing the transcript, and
--- remembers them so a window opened later folds them too (manual folds belong to a window).
---@param buf integer
---@param first integer
---@param last integer
function M.fold(buf, first, last)
  vim.api.nvim_buf_set_extmark(buf, folds, first, 0, { end_row = last })
  for _, win in ipairs(vim.fn.win_findbuf(buf)) do
    fold_in(win, first, last)
  end
end

--- Folds every remembered range in a window that now shows the transcript.
---@param buf integer
---@param win integer
function M.refold(buf, win)
  vim.api.nvim_win_call(win, function()
    vim.cmd('silent! normal! zE')
  end)
  for _, mark in ipairs(vim.api.nvim_buf_get_extmarks(buf, folds, 0, -1, { details = true })) do
    fold_in(win, mark[2], mark[4].end_row or mark[2])
  end
end

--- Empties the transcript, highlights and folds included.
---@param buf integer
function M.clear(buf)
  vim.api.nvim_buf_clear_namespace(buf, ns, 0, -1)
  vim.api.nvim_buf_clear_namespace(buf, folds, 0, -1)
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, {})
  for _, win in ipairs(vim.fn.win_findbuf(buf)) do
    vim.api.nvim_win_call(win, function()
      vim.cmd('silent! normal! zE')
    end)
  end
end

--- Windows showing the transcript whose cursor sits on its last line (or that are not focused).
---@param buf integer
---@return integer[]
function M.following_windows(buf)
  local wins = {}
  local last = vim.api.nvim_buf_line_count(buf)
  for _, win in ipairs(vim.fn.win_findbuf(buf)) do
    if win ~= vim.api.nvim_get_current_win() or vim.api.nvim_win_get_cursor(win)[1] >= last - 1 then
      table.insert(wins, win)
    end
  end
  return wins
end

--- Keeps windows that showed the end of the transcript following it.
---@param buf integer
---@param followers integer[]
function M.scroll(buf, followers)
  local last = vim.api.nvim_buf_line_count(buf)
  for _, win in ipairs(followers) do
    if buffers.valid_win(win) and vim.api.nvim_win_get_buf(win) == buf then
      vim.api.nvim_win_set_cursor(win, { last, 0 })
    end
  end
end

return M
