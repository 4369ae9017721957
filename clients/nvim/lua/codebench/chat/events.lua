---@mod codebench.chat.events Writing runs' events into the transcript
---
--- Each followed run remembers how many of its events are written, so a flush writes only what
--- is new. Flushes are batched: at most one per `chat.throttle_ms`, so a fast stream does not
--- redraw on every token while the user types elsewhere.

local config = require('codebench.config')
local runs = require('codebench.runs')
local buffers = require('codebench.chat.buffers')
local state = require('codebench.chat.state')
local transcript = require('codebench.chat.transcript')

local M = {}

local append_text, append_line = transcript.append_text, transcript.append_line

---@param buf integer
---@param run codebench.Run
---@param followed codebench.FollowedRun
---@param event codebench.RunEvent
local function render_event(buf, run, followed, event)
  if event.type == 'text' then
    append_text(buf, event.text or '')
  elseif event.type == 'tool-started' then
    followed.tools[event.callId or ''] =
      append_line(buf, '⚙ ' .. (event.activity or event.name or 'tool') .. ' …', 'CodebenchChatTool')
  elseif event.type == 'tool-finished' then
    local mark = followed.tools[event.callId or '']
    local text = (event.isError and '✗ ' or '✓ ') .. (event.activity or event.name or 'tool')
    local hl = event.isError and 'CodebenchChatError' or 'CodebenchChatTool'
    if mark then
      transcript.replace_line(buf, mark, text, hl)
    else
      append_line(buf, text, hl)
    end
  elseif event.type == 'notice' then
    append_line(buf, '⚠ ' .. (event.message or ''), 'CodebenchChatNotice')
  elseif event.type == 'proposal' then
    local keys = config.get().keys
    local hint = keys.accept_hunk
        and (' — review in the buffer: %s accept hunk, %s reject hunk, %s accept all, %s reject all'):format(
          keys.accept_hunk,
          keys.reject_hunk or '-',
          keys.accept_all or '-',
          keys.reject_all or '-'
        )
      or ''
    append_line(buf, '✎ proposed changes to ' .. (event.summary or '') .. hint, 'CodebenchChatProposal')
  elseif event.type == 'finished' then
    local status = event.status or run.status
    local text = status == 'completed' and ('— ' .. (event.summary or 'done'))
      or status == 'cancelled' and '— cancelled'
      or ('— failed: ' .. (event.error or event.summary or 'unknown error'))
    append_line(buf, text, status == 'failed' and 'CodebenchChatError' or 'CodebenchChatStatus')
    append_text(buf, '\n')
  end
end

--- Writes every event not yet shown. Called at most once per throttle period.
function M.flush()
  state.flush_scheduled = false
  if not buffers.valid_buf(state.transcript) then
    return
  end
  local buf = state.transcript --[[@as integer]]
  local followers = transcript.following_windows(buf)
  transcript.edit(function()
    for _, run_id in ipairs(state.order) do
      local run = runs.get(run_id)
      local followed = state.followed[run_id]
      if run and followed then
        while followed.rendered < #run.events do
          followed.rendered = followed.rendered + 1
          render_event(buf, run, followed, run.events[followed.rendered])
        end
      end
    end
  end)
  transcript.scroll(buf, followers)
end

function M.schedule_flush()
  if state.flush_scheduled then
    return
  end
  state.flush_scheduled = true
  vim.defer_fn(M.flush, math.max(0, config.get().chat.throttle_ms))
end

--- Shows a run in the transcript from its first event on, under the instruction that started it.
---@param run codebench.Run
function M.follow(run)
  if state.followed[run.id] then
    return
  end
  state.followed[run.id] = { rendered = 0, tools = {} }
  table.insert(state.order, run.id)
  state.session_id = run.session_id or state.session_id
  transcript.edit(function(buf)
    transcript.ensure_line_start(buf)
    if vim.api.nvim_buf_line_count(buf) > 1 then
      append_text(buf, '\n')
    end
    append_line(buf, '## You', 'CodebenchChatHeader')
    append_text(buf, (run.instruction or '(code action)') .. '\n\n')
    append_line(buf, '## codebench', 'CodebenchChatHeader')
  end)
  M.schedule_flush()
end

return M
