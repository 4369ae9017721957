---@mod codebench.review.render Drawing a proposal's hunks, and ending its review
---
--- Every review draws in the same namespace, so clearing a buffer for one proposal also wipes
--- the others drawn there: whoever clears draws the others again. A proposal the server no
--- longer reports as proposed (or with no hunk left) ends its review here, with a notification
--- and a `User CodebenchReview` autocommand.

local config = require('codebench.config')
local feedback = require('codebench.review.feedback')
local lsp = require('codebench.lsp')
local inline_diff = require('codebench.review.inline_diff')
local keymaps = require('codebench.review.keymaps')
local state = require('codebench.review.state')

local M = {}

local ns = inline_diff.ns

---@param bufnr integer
local function clear_buffer(bufnr)
  if vim.api.nvim_buf_is_valid(bufnr) then
    vim.api.nvim_buf_clear_namespace(bufnr, ns, 0, -1)
  end
end

--- Clears the marks and keys of every buffer in `buffers` that has no hunk left (of any review).
---@param buffers table<integer, boolean>
function M.clear_finished(buffers)
  for bufnr in pairs(buffers) do
    if #state.hunks_in(bufnr) == 0 then
      clear_buffer(bufnr)
      keymaps.detach(bufnr)
    end
  end
end

local outcome_messages = {
  applied = 'applied',
  discarded = 'discarded',
  conflict = 'no longer applies to your text',
}

---@param review codebench.Review
---@param status string
---@param detail string?
local function finish(review, status, detail)
  state.reviews[review.proposal_id] = nil
  for bufnr in pairs(review.buffers) do
    clear_buffer(bufnr)
  end
  -- Other reviews sharing a buffer draw again.
  for _, other in pairs(state.reviews) do
    M.render(other, nil)
  end
  M.clear_finished(review.buffers)
  local message = status ~= 'conflict' and feedback.final_message(review)
    or ('codebench: %s — %s'):format(review.summary, outcome_messages[status] or status)
  if detail then
    message = message .. ': ' .. detail
  end
  vim.notify(message, status == 'conflict' and vim.log.levels.WARN or vim.log.levels.INFO)
  -- The status line counted this review's hunks: redraw it now, not at the next run event.
  require('codebench.progress').redraw()
  vim.api.nvim_exec_autocmds('User', {
    pattern = 'CodebenchReview',
    modeline = false,
    data = { proposal_id = review.proposal_id, status = status },
  })
end

--- Draws a proposal's hunks (`data` from `codebench/proposal`), or re-draws the last one.
---@param review codebench.Review
---@param data codebench.ProposalHunks?
function M.render(review, data)
  if data then
    review.data = data
    review.summary = data.summary or review.summary
    -- Said once, when the review opens: what the change was checked with decides how it is read.
    local checked = state.evidence_text(data.evidence)
    if checked and not review.evidence_shown and data.status == 'proposed' then
      review.evidence_shown = true
      local passed = #data.evidence > 0
      for _, item in ipairs(data.evidence) do
        passed = passed and item.exitCode == 0
      end
      vim.notify(
        ('codebench: %s; %s'):format(review.summary, checked),
        passed and vim.log.levels.INFO or vim.log.levels.WARN
      )
    end
  end
  data = review.data
  if not data then
    return
  end
  for bufnr in pairs(review.buffers) do
    clear_buffer(bufnr)
  end
  if data.status ~= 'proposed' then
    finish(review, data.status, data.conflict)
    return
  end
  local client = review.client_id and vim.lsp.get_client_by_id(review.client_id)
  local encoding = client and lsp.encoding(client) or 'utf-16'
  local total = 0
  for _, file in ipairs(data.files or {}) do
    total = total + #(file.hunks or {})
  end
  local keys = config.get().keys
  local views, n = {}, 0
  for _, file in ipairs(data.files or {}) do
    local bufnr = vim.uri_to_bufnr(file.uri)
    if not vim.api.nvim_buf_is_loaded(bufnr) then
      vim.fn.bufload(bufnr)
    end
    review.buffers[bufnr] = true
    keymaps.attach(bufnr)
    for _, hunk in ipairs(file.hunks or {}) do
      n = n + 1
      local label = ('codebench hunk %d/%d: %s accept · %s reject'):format(
        n,
        total,
        config.key_label(keys.accept_hunk),
        config.key_label(keys.reject_hunk)
      )
      table.insert(views, inline_diff.draw(bufnr, hunk, encoding, label))
    end
  end
  review.hunks = views
  if n == 0 then
    finish(review, 'applied', nil)
    return
  end
  -- Reviews of other proposals in the same buffers were cleared above: draw them again.
  for _, other in pairs(state.reviews) do
    if other ~= review then
      for bufnr in pairs(other.buffers) do
        if review.buffers[bufnr] then
          M.render(other, nil)
          break
        end
      end
    end
  end
  require('codebench.progress').redraw()
  vim.api.nvim_exec_autocmds('User', {
    pattern = 'CodebenchReview',
    modeline = false,
    data = { proposal_id = review.proposal_id, status = 'proposed', hunks = n },
  })
end

return M
