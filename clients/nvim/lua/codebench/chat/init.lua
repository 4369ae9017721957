---@mod codebench.chat The chat panel
---
--- A split with a markdown transcript buffer and an input area below it. The transcript is
--- written from the server's `codebench/runEvents` (text streamed live, tool steps as one compact
--- line each), redrawn at most once per `chat.throttle_ms` so typing elsewhere stays smooth.
---
--- This module is the panel's public face (ask, history, commands and tests use it). The work is
--- split under `chat/`: `state` (what the panel remembers), `buffers` + `keymaps` (the two scratch
--- buffers and their keys), `transcript` + `events` (drawing), `panel` (the windows). Messages
--- reach the server through `codebench.ask`.

local runs = require('codebench.runs')
local buffers = require('codebench.chat.buffers')
local conversation = require('codebench.chat.conversation')
local events = require('codebench.chat.events')
local panel = require('codebench.chat.panel')
local state = require('codebench.chat.state')
local transcript = require('codebench.chat.transcript')

local M = {}

M.state = state
M.flush = events.flush
M.follow = events.follow
M.is_open = panel.is_open
M.open = panel.open
M.close = panel.close
M.toggle = panel.toggle
M.busy = conversation.busy
M.cancel = conversation.cancel
M.pick_model = panel.pick_model

runs.subscribe(function(run, new_events)
  if state.followed[run.id] then
    if #new_events > 0 then
      events.schedule_flush()
    end
  elseif
    #new_events > 0
    and run.session_id
    and run.session_id == state.session_id
    and buffers.valid_buf(state.transcript)
  then
    -- A run of this conversation started elsewhere (a code action): show it too. Our own asks
    -- are followed when `codebench.ask` answers, which may come just after the first events.
    vim.defer_fn(function()
      if not state.followed[run.id] then
        events.follow(run)
      end
    end, 250)
  end
end)

--- Forgets the conversation: the next message starts a new session.
function M.new_session()
  state.session_id = nil
  state.viewing_author = nil
  state.followed, state.order, state.queue = {}, {}, {}
  if buffers.valid_buf(state.transcript) then
    transcript.edit(transcript.clear)
    conversation.draw_queue(state.transcript --[[@as integer]])
  end
end

--- A message's heading: whose turn it was, with the teammate's name on a teammate's session.
---@param message { role: string, author: string? }
---@return string
local function message_heading(message)
  if message.role == 'user' then
    return '## ' .. (message.author or 'You')
  end
  local speaker = message.role == 'assistant' and 'codebench' or message.role
  return '## ' .. speaker .. (message.author and (' (' .. message.author .. ')') or '')
end

--- Shows a stored session's messages. The user's own session becomes the conversation the input
--- continues; a teammate's (one with an `author`) is only shown: the server keeps it read-only, so
--- a message typed then starts a new session of the user's own.
local proposal_outcomes = {
  proposed = 'still to review (:Codebench review)',
  applied = 'applied',
  unconfirmed = 'applied (not confirmed)',
  discarded = 'rejected',
  conflict = 'no longer applied to the text',
  reverted = 'applied, then undone',
}

--- The line a stored proposal gets in a reopened transcript: what it changed and its fate.
---@param proposal { summary: string, status: string, detail: string? }
---@return string
local function proposal_line(proposal)
  local outcome = proposal_outcomes[proposal.status] or proposal.status
  return ('✎ proposed changes to %s — %s%s'):format(
    proposal.summary or '?',
    outcome,
    proposal.detail and (': ' .. proposal.detail) or ''
  )
end

---@param session { id: string, title: string?, author: string? }
---@param messages { role: string, content: string, author: string?, runId: string? }[]
---@param proposals { runId: string, summary: string, status: string, detail: string? }[]?
---@param run_steps { id: string, steps: string[] }[]?
function M.show_session(session, messages, proposals, run_steps)
  M.new_session()
  local author = session.author
  state.session_id = not author and session.id or nil
  state.viewing_author = author
  transcript.edit(function(buf)
    local title = session.title or session.id
    transcript.append_line(buf, '# ' .. (author and ('[' .. author .. '] ') or '') .. title, 'CodebenchChatHeader')
    if author then
      transcript.append_line(
        buf,
        ("%s's session, read-only: a message sent here starts a new session of yours"):format(author),
        'CodebenchChatStatus'
      )
    end
    local by_run = {}
    for _, proposal in ipairs(proposals or {}) do
      by_run[proposal.runId] = by_run[proposal.runId] or {}
      table.insert(by_run[proposal.runId], proposal)
    end
    local steps_of = {}
    for _, run in ipairs(run_steps or {}) do
      steps_of[run.id] = run.steps
    end
    for i, message in ipairs(messages) do
      transcript.append_text(buf, '\n')
      transcript.append_line(buf, message_heading(message), 'CodebenchChatHeader')
      transcript.append_text(buf, (message.content or '') .. '\n')
      -- Under the request, what its run did, as the live transcript showed it.
      if message.role == 'user' and message.runId and steps_of[message.runId] then
        for _, step in ipairs(steps_of[message.runId]) do
          transcript.append_line(buf, '✓ ' .. step, 'CodebenchChatTool')
        end
        steps_of[message.runId] = nil
      end
      -- After the run's last message, its proposal and outcome.
      local next_message = messages[i + 1]
      if message.runId and by_run[message.runId] and not (next_message and next_message.runId == message.runId) then
        for _, proposal in ipairs(by_run[message.runId]) do
          transcript.append_line(buf, proposal_line(proposal), 'CodebenchChatProposal')
        end
        by_run[message.runId] = nil
      end
    end
  end)
  M.open()
end

--- The text of the input area, which is then cleared.
---@return string
local function take_input()
  local buf = buffers.input()
  local text = vim.trim(table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), '\n'))
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, {})
  return text
end

--- Sends the input area as the next message of the conversation.
function M.submit()
  local text = take_input()
  if text == '' then
    return
  end
  if state.viewing_author then
    -- The teammate's transcript is not this conversation: start the user's own on a clean page.
    M.new_session()
  end
  conversation.send({
    instruction = text,
    bufnr = M.source_buffer(),
    session_id = state.session_id,
  })
end

--- The file buffer messages from the chat are about.
---@return integer?
function M.source_buffer()
  local lsp = require('codebench.lsp')
  if state.source_buf and lsp.eligible(state.source_buf) then
    return state.source_buf
  end
  local alt = vim.fn.bufnr('#')
  if alt > 0 and lsp.eligible(alt) then
    return alt
  end
  for _, buf in ipairs(vim.api.nvim_list_bufs()) do
    if vim.bo[buf].buflisted and lsp.eligible(buf) then
      return buf
    end
  end
  return nil
end

--- Remembers the last file buffer entered (what chat messages are about).
---@param buf integer
function M.note_buffer(buf)
  if require('codebench.lsp').eligible(buf) then
    state.source_buf = buf
  end
end

---@return integer?
function M.transcript()
  return state.transcript
end

return M
