---@mod codebench.chat The chat panel
---
--- A split with a markdown transcript buffer and an input area below it. The transcript is
--- written from the server's `codebench/runEvents` (text streamed live, tool steps as one compact
--- line each), redrawn at most once per `chat.throttle_ms` so typing elsewhere stays smooth.

local config = require('codebench.config')
local runs = require('codebench.runs')

local M = {}

local ns = vim.api.nvim_create_namespace('codebench.chat')

---@class codebench.FollowedRun
---@field rendered integer Events already written to the transcript.
---@field tools table<string, integer> callId → extmark of its line.

---@class codebench.ChatState
---@field session_id string? The conversation the next message continues.
---@field transcript integer? Transcript buffer.
---@field input integer? Input buffer.
---@field win integer? Transcript window.
---@field input_win integer? Input window.
---@field followed table<string, codebench.FollowedRun>
---@field order string[] Followed run ids, in the order they started.
---@field flush_scheduled boolean
---@field source_buf integer? The last file buffer, asked about from the chat.
local state = {
  session_id = nil,
  followed = {},
  order = {},
  flush_scheduled = false,
}

M.state = state

---@param buf integer?
---@return boolean
local function valid_buf(buf)
  return buf ~= nil and vim.api.nvim_buf_is_valid(buf)
end

---@param win integer?
---@return boolean
local function valid_win(win)
  return win ~= nil and vim.api.nvim_win_is_valid(win)
end

---@param name string
---@param filetype string
---@return integer
local function scratch(name, filetype)
  local buf = vim.api.nvim_create_buf(false, true)
  vim.bo[buf].buftype = 'nofile'
  vim.bo[buf].bufhidden = 'hide'
  vim.bo[buf].swapfile = false
  pcall(vim.api.nvim_buf_set_name, buf, name)
  -- A broken ftplugin (e.g. a missing tree-sitter parser on 0.12) must not break the panel.
  local ok, problem = pcall(function()
    vim.bo[buf].filetype = filetype
  end)
  if not ok then
    vim.notify_once(
      'codebench: the ' .. filetype .. ' filetype plugin failed: ' .. tostring(problem),
      vim.log.levels.WARN
    )
  end
  return buf
end

---@return integer
local function transcript_buf()
  if not valid_buf(state.transcript) then
    state.transcript = scratch('codebench://chat', 'markdown')
    vim.bo[state.transcript].modifiable = false
    local close = config.get().keys.close
    if close then
      vim.keymap.set('n', close, M.close, { buffer = state.transcript, desc = 'codebench: close the chat' })
    end
  end
  return state.transcript --[[@as integer]]
end

---@return integer
local function input_buf()
  if not valid_buf(state.input) then
    state.input = scratch('codebench://input', 'markdown')
    local keys = config.get().keys
    if keys.send then
      vim.keymap.set('n', keys.send, M.submit, { buffer = state.input, desc = 'codebench: send' })
    end
    if keys.send_insert then
      vim.keymap.set('i', keys.send_insert, M.submit, { buffer = state.input, desc = 'codebench: send' })
    end
    if keys.close then
      vim.keymap.set('n', keys.close, M.close, { buffer = state.input, desc = 'codebench: close the chat' })
    end
  end
  return state.input --[[@as integer]]
end

--- Runs `fn` with the transcript modifiable.
---@param fn fun(buf: integer)
local function edit(fn)
  local buf = transcript_buf()
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
local function append_text(buf, text)
  local last = vim.api.nvim_buf_line_count(buf) - 1
  local line = vim.api.nvim_buf_get_lines(buf, last, last + 1, false)[1] or ''
  vim.api.nvim_buf_set_text(buf, last, #line, last, #line, vim.split(text, '\n', { plain = true }))
end

--- Ends the current line when it has text.
---@param buf integer
local function ensure_line_start(buf)
  local last = vim.api.nvim_buf_line_count(buf) - 1
  if (vim.api.nvim_buf_get_lines(buf, last, last + 1, false)[1] or '') ~= '' then
    append_text(buf, '\n')
  end
end

--- Writes one whole line (plus a line break) and highlights it.
---@param buf integer
---@param text string
---@param hl string?
---@return integer extmark
local function append_line(buf, text, hl)
  ensure_line_start(buf)
  local row = vim.api.nvim_buf_line_count(buf) - 1
  append_text(buf, text .. '\n')
  return vim.api.nvim_buf_set_extmark(buf, ns, row, 0, { line_hl_group = hl, end_row = row })
end

---@param buf integer
---@param mark integer
---@param text string
---@param hl string?
local function replace_line(buf, mark, text, hl)
  local pos = vim.api.nvim_buf_get_extmark_by_id(buf, ns, mark, {})
  if not pos[1] then
    return
  end
  vim.api.nvim_buf_set_lines(buf, pos[1], pos[1] + 1, false, { text })
  vim.api.nvim_buf_set_extmark(buf, ns, pos[1], 0, { id = mark, line_hl_group = hl })
end

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
      replace_line(buf, mark, text, hl)
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

--- Keeps windows that showed the end of the transcript following it.
---@param buf integer
---@param followers integer[]
local function scroll(buf, followers)
  local last = vim.api.nvim_buf_line_count(buf)
  for _, win in ipairs(followers) do
    if valid_win(win) and vim.api.nvim_win_get_buf(win) == buf then
      vim.api.nvim_win_set_cursor(win, { last, 0 })
    end
  end
end

--- Windows showing the transcript whose cursor sits on its last line (or that are not focused).
---@param buf integer
---@return integer[]
local function following_windows(buf)
  local wins = {}
  local last = vim.api.nvim_buf_line_count(buf)
  for _, win in ipairs(vim.fn.win_findbuf(buf)) do
    if win ~= vim.api.nvim_get_current_win() or vim.api.nvim_win_get_cursor(win)[1] >= last - 1 then
      table.insert(wins, win)
    end
  end
  return wins
end

--- Writes every event not yet shown. Called at most once per throttle period.
function M.flush()
  state.flush_scheduled = false
  if not valid_buf(state.transcript) then
    return
  end
  local buf = state.transcript --[[@as integer]]
  local followers = following_windows(buf)
  edit(function()
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
  scroll(buf, followers)
end

local function schedule_flush()
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
  edit(function(buf)
    ensure_line_start(buf)
    if vim.api.nvim_buf_line_count(buf) > 1 then
      append_text(buf, '\n')
    end
    append_line(buf, '## You', 'CodebenchChatHeader')
    append_text(buf, (run.instruction or '(code action)') .. '\n\n')
    append_line(buf, '## codebench', 'CodebenchChatHeader')
  end)
  schedule_flush()
end

runs.subscribe(function(run, events)
  if state.followed[run.id] then
    if #events > 0 then
      schedule_flush()
    end
  elseif #events > 0 and run.session_id and run.session_id == state.session_id and valid_buf(state.transcript) then
    -- A run of this conversation started elsewhere (a code action): show it too. Our own asks
    -- are followed when `codebench.ask` answers, which may come just after the first events.
    vim.defer_fn(function()
      if not state.followed[run.id] then
        M.follow(run)
      end
    end, 250)
  end
end)

---@return boolean
function M.is_open()
  return valid_win(state.win)
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
  if not valid_win(state.win) then
    -- The transcript window was closed by hand: rebuild the panel, input area included.
    if valid_win(state.input_win) and #vim.api.nvim_list_wins() > 1 then
      vim.api.nvim_win_close(state.input_win --[[@as integer]], true)
    end
    local vertical = chat.position == 'right' or chat.position == 'left'
    local total = vertical and vim.o.columns or vim.o.lines
    local size = chat.width <= 1 and math.floor(total * chat.width) or math.floor(chat.width)
    local split = ({ right = 'right', left = 'left', bottom = 'below', top = 'above' })[chat.position] or 'right'
    state.win = vim.api.nvim_open_win(transcript_buf(), false, {
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
    state.input_win = vim.api.nvim_open_win(input_buf(), false, {
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
    scroll(transcript_buf(), { state.win })
  end
  if opts.focus ~= false and valid_win(state.input_win) then
    vim.api.nvim_set_current_win(state.input_win --[[@as integer]])
  end
end

function M.close()
  for _, win in ipairs({ state.input_win, state.win }) do
    if valid_win(win) and #vim.api.nvim_list_wins() > 1 then
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

--- Forgets the conversation: the next message starts a new session.
function M.new_session()
  state.session_id = nil
  state.followed, state.order = {}, {}
  if valid_buf(state.transcript) then
    edit(function(buf)
      vim.api.nvim_buf_clear_namespace(buf, ns, 0, -1)
      vim.api.nvim_buf_set_lines(buf, 0, -1, false, {})
    end)
  end
end

--- Shows a stored session's messages and makes it the conversation the input continues.
---@param session { id: string, title: string? }
---@param messages { role: string, content: string }[]
function M.show_session(session, messages)
  M.new_session()
  state.session_id = session.id
  edit(function(buf)
    append_line(buf, '# ' .. (session.title or session.id), 'CodebenchChatHeader')
    for _, message in ipairs(messages) do
      append_text(buf, '\n')
      append_line(
        buf,
        message.role == 'user' and '## You' or ('## ' .. (message.role == 'assistant' and 'codebench' or message.role)),
        'CodebenchChatHeader'
      )
      append_text(buf, (message.content or '') .. '\n')
    end
  end)
  M.open()
end

--- The text of the input area, which is then cleared.
---@return string
local function take_input()
  local buf = input_buf()
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
  require('codebench.ask').ask({
    instruction = text,
    bufnr = M.source_buffer(),
    session_id = state.session_id,
    open_chat = true,
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
