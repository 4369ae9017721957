---@mod codebench.lsp Starting the server, attaching buffers, talking to it
---
--- Everything the plugin does goes through here: one client per workspace root, started with
--- `vim.lsp.enable` on Neovim 0.11+ and `vim.lsp.start` on 0.10, and small wrappers over the
--- client methods whose calling convention changed in 0.11 (`client.request` → `client:request`).

local config = require('codebench.config')

local M = {}

M.name = 'codebench'

local has_011 = vim.fn.has('nvim-0.11') == 1

---@alias codebench.Handler fun(err: lsp.ResponseError?, result: any)

--- Notification handlers installed on the client (custom notifications are dropped without one).
---@type table<string, function>
M.handlers = {}

---@param client vim.lsp.Client
---@param method string
---@param params table?
---@param handler fun(err: lsp.ResponseError?, result: any, ctx: lsp.HandlerContext)
---@param bufnr integer?
---@return boolean ok
---@return integer? request_id
local function client_request(client, method, params, handler, bufnr)
  if has_011 then
    return client:request(method, params, handler, bufnr)
  end
  return client.request(method, params, handler, bufnr)
end

--- Cancels a pending request (sends `$/cancelRequest`).
---@param client vim.lsp.Client
---@param id integer
function M.cancel_request(client, id)
  if has_011 then
    client:cancel_request(id)
  else
    client.cancel_request(id)
  end
end

--- The client's position encoding ('utf-8', 'utf-16' or 'utf-32').
---@param client vim.lsp.Client
---@return string
function M.encoding(client)
  return client.offset_encoding or 'utf-16'
end

---@return lsp.ClientCapabilities
function M.capabilities()
  local capabilities = vim.lsp.protocol.make_client_capabilities()
  capabilities.experimental = vim.tbl_deep_extend(
    'force',
    type(capabilities.experimental) == 'table' and capabilities.experimental or {},
    { codebench = { runEvents = true, inlineReview = true } }
  )
  local encodings = config.get().position_encodings
  if encodings then
    capabilities.general = capabilities.general or {}
    capabilities.general.positionEncodings = encodings
  end
  return capabilities
end

--- Whether a buffer is a file the server should see.
---@param bufnr integer
---@return boolean
function M.eligible(bufnr)
  if not vim.api.nvim_buf_is_valid(bufnr) or vim.bo[bufnr].buftype ~= '' then
    return false
  end
  local name = vim.api.nvim_buf_get_name(bufnr)
  return name ~= '' and not name:match('^%a[%w+.-]*://')
end

--- The workspace root of a buffer: the nearest root marker, else the working directory when the
--- file is inside it, else the file's folder.
---@param bufnr integer
---@return string
function M.root_dir(bufnr)
  local name = vim.api.nvim_buf_get_name(bufnr)
  local path = name ~= '' and vim.fs.normalize(vim.fn.fnamemodify(name, ':p')) or nil
  local cwd = vim.fs.normalize(assert(vim.uv.cwd()))
  if not path then
    return cwd
  end
  local marker = vim.fs.find(config.get().root_markers, { path = vim.fs.dirname(path), upward = true })[1]
  if marker then
    return vim.fs.dirname(marker)
  end
  if path:sub(1, #cwd + 1) == cwd .. '/' then
    return cwd
  end
  return vim.fs.dirname(path)
end

---@param root string
---@return table config for vim.lsp.start
local function client_config(root)
  local opts = config.get()
  return {
    name = M.name,
    cmd = opts.cmd,
    cmd_env = opts.cmd_env,
    root_dir = root,
    workspace_folders = { { uri = vim.uri_from_fname(root), name = root } },
    capabilities = M.capabilities(),
    handlers = M.handlers,
    init_options = opts.init_options,
  }
end

--- Attaches the server to a buffer (Neovim 0.10 path; 0.11 uses vim.lsp.enable).
---@param bufnr integer
---@return integer? client_id
function M.attach(bufnr)
  if not M.eligible(bufnr) then
    return nil
  end
  local existing = vim.lsp.get_clients({ name = M.name, bufnr = bufnr })[1]
  if existing then
    return existing.id
  end
  return vim.lsp.start(client_config(M.root_dir(bufnr)), {
    bufnr = bufnr,
    -- One client per workspace root.
    reuse_client = function(client, cfg)
      return client.name == cfg.name and client.root_dir == cfg.root_dir and not M.is_stopped(client)
    end,
  })
end

local group = vim.api.nvim_create_augroup('codebench.lsp', { clear = true })

--- Starts attaching to every file buffer, now and from here on.
function M.enable()
  vim.api.nvim_clear_autocmds({ group = group })
  if has_011 and vim.lsp.config and vim.lsp.enable then
    local opts = config.get()
    vim.lsp.config(M.name, {
      cmd = opts.cmd,
      cmd_env = opts.cmd_env,
      capabilities = M.capabilities(),
      handlers = M.handlers,
      init_options = opts.init_options,
      -- No `filetypes`: attach to every buffer that is a file.
      root_dir = function(bufnr, on_dir)
        if M.eligible(bufnr) then
          on_dir(M.root_dir(bufnr))
        end
      end,
    })
    vim.lsp.enable(M.name)
    return
  end
  vim.api.nvim_create_autocmd({ 'FileType', 'BufEnter' }, {
    group = group,
    callback = function(args)
      M.attach(args.buf)
    end,
  })
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) then
      M.attach(bufnr)
    end
  end
end

--- The codebench client for a buffer, else any running codebench client.
---@param bufnr integer?
---@return vim.lsp.Client?
function M.get_client(bufnr)
  if bufnr then
    local attached = vim.lsp.get_clients({ name = M.name, bufnr = bufnr })[1]
    if attached then
      return attached
    end
  end
  local clients = vim.lsp.get_clients({ name = M.name })
  local cwd = vim.fs.normalize(assert(vim.uv.cwd()))
  for _, client in ipairs(clients) do
    if client.root_dir == cwd then
      return client
    end
  end
  return clients[1]
end

--- A ready (initialized) client: the current buffer's, any running one, or one started for the
--- working directory without attaching a buffer. Waits for `initialize` when it has to start one.
---@param bufnr integer?
---@return vim.lsp.Client?
---@return string? error
function M.ensure_client(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local client = M.get_client(bufnr)
  if not client and M.eligible(bufnr) then
    local id = M.attach(bufnr)
    client = id and vim.lsp.get_client_by_id(id) or nil
  end
  if not client then
    local cfg = client_config(vim.fs.normalize(assert(vim.uv.cwd())))
    local id
    if has_011 then
      id = vim.lsp.start(cfg, { attach = false })
    else
      ---@diagnostic disable-next-line: deprecated
      id = vim.lsp.start_client(cfg)
    end
    client = id and vim.lsp.get_client_by_id(id) or nil
  end
  if not client then
    return nil, 'could not start `' .. table.concat(config.get().cmd, ' ') .. '`'
  end
  local ready = vim.wait(15000, function()
    return client.initialized == true or M.is_stopped(client)
  end, 20)
  if not ready or not client.initialized then
    return nil, 'the codebench server did not initialize (see :LspLog)'
  end
  return client
end

---@class codebench.RequestOptions
---@field bufnr integer? Use this buffer's client.
---@field client_id integer? Use exactly this client.
---@field silent boolean? Do not show errors (the callback handles them).

--- Sends a request and calls back with (err, result); errors are already shown unless the
--- caller handles them (`opts.silent`).
---@param method string
---@param params table?
---@param callback fun(err: lsp.ResponseError?, result: any)?
---@param opts codebench.RequestOptions?
---@return vim.lsp.Client? client
---@return integer? request_id
function M.request(method, params, callback, opts)
  opts = opts or {}
  local client, problem
  if opts.client_id then
    client = vim.lsp.get_client_by_id(opts.client_id)
    problem = 'the codebench server that made this proposal has stopped'
  else
    client, problem = M.ensure_client(opts.bufnr)
  end
  if not client then
    vim.notify('codebench: ' .. problem, vim.log.levels.ERROR)
    return nil, nil
  end
  local _, id = client_request(client, method, params, function(err, result)
    if err and not opts.silent then
      vim.notify(('codebench: %s failed: %s'):format(method, err.message or vim.inspect(err)), vim.log.levels.ERROR)
    end
    if callback then
      callback(err, result)
    end
  end, opts.bufnr)
  return client, id
end

--- Runs one of the server's `workspace/executeCommand` commands with one argument object.
---@param command string
---@param argument table
---@param callback fun(err: lsp.ResponseError?, result: any)?
---@param opts codebench.RequestOptions?
---@return vim.lsp.Client?
function M.command(command, argument, callback, opts)
  return (M.request('workspace/executeCommand', { command = command, arguments = { argument } }, callback, opts))
end

--- A blocking request (for :checkhealth).
---@param client vim.lsp.Client
---@param method string
---@param params table?
---@param timeout_ms integer
---@return any result
---@return string? error
function M.request_sync(client, method, params, timeout_ms)
  local response, problem
  if has_011 then
    response, problem = client:request_sync(method, params, timeout_ms)
  else
    response, problem = client.request_sync(method, params, timeout_ms)
  end
  if not response then
    return nil, tostring(problem or 'no response')
  end
  if response.err then
    return nil, response.err.message or vim.inspect(response.err)
  end
  return response.result, nil
end

---@param client vim.lsp.Client
---@return boolean
function M.is_stopped(client)
  if has_011 then
    return client:is_stopped()
  end
  return client.is_stopped()
end

--- Stops a client started only for a one-off request.
---@param client vim.lsp.Client
function M.stop(client)
  if has_011 then
    client:stop()
  else
    client.stop()
  end
end

--- Converts a position in the client's encoding to a 0-based byte column of `line`.
---@param line string
---@param character integer
---@param encoding string
---@return integer
function M.byte_col(line, character, encoding)
  if encoding == 'utf-8' then
    return math.min(character, #line)
  end
  local ok, col
  if has_011 then
    ok, col = pcall(vim.str_byteindex, line, encoding, character, false)
  else
    ---@diagnostic disable-next-line: param-type-mismatch, missing-parameter
    ok, col = pcall(vim.str_byteindex, line, character, encoding == 'utf-16')
  end
  if not ok then
    return #line
  end
  return math.min(col, #line)
end

--- Converts a 0-based byte column of `line` to a character offset in the client's encoding.
---@param line string
---@param col integer
---@param encoding string
---@return integer
function M.char_col(line, col, encoding)
  col = math.min(col, #line)
  if encoding == 'utf-8' then
    return col
  end
  if has_011 then
    return vim.str_utfindex(line, encoding, col, false)
  end
  ---@diagnostic disable-next-line: missing-parameter, param-type-mismatch
  local utf32, utf16 = vim.str_utfindex(line, col)
  return encoding == 'utf-16' and utf16 or utf32
end

return M
