---@mod codebench.progress Status line component
---
--- The server reports each run with standard `$/progress` (so `LspProgress`, `vim.lsp.status()`
--- and fidget.nvim work with no setup). This module adds a compact status-line string built from
--- the run events, and redraws status lines when it changes.

local runs = require('codebench.runs')

local M = {}

local spinner = { '⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏' }

--- A short status for the status line: what the agent does now, or how many hunks await review,
--- or '' when idle. Cheap enough to call on every redraw.
---@return string
function M.status()
  local active = runs.active()
  if #active > 0 then
    local run = active[#active]
    local frame = spinner[math.floor(vim.uv.now() / 120) % #spinner + 1]
    local more = #active > 1 and (' +%d'):format(#active - 1) or ''
    return ('%s codebench: %s%s'):format(frame, run.activity or 'starting', more)
  end
  local pending = require('codebench.review').pending_count()
  if pending > 0 then
    return ('codebench: %d hunk%s to review'):format(pending, pending == 1 and '' or 's')
  end
  return ''
end

local redraw_pending = false

--- Redraws status lines, at most every 100 ms.
function M.redraw()
  if redraw_pending then
    return
  end
  redraw_pending = true
  vim.defer_fn(function()
    redraw_pending = false
    vim.cmd.redrawstatus({ bang = true })
  end, 100)
end

runs.subscribe(function()
  M.redraw()
end)

return M
