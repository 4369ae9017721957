---@mod codebench.usage Tokens and cost of the model calls, as a table and a bar chart

local lsp = require('codebench.lsp')

local M = {}

---@class codebench.UsageFigures
---@field inputTokens integer Every prompt token, cached ones included.
---@field outputTokens integer
---@field cachedInputTokens integer
---@field costUsd number

---@class codebench.UsageRow: codebench.UsageFigures
---@field key string

---@class codebench.UsageResult
---@field rows codebench.UsageRow[]
---@field totals codebench.UsageFigures

--- Bar length in cells for the largest row (the terminal's `codebench usage` draws the same).
M.chart_width = 40

local FULL = '█'
local PARTIAL = { '', '▏', '▎', '▍', '▌', '▋', '▊', '▉' }

--- 1234567 → "1,234,567".
---@param value number
---@return string
function M.group_digits(value)
  local digits = tostring(math.floor(value + 0.5))
  local grouped = digits:reverse():gsub('(%d%d%d)', '%1,'):reverse()
  return (grouped:gsub('^,', ''))
end

---@param value number
---@return string
function M.format_usd(value)
  return ('$%.4f'):format(value)
end

--- Session ids shortened as history shows them; control characters shown, never obeyed.
---@param key string
---@param by string
---@return string
function M.display_key(key, by)
  local shown = by == 'session' and key:sub(1, 8) or key
  return (shown:gsub('%c', function(char)
    return '^' .. string.char((char:byte() + 64) % 128)
  end))
end

--- The bar for value/max over `width` cells, to an eighth of a cell; a non-zero value gets at least an eighth.
---@param value number
---@param max number
---@param width integer
---@return string bar
---@return integer cells How many cells the bar takes.
function M.bar(value, max, width)
  if max <= 0 or value <= 0 then
    return '', 0
  end
  local eighths = math.max(1, math.floor(value / max * width * 8 + 0.5))
  local full = math.floor(eighths / 8)
  local part = PARTIAL[eighths % 8 + 1]
  return FULL:rep(full) .. part, full + (part ~= '' and 1 or 0)
end

---@param values string[]
---@param widths integer[]
---@return string
local function table_line(values, widths)
  local cells = {}
  for column, value in ipairs(values) do
    local pad = (' '):rep(widths[column] - #value)
    cells[column] = column == 1 and value .. pad or pad .. value
  end
  return table.concat(cells, '  ')
end

--- The table (with a totals line), a blank line, then the chart: cost bars when anything cost
--- something, else token bars (input + output). The same text as `codebench usage` prints.
---@param result codebench.UsageResult
---@param by string
---@return string[] lines
---@return { line: integer, from: integer, to: integer, group: string }[] highlights 0-based lines, byte columns
function M.render(result, by)
  local function cells(key, figures)
    return {
      key,
      M.group_digits(figures.inputTokens),
      M.group_digits(figures.cachedInputTokens),
      M.group_digits(figures.outputTokens),
      M.format_usd(figures.costUsd),
    }
  end
  local header = { by, 'input', 'cached', 'output', 'cost' }
  local body = {}
  for index, row in ipairs(result.rows) do
    body[index] = cells(M.display_key(row.key, by), row)
  end
  local total = cells('total', result.totals)
  local widths = {}
  for column = 1, #header do
    local width = math.max(#header[column], #total[column])
    for _, values in ipairs(body) do
      width = math.max(width, #values[column])
    end
    widths[column] = width
  end
  local lines = { table_line(header, widths) }
  local highlights = { { line = 0, from = 0, to = -1, group = 'Comment' } }
  for _, values in ipairs(body) do
    lines[#lines + 1] = table_line(values, widths)
  end
  lines[#lines + 1] = table_line(total, widths)
  highlights[#highlights + 1] = { line = #lines - 1, from = 0, to = -1, group = 'Title' }

  local by_cost = false
  local max = 0
  local function value_of(row)
    return by_cost and row.costUsd or row.inputTokens + row.outputTokens
  end
  for _, row in ipairs(result.rows) do
    by_cost = by_cost or row.costUsd > 0
  end
  local key_width = 0
  for _, row in ipairs(result.rows) do
    max = math.max(max, value_of(row))
    key_width = math.max(key_width, #M.display_key(row.key, by))
  end
  lines[#lines + 1] = ''
  lines[#lines + 1] = by_cost and ('cost (USD) by ' .. by) or ('tokens (input + output) by ' .. by)
  highlights[#highlights + 1] = { line = #lines - 1, from = 0, to = -1, group = 'Comment' }
  for _, row in ipairs(result.rows) do
    local key = M.display_key(row.key, by)
    local drawn, drawn_cells = M.bar(value_of(row), max, M.chart_width)
    local label = by_cost and M.format_usd(row.costUsd) or M.group_digits(row.inputTokens + row.outputTokens)
    local prefix = key .. (' '):rep(key_width - #key) .. '  '
    lines[#lines + 1] = prefix .. drawn .. (' '):rep(M.chart_width + 1 - drawn_cells) .. label
    if drawn ~= '' then
      highlights[#highlights + 1] = { line = #lines - 1, from = #prefix, to = #prefix + #drawn, group = 'Special' }
    end
  end
  return lines, highlights
end

local namespace = vim.api.nvim_create_namespace('codebench_usage')

--- Shows lines in a centred floating window; q or <Esc> closes it.
---@param lines string[]
---@param highlights { line: integer, from: integer, to: integer, group: string }[]
---@param title string
---@return integer win
---@return integer buf
local function float(lines, highlights, title)
  local buf = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  for _, mark in ipairs(highlights) do
    local to = mark.to >= 0 and mark.to or #lines[mark.line + 1]
    vim.api.nvim_buf_set_extmark(buf, namespace, mark.line, mark.from, { end_col = to, hl_group = mark.group })
  end
  vim.bo[buf].modifiable = false
  vim.bo[buf].bufhidden = 'wipe'
  vim.bo[buf].filetype = 'codebench-usage'
  local width = 0
  for _, line in ipairs(lines) do
    width = math.max(width, vim.fn.strdisplaywidth(line))
  end
  width = math.min(width, vim.o.columns - 4)
  local height = math.min(#lines, vim.o.lines - 4)
  local win = vim.api.nvim_open_win(buf, true, {
    relative = 'editor',
    width = width,
    height = height,
    row = math.max(0, math.floor((vim.o.lines - height) / 2) - 1),
    col = math.max(0, math.floor((vim.o.columns - width) / 2)),
    style = 'minimal',
    border = 'rounded',
    title = ' ' .. title .. ' ',
    title_pos = 'center',
  })
  for _, key in ipairs({ 'q', '<Esc>' }) do
    vim.keymap.set('n', key, function()
      if vim.api.nvim_win_is_valid(win) then
        vim.api.nvim_win_close(win, true)
      end
    end, { buffer = buf, nowait = true, desc = 'close codebench usage' })
  end
  return win, buf
end

--- `:Codebench usage [provider|model|day|session]`: the last 30 days' tokens and cost in a
--- floating window, per UTC day unless grouped otherwise.
---@param opts { by: string?, since: string? }?
---@param callback fun(win: integer?, buf: integer?)? Called once shown (nil, nil when there was nothing to show).
function M.open(opts, callback)
  opts = opts or {}
  local by = opts.by or 'day'
  local params = { by = by, since = opts.since }
  lsp.request('codebench/usage', params, function(err, result)
    if err or not result then
      return
    end
    if #result.rows == 0 then
      vim.notify('codebench: no model calls recorded since ' .. (opts.since or '30 days ago'), vim.log.levels.INFO)
      if callback then
        callback(nil, nil)
      end
      return
    end
    local lines, highlights = M.render(result, by)
    local win, buf = float(lines, highlights, 'codebench usage by ' .. by)
    if callback then
      callback(win, buf)
    end
  end)
end

return M
