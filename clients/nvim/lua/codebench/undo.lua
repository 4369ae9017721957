---@mod codebench.undo Taking an applied agent change back (`:Codebench undo`)

local lsp = require('codebench.lsp')

local M = {}

---@class codebench.UndoResult
---@field status 'reverted'|'conflict'|'nothing'
---@field proposalId string?
---@field files string[]? Workspace-relative paths the revert changed (or would have).
---@field message string One line: what was reverted, or which file and lines conflict.

--- Reverts the workspace's most recently applied agent change (or `opts.proposal_id`) as one edit;
--- lines you changed since elsewhere are kept. A conflict or "nothing to undo" is told by the
--- server itself (`window/showMessage`, which reaches vim.notify), so only a revert is told here.
---@param opts { proposal_id: string?, bufnr: integer? }?
---@param callback fun(result: codebench.UndoResult)?
function M.undo(opts, callback)
  opts = opts or {}
  local argument = opts.proposal_id and { proposalId = opts.proposal_id } or vim.empty_dict()
  lsp.command('codebench.undo', argument, function(err, result)
    if err or not result then
      return
    end
    if result.status == 'reverted' then
      vim.notify('codebench: ' .. result.message, vim.log.levels.INFO)
    end
    if callback then
      callback(result)
    end
  end, { bufnr = opts.bufnr })
end

return M
