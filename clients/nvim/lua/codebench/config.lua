---@mod codebench.config Options and their defaults

---@class codebench.Keys
---@field accept_hunk string|false Accept the hunk under the cursor (review buffers).
---@field reject_hunk string|false Reject the hunk under the cursor (review buffers).
---@field accept_all string|false Accept every remaining hunk of the proposal.
---@field reject_all string|false Reject every remaining hunk of the proposal.
---@field next_hunk string|false Jump to the next proposed hunk.
---@field prev_hunk string|false Jump to the previous proposed hunk.
---@field send string|false Send the chat input (normal mode in the input area).
---@field send_insert string|false Send the chat input from insert mode.
---@field close string|false Close the chat panel (normal mode in the panel).
---@field cancel string|false Stop the running answer (input area, both modes, and the transcript).
---@field model string|false Pick the provider the panel's next messages use (normal mode in the panel).

---@class codebench.ChatOptions
---@field width number Panel width: columns when > 1, a fraction of the editor when <= 1.
---@field input_height integer Lines of the input area.
---@field throttle_ms integer At most one transcript redraw per this many milliseconds.
---@field position 'right'|'left'|'bottom'|'top' Where the panel opens.

---@class codebench.Options
---@field cmd string[] Command that starts the language server.
---@field cmd_env table<string, string>? Extra environment for the server.
---@field root_markers string[] Files or folders that mark a workspace root.
---@field init_options table? Partial codebench config sent as initializationOptions.
---@field provider string? Provider name for asks from the plugin (default: the server's).
---@field position_encodings string[]? Position encodings offered to the server, in order.
---@field auto_attach boolean Attach the server to every file buffer.
---@field auto_review boolean Show a run's proposal inline as soon as it arrives.
---@field open_chat_on_ask boolean `:Codebench ask` opens the chat panel to stream the answer.
---@field notify boolean Announce finished runs with vim.notify when the chat is closed.
---@field picker 'auto'|'select'|'telescope'|'fzf-lua'|'snacks' Picker for history and search.
---@field chat codebench.ChatOptions
---@field keys codebench.Keys
---@field health_timeout_ms integer How long :checkhealth waits for the provider checks.

local M = {}

---@type codebench.Options
M.defaults = {
  cmd = { 'codebench', 'lsp' },
  cmd_env = nil,
  root_markers = { '.git', '.hg', '.jj', 'package.json', 'pyproject.toml', 'Cargo.toml', 'go.mod' },
  init_options = nil,
  provider = nil,
  position_encodings = nil,
  auto_attach = true,
  auto_review = true,
  open_chat_on_ask = true,
  notify = true,
  picker = 'auto',
  chat = {
    width = 0.4,
    input_height = 5,
    throttle_ms = 80,
    position = 'right',
  },
  keys = {
    -- Not ga/gr/gR (`:ascii`, replace mode, Neovim 0.11's gr* LSP keys): built-ins stay as they are.
    accept_hunk = '<LocalLeader>a',
    reject_hunk = '<LocalLeader>r',
    accept_all = '<LocalLeader>A',
    reject_all = '<LocalLeader>R',
    next_hunk = ']h',
    prev_hunk = '[h',
    send = '<CR>',
    send_insert = '<C-s>',
    close = 'q',
    cancel = '<C-c>',
    model = '<LocalLeader>m',
  },
  health_timeout_ms = 3000,
}

---@type codebench.Options
M.options = vim.deepcopy(M.defaults)

--- How a key reads in hints and the winbar: `<LocalLeader>a` as typed with the user's leader
--- (`\a` by default).
---@param lhs string|false|nil
---@return string
function M.key_label(lhs)
  if not lhs then
    return '-'
  end
  local leader = vim.g.maplocalleader or '\\'
  local global = vim.g.mapleader or '\\'
  local label = lhs
    :gsub('<[Ll]ocal[Ll]eader>', function()
      return leader
    end)
    :gsub('<[Ll]eader>', function()
      return global
    end)
  return label
end

--- True once setup() ran.
M.configured = false

--- Merges user options over the defaults and validates them.
---@param opts table?
---@return codebench.Options
function M.set(opts)
  local merged = vim.tbl_deep_extend('force', vim.deepcopy(M.defaults), opts or {})
  -- Lists replace, they do not merge index by index.
  if opts and opts.cmd then
    merged.cmd = vim.deepcopy(opts.cmd)
  end
  if opts and opts.root_markers then
    merged.root_markers = vim.deepcopy(opts.root_markers)
  end
  vim.validate({
    cmd = { merged.cmd, 'table' },
    root_markers = { merged.root_markers, 'table' },
    auto_attach = { merged.auto_attach, 'boolean' },
    auto_review = { merged.auto_review, 'boolean' },
    open_chat_on_ask = { merged.open_chat_on_ask, 'boolean' },
    notify = { merged.notify, 'boolean' },
    picker = { merged.picker, 'string' },
    chat = { merged.chat, 'table' },
    keys = { merged.keys, 'table' },
    provider = { merged.provider, 'string', true },
    position_encodings = { merged.position_encodings, 'table', true },
  })
  if #merged.cmd == 0 then
    error('codebench: option `cmd` must name the server command, e.g. { "codebench", "lsp" }')
  end
  M.options = merged
  M.configured = true
  return merged
end

---@return codebench.Options
function M.get()
  return M.options
end

return M
