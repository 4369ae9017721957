-- Assertions and waiting for the headless scenario scripts. A scenario calls H.run(fn): the
-- process exits 0 when fn returns, and 1 with the error and a traceback when it throws.
local H = {}

H.params = vim.json.decode(vim.env.CODEBENCH_TEST_PARAMS or '{}')
H.root = assert(vim.uv.cwd())

---@param ... any
function H.log(...)
  local parts = {}
  for i = 1, select('#', ...) do
    local value = select(i, ...)
    parts[#parts + 1] = type(value) == 'string' and value or vim.inspect(value)
  end
  io.stderr:write('[nvim] ' .. table.concat(parts, ' ') .. '\n')
end

---@param ms integer
---@param condition fun(): any
---@param what string
function H.wait(ms, condition, what)
  local value
  local ok = vim.wait(ms, function()
    value = condition()
    return value and true or false
  end, 20)
  if not ok then
    error('timed out after ' .. ms .. ' ms waiting for ' .. what, 2)
  end
  return value
end

function H.eq(actual, expected, what)
  if not vim.deep_equal(actual, expected) then
    error(('%s:\n  expected %s\n  got      %s'):format(what, vim.inspect(expected), vim.inspect(actual)), 2)
  end
end

function H.ok(condition, what)
  if not condition then
    error('expected ' .. what, 2)
  end
  return condition
end

---@param buf integer
---@return string[]
function H.lines(buf)
  return vim.api.nvim_buf_get_lines(buf, 0, -1, false)
end

---@param buf integer
---@return string
function H.text(buf)
  return table.concat(H.lines(buf), '\n')
end

--- Opens a workspace file and waits until the codebench client is attached and initialized.
---@param path string
---@return integer buf
---@return vim.lsp.Client client
function H.open(path)
  vim.cmd.edit(vim.fn.fnameescape(H.root .. '/' .. path))
  local buf = vim.api.nvim_get_current_buf()
  local client = H.wait(20000, function()
    local c = vim.lsp.get_clients({ name = 'codebench', bufnr = buf })[1]
    return c and c.initialized and c
  end, 'the codebench client to attach to ' .. path)
  return buf, client
end

--- The run the plugin knows, once it exists.
---@return codebench.Run
function H.wait_run(ms)
  local runs = require('codebench.runs')
  return H.wait(ms or 20000, function()
    local _, run = next(runs.runs)
    return run
  end, 'a run to start')
end

---@param run codebench.Run
---@param ms integer?
function H.wait_finished(run, ms)
  H.wait(ms or 30000, function()
    return run.status ~= 'running'
  end, 'run ' .. run.id .. ' to finish (activity: ' .. tostring(run.activity) .. ')')
end

--- Presses keys as a user would (mapped keys included) and processes them.
---@param keys string
function H.feed(keys)
  vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes(keys, true, false, true), 'mx', false)
end

--- Runs a scenario and quits with its verdict.
---@param fn fun()
function H.run(fn)
  local v = vim.version()
  H.log(('Neovim %d.%d.%d'):format(v.major, v.minor, v.patch))
  local ok, problem = xpcall(fn, debug.traceback)
  if ok then
    H.log('PASS')
    vim.cmd('qall!')
  else
    H.log('FAIL: ' .. tostring(problem))
    vim.cmd('cquit 1')
  end
end

return H
