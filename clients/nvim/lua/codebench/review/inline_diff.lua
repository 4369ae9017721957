---@mod codebench.review.inline_diff Drawing one proposed hunk in a buffer
---
--- The buffer keeps its text: the span the hunk replaces is highlighted as removed (its lines
--- too), and the lines the buffer would have after accepting are shown as virtual lines below
--- (above the next line for a pure insertion). Ranges arrive in the client's position encoding
--- and are converted to byte columns here.

local lsp = require('codebench.lsp')

local M = {}

M.ns = vim.api.nvim_create_namespace('codebench.review')

---@param text string
---@return string[]
local function split_lines(text)
  return vim.split(text, '\n', { plain = true })
end

--- Pads a virtual line so its highlight spans the window like a real diff line.
---@param text string
---@return string
local function pad(text)
  local width = math.max(vim.o.columns, 80)
  local shown = vim.fn.strdisplaywidth(text)
  return shown < width and (text .. string.rep(' ', width - shown)) or text
end

--- Lines inserted above the first line are virtual lines a window at the top of the buffer does
--- not show (they sit above its first row): mark line 1 with a sign, and scroll every window
--- showing the top so the lines are in view.
---@param bufnr integer
---@param count integer
function M.reveal_top(bufnr, count)
  vim.api.nvim_buf_set_extmark(bufnr, M.ns, 0, 0, {
    sign_text = '+↑',
    sign_hl_group = 'CodebenchAddSign',
    priority = 199,
  })
  for _, win in ipairs(vim.fn.win_findbuf(bufnr)) do
    vim.api.nvim_win_call(win, function()
      local view = vim.fn.winsaveview()
      if view.topline == 1 then
        vim.fn.winrestview({ topline = 1, topfill = count })
      end
    end)
  end
end

--- Draws one hunk and returns where it sits.
---@param bufnr integer
---@param hunk codebench.Hunk
---@param encoding string
---@param label string
---@return codebench.HunkView
function M.draw(bufnr, hunk, encoding, label)
  local lines = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
  local count = #lines
  local s, e = hunk.range.start, hunk.range['end']
  local sr, er = math.min(s.line, count), math.min(e.line, count)
  local sline, eline = lines[sr + 1] or '', lines[er + 1] or ''
  local sc, ec = lsp.byte_col(sline, s.character, encoding), lsp.byte_col(eline, e.character, encoding)
  local new_text = hunk.newText or ''

  local first, last, new_lines, anchor_above
  if sc == 0 and ec == 0 and (new_text == '' or new_text:sub(-1) == '\n') then
    -- Whole lines: rows sr .. er-1 become the new lines (an insertion when sr == er).
    first, last = sr, er - 1
    new_lines = new_text == '' and {} or split_lines(new_text:sub(1, -2))
  else
    first, last = sr, er
    local suffix = eline:sub(ec + 1)
    new_lines = split_lines(sline:sub(1, sc) .. new_text .. suffix)
  end
  local removed = math.max(0, last - first + 1)

  -- Removed lines: highlighted in place, with the exact changed text marked.
  for row = first, math.min(last, count - 1) do
    vim.api.nvim_buf_set_extmark(bufnr, M.ns, row, 0, {
      line_hl_group = 'CodebenchDelete',
      sign_text = '-',
      sign_hl_group = 'CodebenchDeleteSign',
      priority = 200,
    })
  end
  if removed > 0 and (sr < er or sc < ec) and sr < count then
    vim.api.nvim_buf_set_extmark(bufnr, M.ns, sr, sc, {
      end_row = math.min(er, count - 1),
      end_col = er < count and ec or #(lines[count] or ''),
      hl_group = 'CodebenchDeleteText',
      priority = 201,
    })
  end

  -- Added lines: virtual lines below the removed ones (above the next line for an insertion).
  local virt_lines = {}
  for _, line in ipairs(new_lines) do
    table.insert(virt_lines, { { '+ ', 'CodebenchAddSign' }, { pad(line), 'CodebenchAdd' } })
  end
  local anchor_row
  if removed > 0 then
    anchor_row, anchor_above = math.min(last, count - 1), false
  elseif first < count then
    anchor_row, anchor_above = first, true
  else
    anchor_row, anchor_above = math.max(count - 1, 0), false
  end
  if #virt_lines > 0 then
    vim.api.nvim_buf_set_extmark(bufnr, M.ns, anchor_row, 0, {
      virt_lines = virt_lines,
      virt_lines_above = anchor_above,
    })
    if anchor_above and anchor_row == 0 then
      M.reveal_top(bufnr, #virt_lines)
    end
  end

  -- A hint at the end of the hunk's first line.
  local hint_row = removed > 0 and math.min(first, count - 1) or anchor_row
  vim.api.nvim_buf_set_extmark(bufnr, M.ns, math.max(hint_row, 0), 0, {
    virt_text = { { '  ' .. label, 'CodebenchHint' } },
    virt_text_pos = 'eol',
  })

  local view_first = removed > 0 and first or anchor_row
  local view_last = removed > 0 and math.min(last, count - 1) or anchor_row
  return {
    index = hunk.index,
    bufnr = bufnr,
    first = view_first,
    last = view_last,
    added = #new_lines,
    removed = removed,
  }
end

return M
