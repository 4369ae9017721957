---@mod codebench.ask Asking the agent, and cancelling it

local chat = require('codebench.chat')
local config = require('codebench.config')
local lsp = require('codebench.lsp')
local runs = require('codebench.runs')

local M = {}

---@class codebench.AskOptions
---@field instruction string
---@field bufnr integer? The buffer asked about (default: the current one).
---@field uri string? Overrides the buffer's URI (code actions carry their own).
---@field range lsp.Range? The selection, in the client's position encoding.
---@field diagnostics table[]? DiagnosticHints; computed from the buffer when omitted.
---@field session_id string? Continue this stored session.
---@field provider string? A configured provider name.
---@field open_chat boolean? Stream the answer into the chat panel (as the panel's next message).
---@field on_started fun(run: codebench.Run)?
---@field on_failed fun(problem: string)?

---@class codebench.AskContext What an ask was about, as the transcript names it.
---@field path string? The file, relative to the workspace.
---@field first integer? First line of the range (0-based).
---@field last integer? Last line of the range (0-based).
---@field code string[]? The selected text.
---@field filetype string?

--- Diagnostics the editor shows inside `range`, as the server's DiagnosticHint.
---@param bufnr integer
---@param range lsp.Range?
---@param encoding string
---@return table[]?
local function diagnostic_hints(bufnr, range, encoding)
  if not range or not vim.api.nvim_buf_is_loaded(bufnr) then
    return nil
  end
  local hints = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    local source = d.source or ''
    if d.lnum >= range.start.line and d.lnum <= range['end'].line and source ~= 'codebench' then
      local line = vim.api.nvim_buf_get_lines(bufnr, d.lnum, d.lnum + 1, false)[1] or ''
      local at = { line = d.lnum, character = lsp.char_col(line, d.col or 0, encoding) }
      table.insert(hints, {
        range = { start = at, ['end'] = at },
        message = d.message,
        severity = d.severity,
        source = d.source,
      })
    end
  end
  return #hints > 0 and hints or nil
end

--- The file, lines and selected code an ask is about.
---@param bufnr integer
---@param uri string
---@param range lsp.Range?
---@param root string?
---@param encoding string
---@return codebench.AskContext
local function ask_context(bufnr, uri, range, root, encoding)
  local path = vim.uri_to_fname(uri)
  if root and path:sub(1, #root + 1) == root .. '/' then
    path = path:sub(#root + 2)
  elseif root and path == root then
    return {}
  end
  local context = { path = path, filetype = vim.api.nvim_buf_is_loaded(bufnr) and vim.bo[bufnr].filetype or nil }
  if range and vim.api.nvim_buf_is_loaded(bufnr) then
    local first, last = range.start.line, range['end'].line
    -- A range ending at column 0 ends on the line before.
    if last > first and range['end'].character == 0 then
      last = last - 1
    end
    context.first, context.last = first, last
    local lines = vim.api.nvim_buf_get_lines(bufnr, first, last + 1, false)
    if #lines > 0 and first == range.start.line then
      local tail = lines[#lines]
      if range['end'].line == last then
        lines[#lines] = tail:sub(1, lsp.byte_col(tail, range['end'].character, encoding))
      end
      lines[1] = lines[1]:sub(lsp.byte_col(lines[1], range.start.character, encoding) + 1)
    end
    context.code = lines
  end
  return context
end

--- Starts an agent run. With `open_chat` the ask is the chat panel's next message: it continues
--- the panel's conversation, and waits (shown as queued) while the panel's answer streams.
---@param opts codebench.AskOptions
function M.ask(opts)
  if opts.open_chat then
    require('codebench.chat.conversation').send(opts)
  else
    M.start(opts)
  end
end

--- Sends `codebench.ask` (answered at once with the run id); its events stream into the chat
--- panel when `open_chat` is set.
---@param opts codebench.AskOptions
function M.start(opts)
  local function failed(problem)
    if opts.on_failed then
      opts.on_failed(problem)
    end
  end
  local bufnr = opts.bufnr or vim.api.nvim_get_current_buf()
  if not lsp.eligible(bufnr) then
    bufnr = chat.source_buffer() or bufnr
  end
  local client, problem = lsp.ensure_client(bufnr)
  if not client then
    vim.notify('codebench: ' .. tostring(problem), vim.log.levels.ERROR)
    failed(tostring(problem))
    return
  end
  local uri = opts.uri
  if not uri then
    uri = lsp.eligible(bufnr) and vim.uri_from_bufnr(bufnr)
      or vim.uri_from_fname(client.root_dir or assert(vim.uv.cwd()))
  end
  local encoding = lsp.encoding(client)
  local params = {
    uri = uri,
    range = opts.range,
    instruction = opts.instruction,
    provider = opts.provider or config.get().provider,
    sessionId = opts.session_id,
    diagnostics = opts.diagnostics or diagnostic_hints(bufnr, opts.range, encoding),
  }
  local context = ask_context(bufnr, uri, opts.range, client.root_dir, encoding)
  if opts.open_chat then
    chat.open({ focus = false })
  end
  lsp.command('codebench.ask', params, function(err, result)
    if err or type(result) ~= 'table' then
      failed(err and err.message or 'no run started')
      return
    end
    local run = runs.started(result, opts.instruction, client.id)
    run.context = context
    if opts.open_chat then
      chat.follow(run)
    end
    if opts.on_started then
      opts.on_started(run)
    end
  end, { bufnr = lsp.eligible(bufnr) and bufnr or nil })
end

--- The LSP range a command applies to: the visual selection (characterwise when it was), the
--- command's line range, or the cursor line.
---@param bufnr integer
---@param command { range: integer, line1: integer, line2: integer }?
---@param encoding string
---@return lsp.Range
function M.command_range(bufnr, command, encoding)
  local function line_text(row)
    return vim.api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ''
  end
  local function pos(row, col)
    return { line = row, character = lsp.char_col(line_text(row), col, encoding) }
  end
  if command and command.range and command.range > 0 then
    local first, last = command.line1 - 1, command.line2 - 1
    local vstart, vend = vim.api.nvim_buf_get_mark(bufnr, '<'), vim.api.nvim_buf_get_mark(bufnr, '>')
    if vim.fn.visualmode() == 'v' and vstart[1] - 1 == first and vend[1] - 1 == last then
      -- '> is on the last selected character: end after it.
      local tail = line_text(last)
      local col = math.min(vend[2], math.max(#tail - 1, 0))
      local after = #tail == 0 and 0 or col + 1 + vim.str_utf_end(tail, col + 1)
      return { start = pos(first, vstart[2]), ['end'] = pos(last, math.min(after, #tail)) }
    end
    return { start = pos(first, 0), ['end'] = pos(last, #line_text(last)) }
  end
  local row = vim.api.nvim_win_get_cursor(0)[1] - 1
  return { start = pos(row, 0), ['end'] = pos(row, #line_text(row)) }
end

--- `:Codebench ask [instruction]`: prompts with vim.ui.input when no instruction is given.
---@param instruction string?
---@param command { range: integer, line1: integer, line2: integer }?
function M.ask_command(instruction, command)
  local bufnr = vim.api.nvim_get_current_buf()
  if not lsp.eligible(bufnr) then
    vim.notify('codebench: ask from a file buffer (or use :Codebench chat)', vim.log.levels.WARN)
    return
  end
  local client, problem = lsp.ensure_client(bufnr)
  if not client then
    vim.notify('codebench: ' .. tostring(problem), vim.log.levels.ERROR)
    return
  end
  local range = M.command_range(bufnr, command, lsp.encoding(client))
  local function go(text)
    if not text or vim.trim(text) == '' then
      return
    end
    M.ask({
      instruction = vim.trim(text),
      bufnr = bufnr,
      range = range,
      session_id = chat.state.session_id,
      open_chat = config.get().open_chat_on_ask,
    })
  end
  if instruction and vim.trim(instruction) ~= '' then
    go(instruction)
  else
    vim.ui.input({ prompt = 'codebench: ' }, go)
  end
end

--- Cancels the runs the plugin knows are active, or every run on the server.
function M.cancel()
  local active = runs.active()
  if #active == 0 then
    lsp.command('codebench.cancel', {}, function(err, result)
      if not err and result and #(result.cancelled or {}) == 0 then
        vim.notify('codebench: nothing to cancel', vim.log.levels.INFO)
      end
    end)
    return
  end
  for _, run in ipairs(active) do
    lsp.request('codebench/cancel', { runId = run.id })
  end
end

--- Code actions run their commands through these, so the answer streams into the chat and the
--- "Ask agent…" action gets a free-text prompt instead of a preset list.
function M.register_commands()
  vim.lsp.commands['codebench.ask'] = function(command)
    local args = (command.arguments or {})[1] or {}
    local bufnr = args.uri and vim.uri_to_bufnr(args.uri) or nil
    M.ask({
      instruction = args.instruction,
      uri = args.uri,
      bufnr = bufnr,
      range = args.range,
      diagnostics = args.diagnostics,
      provider = args.provider,
      session_id = args.sessionId,
      open_chat = config.get().open_chat_on_ask,
    })
  end
  vim.lsp.commands['codebench.askPrompt'] = function(command)
    local args = (command.arguments or {})[1] or {}
    vim.ui.input({ prompt = 'codebench: ' }, function(text)
      if text and vim.trim(text) ~= '' then
        M.ask({
          instruction = vim.trim(text),
          uri = args.uri,
          bufnr = args.uri and vim.uri_to_bufnr(args.uri) or nil,
          range = args.range,
          open_chat = config.get().open_chat_on_ask,
        })
      end
    end)
  end
end

return M
