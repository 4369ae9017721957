---@mod codebench.health :checkhealth codebench

local config = require('codebench.config')
local lsp = require('codebench.lsp')

local M = {}

local health = vim.health

function M.check()
  health.start('codebench: Neovim')
  local v = vim.version()
  local version = ('%d.%d.%d'):format(v.major, v.minor, v.patch)
  if vim.fn.has('nvim-0.10') == 1 then
    health.ok('Neovim ' .. version)
  else
    health.error('Neovim ' .. version .. ' is too old', { 'codebench.nvim needs Neovim 0.10 or newer' })
    return
  end
  if not config.configured then
    health.warn('setup() has not been called: using the defaults', { "call require('codebench').setup({...})" })
  else
    health.ok('setup() called')
  end

  health.start('codebench: server')
  local opts = config.get()
  local binary = opts.cmd[1]
  if vim.fn.executable(binary) ~= 1 then
    health.error(('`%s` is not executable'):format(binary), {
      'install codebench and run `npm link` in its folder, or set `cmd` in setup()',
    })
    return
  end
  health.ok(('server command: `%s`'):format(table.concat(opts.cmd, ' ')))

  local started_here = lsp.get_client() == nil
  local client, problem = lsp.ensure_client()
  if not client then
    health.error(
      problem or 'could not start the server',
      { 'run `' .. table.concat(opts.cmd, ' ') .. '` in a shell to see why' }
    )
    return
  end
  local info, err =
    lsp.request_sync(client, 'codebench/health', { timeoutMs = opts.health_timeout_ms }, opts.health_timeout_ms + 5000)
  if started_here then
    lsp.stop(client)
  end
  if not info then
    health.error('codebench/health failed: ' .. tostring(err))
    return
  end
  health.ok('codebench ' .. tostring(info.version))
  health.info('position encoding: ' .. tostring(info.positionEncoding))
  health.info('config: ' .. tostring(info.configPath))
  health.info('history database: ' .. tostring(info.databaseFile))
  health.info('default provider: ' .. tostring(info.defaultProvider))

  health.start('codebench: providers (checked by the server)')
  for _, check in ipairs(info.checks or {}) do
    local text = ('%s: %s'):format(check.name, check.message)
    local advice = check.fix and { check.fix } or nil
    if check.status == 'ok' then
      health.ok(text)
    elseif check.status == 'warning' then
      health.warn(text, advice)
    else
      health.error(text, advice)
    end
  end
end

return M
