---@mod codebench.review.feedback What the review says after each choice
---
--- The proposal's summary counts the whole change, so "values.py (+2 −2) — applied" after one of
--- two hunks was accepted would be untrue. Each choice is counted here with its own hunks'
--- lines, and the messages say exactly what was applied and what was rejected.

local M = {}

---@class codebench.ReviewTally
---@field hunks integer
---@field added integer
---@field removed integer

--- Counts the hunks a choice is about (every remaining hunk when `indices` is nil).
---@param review codebench.Review
---@param indices integer[]?
---@return codebench.ReviewTally
function M.tally(review, indices)
  local tally = { hunks = 0, added = 0, removed = 0 }
  local chosen = indices and {} or nil
  for _, index in ipairs(indices or {}) do
    chosen[index] = true
  end
  for _, hunk in ipairs(review.hunks) do
    if not chosen or chosen[hunk.index] then
      tally.hunks = tally.hunks + 1
      tally.added = tally.added + hunk.added
      tally.removed = tally.removed + hunk.removed
    end
  end
  return tally
end

--- "+1 −1" for a tally.
---@param tally codebench.ReviewTally
---@return string
local function lines(tally)
  return ('+%d −%d'):format(tally.added, tally.removed)
end

---@param count integer
---@return string
local function hunks(count)
  return ('%d hunk%s'):format(count, count == 1 and '' or 's')
end

--- Records a choice the server carried out.
---@param review codebench.Review
---@param outcome 'applied'|'rejected'
---@param tally codebench.ReviewTally
function M.record(review, outcome, tally)
  review.settled = review.settled or {}
  local sum = review.settled[outcome] or { hunks = 0, added = 0, removed = 0 }
  sum.hunks, sum.added, sum.removed = sum.hunks + tally.hunks, sum.added + tally.added, sum.removed + tally.removed
  review.settled[outcome] = sum
end

--- What one choice did, while hunks remain: "applied 1 of 2 hunks (+1 −1); 1 hunk left to review".
---@param review codebench.Review
---@param outcome 'applied'|'rejected'
---@param tally codebench.ReviewTally
---@param total integer Hunks before the choice.
---@param left integer Hunks after it.
---@return string
function M.choice_message(review, outcome, tally, total, left)
  return ('codebench: %s — %s %d of %s (%s); %s left to review'):format(
    M.files(review),
    outcome,
    tally.hunks,
    hunks(total),
    lines(tally),
    hunks(left)
  )
end

--- The files a review is about ("values.py, util.py").
---@param review codebench.Review
---@return string
function M.files(review)
  local paths = {}
  for _, file in ipairs(review.data and review.data.files or {}) do
    table.insert(paths, file.path or vim.uri_to_fname(file.uri))
  end
  -- A settled proposal may list no file any more: the files it had while proposed.
  if #paths > 0 then
    review.paths = table.concat(paths, ', ')
  end
  return review.paths or review.summary
end

--- The closing message once no hunk is left, from the choices made here: "1 of 2 hunks applied
--- (+1 −1), 1 rejected (+1 −1)". Nil when the choices were made elsewhere (then the server's
--- status is all there is to say).
---@param review codebench.Review
---@return string?
function M.final_message(review)
  local settled = review.settled
  if not settled then
    return nil
  end
  local applied, rejected = settled.applied, settled.rejected
  local total = (applied and applied.hunks or 0) + (rejected and rejected.hunks or 0)
  local parts = {}
  if applied then
    table.insert(parts, ('%d of %s applied (%s)'):format(applied.hunks, hunks(total), lines(applied)))
  end
  if rejected then
    local what = applied and ('%d rejected'):format(rejected.hunks)
      or ('%d of %s rejected'):format(rejected.hunks, hunks(total))
    table.insert(parts, ('%s (%s)'):format(what, lines(rejected)))
  end
  return ('codebench: %s — %s'):format(M.files(review), table.concat(parts, ', '))
end

return M
