---@mod codebench.history Past sessions: list, search, reopen

local chat = require('codebench.chat')
local lsp = require('codebench.lsp')
local picker = require('codebench.picker')

local M = {}

---@class codebench.SessionInfo
---@field id string
---@field title string
---@field workspaceUri string
---@field provider string
---@field createdAt string
---@field updatedAt string
---@field messageCount integer
---@field lastMessagePreview string?
---@field author string? A teammate's session (pulled by team sync): who wrote it. Absent on your own.
---@field teamWorkspace string? A teammate's session: its workspace's team identity.

---@class codebench.SearchHit
---@field messageId integer
---@field sessionId string
---@field sessionTitle string
---@field role string
---@field snippet string
---@field createdAt string

--- "2026-11-21T05:20:03.120Z" → "2026-11-21 05:20".
---@param iso string?
---@return string
local function short_time(iso)
  return iso and (iso:gsub('^(%d+%-%d+%-%d+)T(%d+:%d+).*$', '%1 %2')) or ''
end

---@param session codebench.SessionInfo
---@return string
function M.format_session(session)
  local title = session.author and ('[%s] %s'):format(session.author, session.title) or session.title
  return ('%s  %s  (%d messages)'):format(short_time(session.updatedAt), title, session.messageCount or 0)
end

--- Reopens a session in the chat panel; the next message there continues it. A teammate's
--- session (one with an `author`) is shown read-only, each message under its author.
---@param session { id: string, title: string?, author: string? }
---@param callback fun()?
function M.open_session(session, callback)
  lsp.request('codebench/messages', { sessionId = session.id }, function(err, result)
    if err or not result then
      if callback then
        callback()
      end
      return
    end
    -- Each run's proposal and what became of it, shown after that run's answer; what each run
    -- did (its tool steps), shown under its request.
    lsp.request('codebench/proposals', { sessionId = session.id }, function(proposals_err, proposals)
      local found = not proposals_err and proposals and proposals.proposals or {}
      lsp.request('codebench/runs', { sessionId = session.id }, function(runs_err, runs)
        chat.show_session(session, result.messages or {}, found, not runs_err and runs and runs.runs or {})
        if callback then
          callback()
        end
      end, { silent = true })
    end, { silent = true })
  end)
end

--- The workspace this editor works in, as the server records it.
---@return string?
local function workspace_uri()
  local client = lsp.ensure_client()
  if client and client.workspace_folders and client.workspace_folders[1] then
    return client.workspace_folders[1].uri
  end
  return client and client.root_dir and vim.uri_from_fname(client.root_dir) or nil
end

--- Fetches this workspace's sessions: your own (most recent first), then your teammates' that
--- team sync pulled (most recent first).
---@param callback fun(sessions: codebench.SessionInfo[])
---@param opts { all: boolean? }?
function M.sessions(callback, opts)
  local params = { limit = 200 }
  if not (opts and opts.all) then
    params.workspaceUri = workspace_uri()
  end
  lsp.request('codebench/sessions', params, function(err, result)
    if err or not result then
      return
    end
    local sessions = result.sessions or {}
    local team_params = vim.tbl_extend('force', params, { team = true })
    lsp.request('codebench/sessions', team_params, function(team_err, team_result)
      for _, session in ipairs(not team_err and team_result and team_result.sessions or {}) do
        -- Only those with an author: a server without team history ignores `team` and would
        -- list your own sessions a second time.
        if type(session.author) == 'string' then
          table.insert(sessions, session)
        end
      end
      callback(sessions)
    end, { silent = true })
  end)
end

--- `:Codebench history`: pick one of this workspace's sessions (yours, then your teammates') and
--- reopen it.
---@param opts { all: boolean? }?
function M.pick(opts)
  M.sessions(function(sessions)
    if #sessions == 0 then
      vim.notify('codebench: no sessions in this workspace yet', vim.log.levels.INFO)
      return
    end
    picker.select(sessions, { prompt = 'codebench sessions', format_item = M.format_session }, function(session)
      if session then
        M.open_session(session)
      end
    end)
  end, opts)
end

--- A search excerpt as one line without the server's `⟦`/`⟧` match markers.
---@param snippet string
---@return string
function M.plain_snippet(snippet)
  local plain = (snippet or ''):gsub('\n', ' '):gsub('⟦', ''):gsub('⟧', '')
  return plain
end

--- `:Codebench search {query}`: full-text search over all sessions; picking a hit reopens it.
---@param query string
function M.search(query)
  if vim.trim(query or '') == '' then
    vim.ui.input({ prompt = 'codebench search: ' }, function(text)
      if text and vim.trim(text) ~= '' then
        M.search(vim.trim(text))
      end
    end)
    return
  end
  lsp.request('codebench/search', { query = query, limit = 100 }, function(err, result)
    if err or not result then
      return
    end
    local hits = result.hits or {}
    if #hits == 0 then
      vim.notify('codebench: nothing matches ' .. query, vim.log.levels.INFO)
      return
    end
    picker.select(hits, {
      prompt = 'codebench search: ' .. query,
      ---@param hit codebench.SearchHit
      format_item = function(hit)
        return ('%s  %s: %s'):format(hit.sessionTitle, hit.role, M.plain_snippet(hit.snippet))
      end,
    }, function(hit)
      if hit then
        M.open_session({ id = hit.sessionId, title = hit.sessionTitle })
      end
    end)
  end)
end

return M
