---@mod codebench.chat.conversation One conversation per panel: sending, queueing, stopping
---
--- The panel shows one answer at a time. A message sent (or a code action run) while an answer
--- streams waits in a queue, shown in the transcript as pending, and goes out when that answer
--- ends: two answers written into one transcript at once cannot be read. Every message continues
--- the panel's session, so the transcript is what the model saw.

local config = require('codebench.config')
local runs = require('codebench.runs')
local state = require('codebench.chat.state')

local M = {}

--- The panel's runs still going.
---@return codebench.Run[]
function M.running()
  local found = {}
  for _, run_id in ipairs(state.order) do
    local run = runs.get(run_id)
    if run and run.status == 'running' then
      table.insert(found, run)
    end
  end
  return found
end

--- True while an answer streams into the panel (or is about to).
---@return boolean
function M.busy()
  return state.sending or #M.running() > 0
end

local queue_ns = vim.api.nvim_create_namespace('codebench.chat.queue')

--- Shows the queued messages below the transcript's last line as virtual lines: written into
--- the text they would split the line the answer is streaming into.
---@param buf integer
function M.draw_queue(buf)
  vim.api.nvim_buf_clear_namespace(buf, queue_ns, 0, -1)
  if #state.queue == 0 then
    return
  end
  local lines = {}
  for _, item in ipairs(state.queue) do
    local first = vim.split(vim.trim(item.opts.instruction or ''), '\n', { plain = true })[1] or ''
    local text = ('⏳ queued: %s — sent when the answer above ends (%s stops it)'):format(
      first,
      config.key_label(config.get().keys.cancel)
    )
    table.insert(lines, { { text, 'CodebenchChatStatus' } })
  end
  local last = vim.api.nvim_buf_line_count(buf) - 1
  vim.api.nvim_buf_set_extmark(buf, queue_ns, last, 0, { virt_lines = lines })
end

--- The queued messages' lines, as the transcript shows them (for tests and the status line).
---@return string[]
function M.queued()
  return vim.tbl_map(function(item)
    return item.opts.instruction or ''
  end, state.queue)
end

--- Queues an ask until the running answer ends; the transcript shows it as pending.
---@param opts codebench.AskOptions
function M.enqueue(opts)
  table.insert(state.queue, { opts = opts })
  M.draw_queue(require('codebench.chat.buffers').transcript())
end

--- Sends an ask for the panel: it continues the panel's session and uses the panel's provider.
---@param opts codebench.AskOptions
function M.send(opts)
  if M.busy() then
    M.enqueue(opts)
    return
  end
  opts.open_chat = true
  if opts.session_id == nil and not state.viewing_author then
    opts.session_id = state.session_id
  end
  opts.provider = opts.provider or state.provider
  state.sending = true
  local on_started, on_failed = opts.on_started, opts.on_failed
  opts.on_started = function(run)
    state.sending = false
    if on_started then
      on_started(run)
    end
  end
  opts.on_failed = function(problem)
    state.sending = false
    if on_failed then
      on_failed(problem)
    end
    M.send_next()
  end
  require('codebench.ask').start(opts)
end

--- Sends the oldest queued message, once nothing streams.
function M.send_next()
  if M.busy() or #state.queue == 0 then
    return
  end
  local item = table.remove(state.queue, 1)
  M.draw_queue(require('codebench.chat.buffers').transcript())
  M.send(item.opts)
end

--- Stops the panel's answer. Queued messages go back to the input area, so nothing typed is lost.
function M.cancel()
  local active = M.running()
  if #state.queue > 0 then
    local texts = {}
    for _, item in ipairs(state.queue) do
      table.insert(texts, item.opts.instruction or '')
    end
    state.queue = {}
    M.draw_queue(require('codebench.chat.buffers').transcript())
    local input = require('codebench.chat.buffers').input()
    vim.api.nvim_buf_set_lines(input, 0, -1, false, vim.split(table.concat(texts, '\n'), '\n', { plain = true }))
  end
  if #active == 0 then
    require('codebench.ask').cancel()
    return
  end
  for _, run in ipairs(active) do
    require('codebench.lsp').request('codebench/cancel', { runId = run.id }, nil, { client_id = run.client_id })
  end
end

-- When the panel's answer ends, the next queued message goes (after the last events are written).
runs.subscribe(function(run)
  if state.followed[run.id] and run.status ~= 'running' and #state.queue > 0 then
    vim.schedule(function()
      require('codebench.chat.events').flush()
      M.send_next()
    end)
  end
end)

return M
