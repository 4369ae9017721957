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
          config.key_label(keys.accept_hunk),
          config.key_label(keys.reject_hunk),
          config.key_label(keys.accept_all),
          config.key_label(keys.reject_all)
        )
      or ''
    append_line(buf, '✎ proposed changes to ' .. (event.summary or '') .. hint, 'CodebenchChatProposal')
  elseif event.type == 'finished' then
    local status = event.status or run.status
    local text = status == 'completed' and ('— ' .. M.ending(run, event.summary))
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
  require('codebench.chat.conversation').draw_queue(buf)
  transcript.scroll(buf, followers)
end

function M.schedule_flush()
  if state.flush_scheduled then
    return
  end
  state.flush_scheduled = true
  vim.defer_fn(M.flush, math.max(0, config.get().chat.throttle_ms))
end

--- The end line of a completed run. With no proposal the server sums the run up with the first
--- line of the answer, which the transcript already shows: written again it reads as the reply
--- repeating itself, so only what it adds (a note in parentheses) is kept.
---@param run codebench.Run
---@param summary string?
---@return string
function M.ending(run, summary)
  summary = summary or 'done'
  local streamed = {}
  for _, event in ipairs(run.events) do
    if event.type == 'text' then
      table.insert(streamed, event.text or '')
    end
  end
  local first = vim.trim((vim.trim(table.concat(streamed)) .. '\n'):match('^([^\n]*)') or '')
  if first == '' then
    return summary
  end
  -- The server cuts a long first line with an ellipsis.
  local cut = summary:match('^(.-)…$')
  if summary == first or (cut and #cut > 0 and first:sub(1, #cut) == cut) then
    return 'done'
  end
  if summary:sub(1, #first + 2) == first .. ' (' then
    return 'done' .. summary:sub(#first + 1)
  end
  return summary
end

--- The heading of an ask: the file and lines it was about.
---@param context codebench.AskContext?
---@return string
local function ask_heading(context)
  if not context or not context.path then
    return '## You'
  end
  if not context.first then
    return ('## You — %s'):format(context.path)
  end
  local lines = context.first == context.last and tostring(context.first + 1)
    or ('%d-%d'):format(context.first + 1, context.last + 1)
  return ('## You — %s:%s'):format(context.path, lines)
end

--- Shows a run in the transcript from its first event on, under the instruction that started it
--- (with the file, lines and selected code it was about, the code folded).
---@param run codebench.Run
function M.follow(run)
  if state.followed[run.id] then
    return
  end
  -- What earlier runs still have to write goes first, so the new heading follows it.
  M.flush()
  state.followed[run.id] = { rendered = 0, tools = {} }
  table.insert(state.order, run.id)
  local new_session = state.session_id ~= nil and run.session_id ~= nil and run.session_id ~= state.session_id
  state.session_id = run.session_id or state.session_id
  transcript.edit(function(buf)
    transcript.ensure_line_start(buf)
    if vim.api.nvim_buf_line_count(buf) > 1 then
      append_text(buf, '\n')
    end
    if new_session then
      -- The model does not see what is above: say so rather than let the page suggest it.
      append_line(buf, '# New session: ' .. (run.instruction or 'code action'), 'CodebenchChatHeader')
      append_line(buf, 'the model does not see the conversation above', 'CodebenchChatStatus')
      append_text(buf, '\n')
    end
    append_line(buf, ask_heading(run.context), 'CodebenchChatHeader')
    append_text(buf, (run.instruction or '(code action)') .. '\n')
    local code = run.context and run.context.code
    if code and #code > 0 then
      local first = vim.api.nvim_buf_line_count(buf) - 1
      append_text(buf, '```' .. (run.context.filetype or '') .. '\n' .. table.concat(code, '\n') .. '\n```\n')
      transcript.fold(buf, first, vim.api.nvim_buf_line_count(buf) - 2)
    end
    append_text(buf, '\n')
    append_line(buf, '## codebench', 'CodebenchChatHeader')
  end)
  M.schedule_flush()
end

return M
