---@mod codebench Neovim client for the codebench language server
---
--- The plugin is a thin UI over the server: every decision (what to ask the model, how to
--- rebase, what to store) is the server's; this side starts it, shows what it streams, and sends
--- the user's choices back.

local M = {}

local function min_version_ok()
  if vim.fn.has('nvim-0.10') == 1 then
    return true
  end
  local v = vim.version and vim.version() or { major = 0, minor = 0, patch = 0 }
  vim.notify(
    ('codebench.nvim needs Neovim 0.10 or newer (this is %d.%d.%d)'):format(v.major, v.minor, v.patch),
    vim.log.levels.ERROR
  )
  return false
end

local function highlights()
  local links = {
    CodebenchAdd = 'DiffAdd',
    CodebenchAddSign = 'Added',
    CodebenchDelete = 'DiffDelete',
    CodebenchDeleteSign = 'Removed',
    CodebenchDeleteText = 'DiffText',
    CodebenchHint = 'Comment',
    CodebenchChatHeader = 'Title',
    CodebenchChatTool = 'Comment',
    CodebenchChatStatus = 'Comment',
    CodebenchChatNotice = 'DiagnosticWarn',
    CodebenchChatError = 'DiagnosticError',
    CodebenchChatProposal = 'DiagnosticInfo',
  }
  for name, target in pairs(links) do
    vim.api.nvim_set_hl(0, name, { link = target, default = true })
  end
end

local group

--- Configures the plugin and attaches the server to every file buffer.
---@param opts codebench.Options|table|nil See |codebench-options|.
function M.setup(opts)
  if not min_version_ok() then
    return
  end
  local config = require('codebench.config')
  config.set(opts)
  local lsp = require('codebench.lsp')
  lsp.handlers['codebench/runEvents'] = function(_, params, ctx)
    require('codebench.runs').handle(params, ctx and ctx.client_id)
  end
  lsp.handlers['window/showDocument'] = function(err, params, ctx)
    return require('codebench.review.server').show_document(err, params, ctx)
  end
  -- Loaded for their event subscriptions.
  require('codebench.review')
  require('codebench.progress')
  require('codebench.ask').register_commands()
  highlights()
  group = vim.api.nvim_create_augroup('codebench', { clear = true })
  vim.api.nvim_create_autocmd('ColorScheme', { group = group, callback = highlights })
  vim.api.nvim_create_autocmd('BufEnter', {
    group = group,
    callback = function(args)
      require('codebench.chat').note_buffer(args.buf)
    end,
  })
  if config.get().auto_attach then
    lsp.enable()
  end
end

--- Runs setup() with the defaults if the user never called it (commands work either way).
function M.ensure_setup()
  if not require('codebench.config').configured then
    M.setup({})
  end
end

--- Status line component: what the agent is doing, hunks waiting for review, or ''.
---@return string
function M.status()
  if not package.loaded['codebench.runs'] then
    return ''
  end
  return require('codebench.progress').status()
end

--- Asks the agent about the current buffer (see |codebench.ask()|).
---@param opts codebench.AskOptions
function M.ask(opts)
  M.ensure_setup()
  require('codebench.ask').ask(opts)
end

--- Opens the chat panel.
function M.chat()
  M.ensure_setup()
  require('codebench.chat').open()
end

--- Cancels the running agent.
function M.cancel()
  require('codebench.ask').cancel()
end

--- Accepts the hunk under the cursor, or all hunks with `{ all = true }`.
---@param opts codebench.DecideOptions?
function M.accept(opts)
  require('codebench.review').accept(opts)
end

--- Rejects the hunk under the cursor, or all hunks with `{ all = true }`.
---@param opts codebench.DecideOptions?
function M.reject(opts)
  require('codebench.review').reject(opts)
end

--- Lists this workspace's sessions and reopens the chosen one.
function M.history()
  M.ensure_setup()
  require('codebench.history').pick()
end

--- Searches all history.
---@param query string
function M.search(query)
  M.ensure_setup()
  require('codebench.history').search(query)
end

return M
