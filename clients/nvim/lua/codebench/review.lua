---@mod codebench.review Inline review of proposed edits
---
--- A run that changes files ends in one proposal. Its hunks (`codebench/proposal`, ranges in the
--- client's position encoding against the current text) are drawn in the affected buffers: the
--- text to be replaced is highlighted as removed, the replacement is shown as virtual lines below
--- it. Accepting or rejecting a hunk (or all of them) is a `codebench.applyProposal` /
--- `codebench.discardProposal` call: the server rebases and sends one WorkspaceEdit, which Neovim
--- applies as one undo step. The plugin never edits a buffer or writes a file itself.

local config = require('codebench.config')
local lsp = require('codebench.lsp')
local runs = require('codebench.runs')
local draw = require('codebench.inline_diff').draw

local M = {}

local ns = require('codebench.inline_diff').ns
M.ns = ns

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
---@field data codebench.ProposalHunks? The last hunks read from the server.

---@type table<string, codebench.Review>
M.reviews = {}

local group = vim.api.nvim_create_augroup('codebench.review', { clear = true })

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

---@param bufnr integer
local function clear_buffer(bufnr)
  if vim.api.nvim_buf_is_valid(bufnr) then
    vim.api.nvim_buf_clear_namespace(bufnr, ns, 0, -1)
  end
end

---@type table<integer, boolean>
local mapped = {}

---@param bufnr integer
local function map_keys(bufnr)
  if mapped[bufnr] then
    return
  end
  mapped[bufnr] = true
  local keys = config.get().keys
  local function map(lhs, fn, desc)
    if lhs then
      vim.keymap.set('n', lhs, fn, { buffer = bufnr, desc = 'codebench: ' .. desc, nowait = true })
    end
  end
  map(keys.accept_hunk, function()
    M.accept()
  end, 'accept the hunk under the cursor')
  map(keys.reject_hunk, function()
    M.reject()
  end, 'reject the hunk under the cursor')
  map(keys.accept_all, function()
    M.accept({ all = true })
  end, 'accept every hunk of the proposal')
  map(keys.reject_all, function()
    M.reject({ all = true })
  end, 'reject every hunk of the proposal')
  map(keys.next_hunk, function()
    M.jump(1)
  end, 'next proposed hunk')
  map(keys.prev_hunk, function()
    M.jump(-1)
  end, 'previous proposed hunk')
  -- Typing moves the text under the hunks: ask the server for them again (it rebases).
  vim.api.nvim_create_autocmd({ 'TextChanged', 'TextChangedI' }, {
    group = group,
    buffer = bufnr,
    callback = function()
      M.refresh_buffer(bufnr)
    end,
  })
end

---@param bufnr integer
local function unmap_keys(bufnr)
  if not mapped[bufnr] then
    return
  end
  mapped[bufnr] = nil
  if not vim.api.nvim_buf_is_valid(bufnr) then
    return
  end
  for _, lhs in pairs(config.get().keys) do
    if lhs then
      pcall(vim.keymap.del, 'n', lhs, { buffer = bufnr })
    end
  end
  vim.api.nvim_clear_autocmds({ group = group, buffer = bufnr })
end

--- Redraws every buffer a review touched (marks of all reviews in each).
---@param buffers table<integer, boolean>
local function redraw(buffers)
  for bufnr in pairs(buffers) do
    if #M.hunks_in(bufnr) == 0 then
      clear_buffer(bufnr)
      unmap_keys(bufnr)
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
  M.reviews[review.proposal_id] = nil
  for bufnr in pairs(review.buffers) do
    clear_buffer(bufnr)
  end
  -- Other reviews sharing a buffer draw again.
  for _, other in pairs(M.reviews) do
    M.render(other, nil)
  end
  redraw(review.buffers)
  local message = ('codebench: %s — %s'):format(review.summary, outcome_messages[status] or status)
  if detail then
    message = message .. ': ' .. detail
  end
  vim.notify(message, status == 'conflict' and vim.log.levels.WARN or vim.log.levels.INFO)
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
    map_keys(bufnr)
    for _, hunk in ipairs(file.hunks or {}) do
      n = n + 1
      local label = ('codebench hunk %d/%d: %s accept · %s reject'):format(
        n,
        total,
        keys.accept_hunk or '-',
        keys.reject_hunk or '-'
      )
      table.insert(views, draw(bufnr, hunk, encoding, label))
    end
  end
  review.hunks = views
  if n == 0 then
    finish(review, 'applied', nil)
    return
  end
  -- Reviews of other proposals in the same buffers were cleared above: draw them again.
  for _, other in pairs(M.reviews) do
    if other ~= review then
      for bufnr in pairs(other.buffers) do
        if review.buffers[bufnr] then
          M.render(other, nil)
          break
        end
      end
    end
  end
  vim.api.nvim_exec_autocmds('User', {
    pattern = 'CodebenchReview',
    modeline = false,
    data = { proposal_id = review.proposal_id, status = 'proposed', hunks = n },
  })
end

--- Fetches a proposal's hunks from the server and shows them.
---@param proposal_id string
---@param client_id integer?
---@param callback fun(review: codebench.Review?)?
function M.show(proposal_id, client_id, callback)
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
  review.client_id = review.client_id or client_id
  lsp.request('codebench/proposal', { proposalId = proposal_id }, function(err, result)
    if err then
      M.reviews[proposal_id] = nil
      redraw(review.buffers)
      if callback then
        callback(nil)
      end
      return
    end
    if M.reviews[proposal_id] == review then
      M.render(review, result)
    end
    if callback then
      callback(M.reviews[proposal_id])
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
      for _, item in ipairs(M.hunks_in(bufnr)) do
        if not item.review.busy then
          M.show(item.review.proposal_id)
        end
      end
    end)
  )
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

---@param review codebench.Review
---@param command string
---@param hunks integer[]?
---@param callback fun(status: string?)?
local function decide(review, command, hunks, callback)
  if review.busy then
    vim.notify('codebench: still applying the previous choice', vim.log.levels.WARN)
    return
  end
  review.busy = true
  lsp.command(command, { proposalId = review.proposal_id, hunks = hunks }, function(err, result)
    review.busy = false
    if err then
      if callback then
        callback(nil)
      end
      return
    end
    -- Indices renumber after every call: always read the proposal again.
    M.show(review.proposal_id, review.client_id, function()
      if callback then
        callback(result and result.status)
      end
    end)
  end, { client_id = review.client_id })
end

---@class codebench.DecideOptions
---@field all boolean? Every remaining hunk of the proposal.
---@field bufnr integer? Buffer whose hunk to use (default: current).
---@field index integer? The server's hunk index (default: the hunk under the cursor).
---@field proposal_id string? Which proposal (default: the one under the cursor).
---@field callback fun(status: string?)? Called once the proposal has been read again.

---@param opts codebench.DecideOptions?
---@return codebench.Review?
---@return integer[]? hunks
local function target(opts)
  opts = opts or {}
  local review, hunks
  if opts.proposal_id then
    review = M.reviews[opts.proposal_id]
  end
  if not review then
    local item = M.hunk_at_cursor(opts.bufnr or vim.api.nvim_get_current_buf())
    if item then
      review = item.review
      hunks = { item.hunk.index }
    end
  end
  if not review then
    -- Outside the reviewed buffers: the only (or most recent) proposal.
    local _, only = next(M.reviews)
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
    decide(review, 'codebench.applyProposal', hunks, opts and opts.callback)
  end
end

--- Rejects the hunk under the cursor (or every hunk with `all`); the buffer is left as it is.
---@param opts codebench.DecideOptions?
function M.reject(opts)
  local review, hunks = target(opts)
  if review then
    decide(review, 'codebench.discardProposal', hunks, opts and opts.callback)
  end
end

--- Moves the cursor to the next (1) or previous (-1) hunk in the buffer.
---@param direction integer
function M.jump(direction)
  local bufnr = vim.api.nvim_get_current_buf()
  local row = vim.api.nvim_win_get_cursor(0)[1] - 1
  local items = M.hunks_in(bufnr)
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
  for id in pairs(M.reviews) do
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
    M.show(id, run_client, function(review)
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
    lsp.command('codebench.previewProposal', { proposalId = review.proposal_id }, nil, { client_id = review.client_id })
  end
end

runs.subscribe(function(run, events)
  if not config.get().auto_review then
    return
  end
  for _, event in ipairs(events) do
    if event.type == 'proposal' and event.proposalId then
      M.show(event.proposalId, run.client_id)
    end
  end
end)

return M
