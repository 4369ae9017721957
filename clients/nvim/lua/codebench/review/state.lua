---@mod codebench.review.state The reviews in progress
---
--- One table of reviews, keyed by proposal id, shared by the drawing, the server calls and the
--- public API. Only the rows it holds are ever added or removed; the table itself is never
--- replaced, so `require('codebench.review').reviews` stays the same object for tests and callers.

local M = {}

---@class codebench.Hunk
---@field index integer
---@field range lsp.Range
---@field oldText string
---@field newText string

---@class codebench.ProposalFile
---@field uri string
---@field path string
---@field created boolean
---@field version integer?
---@field hunks codebench.Hunk[]

---@class codebench.ProposalHunks
---@field proposalId string
---@field summary string
---@field status 'proposed'|'applied'|'discarded'|'conflict'
---@field conflict string?
---@field evidence { command: string, exitCode: integer? }[]? Commands run after the last edit; nil when none ran.
---@field files codebench.ProposalFile[]

---@class codebench.HunkView
---@field index integer The server's hunk index (renumbered after every accept or reject).
---@field bufnr integer
---@field first integer First buffer row of the hunk (0-based).
---@field last integer Last buffer row of the hunk (0-based, inclusive).
---@field added integer Lines the hunk adds.
---@field removed integer Lines the hunk removes.

---@class codebench.Review
---@field proposal_id string
---@field client_id integer?
---@field summary string
---@field hunks codebench.HunkView[]
---@field buffers table<integer, boolean>
---@field busy boolean A call is in flight.
---@field evidence_shown boolean? The evidence notification was given.
---@field data codebench.ProposalHunks? The last hunks read from the server.
---@field paths string? The files of the proposal, as last listed while proposed.
---@field settled table<'applied'|'rejected', codebench.ReviewTally>? Choices made here, counted.

---@type table<string, codebench.Review>
M.reviews = {}

--- What the commands run after the last edit proved, as the server words it ("npm test passed
--- after the last edit"); nil when the run ran no command.
---@param evidence { command: string, exitCode: integer? }[]?
---@return string?
function M.evidence_text(evidence)
  if type(evidence) ~= 'table' then
    return nil
  end
  if #evidence == 0 then
    return 'no command was run after the last edit'
  end
  local parts = {}
  for _, item in ipairs(evidence) do
    local code = item.exitCode
    local outcome = code == 0 and 'passed'
      or (type(code) == 'number' and ('failed (exit %d)'):format(code))
      or 'did not finish'
    table.insert(parts, ('%s %s'):format(item.command or '?', outcome))
  end
  if #parts == 1 then
    return parts[1] .. ' after the last edit'
  end
  return 'after the last edit: ' .. table.concat(parts, ', ')
end

--- The review of a proposal, created (empty, not yet drawn) on first use.
---@param proposal_id string
---@param client_id integer?
---@return codebench.Review
function M.get_or_create(proposal_id, client_id)
  local review = M.reviews[proposal_id]
  if not review then
    review = {
      proposal_id = proposal_id,
      client_id = client_id,
      summary = proposal_id,
      hunks = {},
      buffers = {},
      busy = false,
    }
    M.reviews[proposal_id] = review
  end
  return review
end

--- Every hunk drawn in a buffer, with its review, in buffer order.
---@param bufnr integer
---@return { review: codebench.Review, hunk: codebench.HunkView }[]
function M.hunks_in(bufnr)
  local found = {}
  for _, review in pairs(M.reviews) do
    for _, hunk in ipairs(review.hunks) do
      if hunk.bufnr == bufnr then
        table.insert(found, { review = review, hunk = hunk })
      end
    end
  end
  table.sort(found, function(a, b)
    return a.hunk.first < b.hunk.first
  end)
  return found
end

--- Hunks still to review, over all proposals.
---@return integer
function M.pending_count()
  local count = 0
  for _, review in pairs(M.reviews) do
    count = count + #review.hunks
  end
  return count
end

--- The hunk under the cursor, else the nearest one in the buffer.
---@param bufnr integer
---@return { review: codebench.Review, hunk: codebench.HunkView }?
function M.hunk_at_cursor(bufnr)
  local row = vim.api.nvim_win_get_cursor(0)[1] - 1
  local best, distance = nil, math.huge
  for _, item in ipairs(M.hunks_in(bufnr)) do
    local d = row < item.hunk.first and item.hunk.first - row or row > item.hunk.last and row - item.hunk.last or 0
    if d < distance then
      best, distance = item, d
    end
  end
  return best
end

return M
