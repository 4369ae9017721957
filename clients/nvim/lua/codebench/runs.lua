---@mod codebench.runs Agent runs as the server reports them
---
--- The server streams each run's events in `codebench/runEvents` notifications (batched at most every 70 ms).
--- This module keeps every run's state and events and tells the listeners (chat, review,
--- status line). It holds no logic of its own: the events are the server's.

---@class codebench.RunEvent
---@field type 'text'|'tool-started'|'tool-finished'|'notice'|'proposal'|'finished'
---@field text string?
---@field callId string?
---@field name string?
---@field activity string?
---@field isError boolean?
---@field message string?
---@field proposalId string?
---@field summary string?
---@field files string[]?
---@field status 'completed'|'failed'|'cancelled'?
---@field error string?

---@class codebench.Run
---@field id string
---@field session_id string?
---@field client_id integer?
---@field instruction string?
---@field status 'running'|'completed'|'failed'|'cancelled'
---@field activity string? What the agent does now ("reading src/a.ts").
---@field summary string?
---@field error string?
---@field proposal_id string?
---@field context codebench.AskContext? What the ask was about (set for the plugin's own asks).
---@field events codebench.RunEvent[] Every event so far, in order.
---@field started_at number

---@alias codebench.RunListener fun(run: codebench.Run, events: codebench.RunEvent[])

local M = {}

---@type table<string, codebench.Run>
M.runs = {}

---@type codebench.RunListener[]
local listeners = {}

--- Calls `listener(run, new_events)` for every batch of events.
---@param listener codebench.RunListener
function M.subscribe(listener)
  table.insert(listeners, listener)
end

---@param run_id string
---@return codebench.Run
local function get_or_create(run_id)
  local run = M.runs[run_id]
  if not run then
    run = { id = run_id, status = 'running', events = {}, started_at = vim.uv.now() }
    M.runs[run_id] = run
  end
  return run
end

---@param run codebench.Run
---@param events codebench.RunEvent[]
local function emit(run, events)
  for _, listener in ipairs(listeners) do
    local ok, problem = pcall(listener, run, events)
    if not ok then
      vim.notify('codebench: ' .. tostring(problem), vim.log.levels.ERROR)
    end
  end
  vim.api.nvim_exec_autocmds('User', {
    pattern = 'CodebenchRun',
    modeline = false,
    data = { run_id = run.id, session_id = run.session_id, status = run.status, activity = run.activity },
  })
end

--- Records a run the plugin started (from the `codebench.ask` answer).
---@param started { runId: string, sessionId: string }
---@param instruction string?
---@param client_id integer?
---@return codebench.Run
function M.started(started, instruction, client_id)
  local run = get_or_create(started.runId)
  run.session_id = started.sessionId
  run.instruction = instruction or run.instruction
  run.client_id = client_id or run.client_id
  emit(run, {})
  return run
end

--- Handler for the `codebench/runEvents` notification.
---@param params { runId: string, sessionId: string, events: codebench.RunEvent[] }
---@param client_id integer?
function M.handle(params, client_id)
  if type(params) ~= 'table' or type(params.runId) ~= 'string' then
    return
  end
  local run = get_or_create(params.runId)
  run.session_id = params.sessionId or run.session_id
  run.client_id = run.client_id or client_id
  local events = params.events or {}
  for _, event in ipairs(events) do
    table.insert(run.events, event)
    if event.type == 'tool-started' then
      run.activity = event.activity
    elseif event.type == 'tool-finished' then
      run.activity = 'thinking'
    elseif event.type == 'text' then
      run.activity = 'writing'
    elseif event.type == 'notice' then
      run.activity = event.message
    elseif event.type == 'proposal' then
      run.proposal_id = event.proposalId
    elseif event.type == 'finished' then
      run.status = event.status or 'completed'
      run.summary = event.summary
      run.error = event.error
      run.activity = nil
    end
  end
  emit(run, events)
end

--- Runs still going, oldest first.
---@return codebench.Run[]
function M.active()
  local active = {}
  for _, run in pairs(M.runs) do
    if run.status == 'running' then
      table.insert(active, run)
    end
  end
  table.sort(active, function(a, b)
    return a.started_at < b.started_at
  end)
  return active
end

---@param run_id string
---@return codebench.Run?
function M.get(run_id)
  return M.runs[run_id]
end

return M
