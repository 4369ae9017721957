---@mod codebench.commands The :Codebench command

local M = {}

---@class codebench.Subcommand
---@field run fun(args: string, command: table)
---@field desc string
---@field complete (fun(lead: string): string[])?

---@type table<string, codebench.Subcommand>
M.subcommands = {
  ask = {
    desc = 'ask about the selection or cursor line (prompts when no instruction is given)',
    run = function(args, command)
      require('codebench.ask').ask_command(args, command)
    end,
  },
  chat = {
    desc = 'open or close the chat panel',
    run = function()
      require('codebench.chat').toggle()
    end,
  },
  new = {
    desc = 'start a new conversation in the chat panel',
    run = function()
      require('codebench.chat').new_session()
      require('codebench.chat').open()
    end,
  },
  cancel = {
    desc = "cancel the running agent (and the chat panel's queued messages, put back in its input area)",
    run = function()
      local chat = require('codebench.chat')
      if chat.busy() or #chat.state.queue > 0 then
        chat.cancel()
      else
        require('codebench.ask').cancel()
      end
    end,
  },
  model = {
    desc = "switch the chat panel's provider (no name: pick one of the configured providers)",
    run = function(args)
      require('codebench.chat').pick_model(args)
    end,
  },
  history = {
    desc = "reopen one of this workspace's sessions (`all`: every workspace)",
    run = function(args)
      require('codebench.history').pick({ all = args == 'all' })
    end,
    complete = function()
      return { 'all' }
    end,
  },
  search = {
    desc = 'search all history (prompts when no query is given)',
    run = function(args)
      require('codebench.history').search(args)
    end,
  },
  memory = {
    desc = "list this workspace's remembered facts and forget one (`add {fact}`: remember one)",
    run = function(args)
      local memory = require('codebench.memory')
      local action, rest = args:match('^(%S+)%s*(.*)$')
      if not action then
        memory.pick()
      elseif action == 'add' then
        memory.add(rest)
      else
        local message = 'codebench: unknown memory action %q; try :Codebench memory [add {fact}]'
        vim.notify(message:format(action), vim.log.levels.ERROR)
      end
    end,
    complete = function()
      return { 'add' }
    end,
  },
  undo = {
    desc = 'undo the most recently applied agent change (a later edit of yours is kept)',
    run = function()
      require('codebench.undo').undo()
    end,
  },
  usage = {
    desc = 'tokens and cost per day, in a floating window (`provider`, `model`, `session`: grouped by that)',
    run = function(args)
      require('codebench.usage').open({ by = args ~= '' and args or nil })
    end,
    complete = function()
      return { 'provider', 'model', 'day', 'session' }
    end,
  },
  review = {
    desc = 'show the pending proposals inline again',
    run = function()
      require('codebench.review').show_all()
    end,
  },
  accept = {
    desc = 'accept the hunk under the cursor (`all`: every hunk)',
    run = function(args)
      require('codebench.review').accept({ all = args == 'all' })
    end,
    complete = function()
      return { 'all' }
    end,
  },
  reject = {
    desc = 'reject the hunk under the cursor (`all`: every hunk)',
    run = function(args)
      require('codebench.review').reject({ all = args == 'all' })
    end,
    complete = function()
      return { 'all' }
    end,
  },
  preview = {
    desc = "open the proposal's unified diff",
    run = function()
      require('codebench.review').preview()
    end,
  },
}

--- Runs `:Codebench {subcommand} [args]`.
---@param command { fargs: string[], args: string, range: integer, line1: integer, line2: integer }
function M.run(command)
  require('codebench').ensure_setup()
  local name = command.fargs[1] or 'chat'
  local sub = M.subcommands[name]
  if not sub then
    vim.notify(
      ('codebench: unknown subcommand %q; try one of: %s'):format(name, table.concat(M.names(), ', ')),
      vim.log.levels.ERROR
    )
    return
  end
  local args = vim.trim(command.args:gsub('^%s*%S+', '', 1))
  sub.run(args, command)
end

---@return string[]
function M.names()
  local names = vim.tbl_keys(M.subcommands)
  table.sort(names)
  return names
end

--- Completion for :Codebench.
---@param lead string
---@param line string
---@return string[]
function M.complete(lead, line)
  local words = vim.split(vim.trim(line:gsub('^%S*Codebench!?', '')), '%s+', { trimempty = true })
  if #words == 0 or (#words == 1 and lead ~= '') then
    return vim.tbl_filter(function(name)
      return name:sub(1, #lead) == lead
    end, M.names())
  end
  local sub = M.subcommands[words[1]]
  if sub and sub.complete then
    return vim.tbl_filter(function(item)
      return item:sub(1, #lead) == lead
    end, sub.complete(lead))
  end
  return {}
end

return M
