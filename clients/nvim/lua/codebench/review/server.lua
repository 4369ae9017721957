---@mod codebench.review.server What the review asks of the server
---
--- Reading a proposal's hunks (`codebench/proposal`) and deciding on them
--- (`codebench.applyProposal` / `codebench.discardProposal`). The server owns the hunks: after
--- every decision, and after every change to a reviewed buffer, they are read again rather than
--- adjusted here, because the server renumbers and rebases them.

local feedback = require('codebench.review.feedback')
local lsp = require('codebench.lsp')
local render = require('codebench.review.render')
local state = require('codebench.review.state')

local M = {}

--- Fetches a proposal's hunks from the server and shows them.
---@param proposal_id string
---@param client_id integer?
---@param callback fun(review: codebench.Review?)?
function M.show(proposal_id, client_id, callback)
  local review = state.get_or_create(proposal_id, client_id)
  review.client_id = review.client_id or client_id
  lsp.request('codebench/proposal', { proposalId = proposal_id }, function(err, result)
    if err then
      state.reviews[proposal_id] = nil
      render.clear_finished(review.buffers)
      if callback then
        callback(nil)
      end
      return
    end
    -- The review may have ended (or been replaced) while the request was in flight.
    if state.reviews[proposal_id] == review then
      render.render(review, result)
    end
    if callback then
      callback(state.reviews[proposal_id])
    end
  end, { client_id = review.client_id })
end

local refresh_timers = {} ---@type table<integer, uv.uv_timer_t>

--- Asks the server again for the hunks in a buffer, a moment after the last change.
---@param bufnr integer
function M.refresh_buffer(bufnr)
  local timer = refresh_timers[bufnr]
  if not timer then
    timer = assert(vim.uv.new_timer())
    refresh_timers[bufnr] = timer
  end
  timer:stop()
  timer:start(
    300,
    0,
    vim.schedule_wrap(function()
      for _, item in ipairs(state.hunks_in(bufnr)) do
        if not item.review.busy then
          M.show(item.review.proposal_id)
        end
      end
    end)
  )
end

--- Applies or discards hunks (all of them when `hunks` is nil), then reads the proposal again.
---@param review codebench.Review
---@param command 'codebench.applyProposal'|'codebench.discardProposal'
---@param hunks integer[]?
---@param callback fun(status: string?)?
function M.decide(review, command, hunks, callback)
  if review.busy then
    vim.notify('codebench: still applying the previous choice', vim.log.levels.WARN)
    return
  end
  review.busy = true
  feedback.files(review)
  local tally, total = feedback.tally(review, hunks), #review.hunks
  local outcome = command == 'codebench.applyProposal' and 'applied' or 'rejected'
  lsp.command(command, { proposalId = review.proposal_id, hunks = hunks }, function(err, result)
    review.busy = false
    if err then
      if callback then
        callback(nil)
      end
      return
    end
    if result and result.status ~= 'conflict' then
      feedback.record(review, outcome, tally)
    end
    -- Indices renumber after every call: always read the proposal again.
    M.show(review.proposal_id, review.client_id, function(still)
      if still and #still.hunks > 0 and result and result.status ~= 'conflict' then
        vim.notify(feedback.choice_message(still, outcome, tally, total, #still.hunks), vim.log.levels.INFO)
      end
      if callback then
        callback(result and result.status)
      end
    end)
  end, { client_id = review.client_id })
end

--- Asks the server to write the proposal's unified diff and open it (side-by-side reading).
---@param review codebench.Review
function M.preview(review)
  lsp.command('codebench.previewProposal', { proposalId = review.proposal_id }, nil, { client_id = review.client_id })
end

--- `window/showDocument` from the server (the proposal's diff): opened in a split, so the
--- reviewed buffer stays in view beside it; a window already showing the file is focused.
---@param params { uri: string, takeFocus: boolean?, external: boolean? }
---@return { success: boolean }
function M.show_document(_, params)
  if type(params) ~= 'table' or type(params.uri) ~= 'string' or params.external or not params.uri:match('^file:') then
    return { success = false }
  end
  local origin = vim.api.nvim_get_current_win()
  local bufnr = vim.uri_to_bufnr(params.uri)
  local win = vim.fn.bufwinid(bufnr)
  if win == -1 then
    vim.cmd('split')
    win = vim.api.nvim_get_current_win()
    vim.api.nvim_win_set_buf(win, bufnr)
    vim.bo[bufnr].buflisted = true
  end
  if params.takeFocus == false then
    vim.api.nvim_set_current_win(origin)
  else
    vim.api.nvim_set_current_win(win)
  end
  return { success = true }
end

return M
