---@mod codebench.review Inline review of proposed edits
---
--- A run that changes files ends in one proposal. Its hunks (`codebench/proposal`, ranges in the
--- client's position encoding against the current text) are drawn in the affected buffers: the
--- text to be replaced is highlighted as removed, the replacement is shown as virtual lines below
--- it. Accepting or rejecting a hunk (or all of them) is a `codebench.applyProposal` /
--- `codebench.discardProposal` call: the server rebases and sends one WorkspaceEdit, which Neovim
--- applies as one undo step. The plugin never edits a buffer or writes a file itself.
---
--- This module is the review's public face (commands, keys, tests use it). The work is split
--- under `review/`: `state` (the reviews and their hunks), `render` + `inline_diff` (drawing),
--- `keymaps` (the buffer-local keys), `server` (requests and commands).

local config = require('codebench.config')
local runs = require('codebench.runs')
local render = require('codebench.review.render')
local server = require('codebench.review.server')
local state = require('codebench.review.state')

local M = {}

M.ns = require('codebench.review.inline_diff').ns
M.reviews = state.reviews
M.hunks_in = state.hunks_in
M.pending_count = state.pending_count
M.hunk_at_cursor = state.hunk_at_cursor
M.render = render.render
M.show = server.show
M.refresh_buffer = server.refresh_buffer

---@class codebench.DecideOptions
---@field all boolean? Every remaining hunk of the proposal.
---@field bufnr integer? Buffer whose hunk to use (default: current).
---@field index integer? The server's hunk index (default: the hunk under the cursor).
---@field proposal_id string? Which proposal (default: the one under the cursor).
---@field callback fun(status: string?)? Called once the proposal has been read again.

--- The review and hunks a command acts on; nil hunks means all of them.
---@param opts codebench.DecideOptions?
---@return codebench.Review?
---@return integer[]? hunks
local function target(opts)
  opts = opts or {}
  local review, hunks
  if opts.proposal_id then
    review = state.reviews[opts.proposal_id]
  end
  if not review then
    local item = state.hunk_at_cursor(opts.bufnr or vim.api.nvim_get_current_buf())
    if item then
      review = item.review
      hunks = { item.hunk.index }
    end
  end
  if not review then
    -- Outside the reviewed buffers: the only (or most recent) proposal.
    local _, only = next(state.reviews)
    review = only
  end
  if not review then
    vim.notify('codebench: no proposal to review', vim.log.levels.INFO)
    return nil, nil
  end
  if opts.all then
    return review, nil
  end
  if opts.index then
    return review, { opts.index }
  end
  if not hunks then
    local first = review.hunks[1]
    hunks = first and { first.index } or nil
  end
  return review, hunks
end

--- Accepts the hunk under the cursor (or every hunk with `all`): one WorkspaceEdit, one undo step.
---@param opts codebench.DecideOptions?
function M.accept(opts)
  local review, hunks = target(opts)
  if review then
    server.decide(review, 'codebench.applyProposal', hunks, opts and opts.callback)
  end
end

--- Rejects the hunk under the cursor (or every hunk with `all`); the buffer is left as it is.
---@param opts codebench.DecideOptions?
function M.reject(opts)
  local review, hunks = target(opts)
  if review then
    server.decide(review, 'codebench.discardProposal', hunks, opts and opts.callback)
  end
end

--- Moves the cursor to the next (1) or previous (-1) hunk in the buffer.
---@param direction integer
function M.jump(direction)
  local bufnr = vim.api.nvim_get_current_buf()
  local row = vim.api.nvim_win_get_cursor(0)[1] - 1
  local items = state.hunks_in(bufnr)
  if direction < 0 then
    for i = #items, 1, -1 do
      if items[i].hunk.first < row then
        return vim.api.nvim_win_set_cursor(0, { items[i].hunk.first + 1, 0 })
      end
    end
  else
    for _, item in ipairs(items) do
      if item.hunk.first > row then
        return vim.api.nvim_win_set_cursor(0, { item.hunk.first + 1, 0 })
      end
    end
  end
end

--- Shows the proposals of finished runs again (after :Codebench review), and opens the first
--- reviewed buffer.
function M.show_all()
  local ids = {}
  for id in pairs(state.reviews) do
    ids[id] = true
  end
  for _, run in pairs(runs.runs) do
    if run.proposal_id then
      ids[run.proposal_id] = ids[run.proposal_id] or false
    end
  end
  if next(ids) == nil then
    vim.notify('codebench: no proposal to review', vim.log.levels.INFO)
    return
  end
  for id in pairs(ids) do
    local run_client
    for _, run in pairs(runs.runs) do
      if run.proposal_id == id then
        run_client = run.client_id
      end
    end
    server.show(id, run_client, function(review)
      if review and review.hunks[1] then
        local bufnr = review.hunks[1].bufnr
        local win = vim.fn.bufwinid(bufnr)
        if win == -1 then
          vim.cmd('wincmd p')
          vim.api.nvim_set_current_buf(bufnr)
        end
      end
    end)
  end
end

--- Asks the server to write the proposal's unified diff and open it (side-by-side reading).
function M.preview()
  local review = target({ all = true })
  if review then
    server.preview(review)
  end
end

-- A run's proposal is drawn as soon as its event arrives (option `auto_review`).
runs.subscribe(function(run, events)
  if not config.get().auto_review then
    return
  end
  for _, event in ipairs(events) do
    if event.type == 'proposal' and event.proposalId then
      server.show(event.proposalId, run.client_id)
    end
  end
end)

return M
