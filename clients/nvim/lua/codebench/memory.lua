---@mod codebench.memory The project memory: facts every new session in the workspace starts with

local lsp = require('codebench.lsp')
local picker = require('codebench.picker')

local M = {}

---@class codebench.MemoryFact
---@field id string
---@field text string
---@field createdAt string
---@field runId string? The run whose `remember` call stored it; nil when a user added it.

---@param fact codebench.MemoryFact
---@return string
function M.format_fact(fact)
  local by = fact.runId and ('run ' .. fact.runId:sub(1, 8)) or 'added by you'
  return ('%s  %s  %s'):format(fact.id:sub(1, 8), by, (fact.text:gsub('%s+', ' ')))
end

--- Fetches the facts of the server's workspace, oldest first.
---@param callback fun(facts: codebench.MemoryFact[])
function M.facts(callback)
  lsp.request('codebench/memory/list', {}, function(err, result)
    if not err and result then
      callback(result.facts or {})
    end
  end)
end

--- Forgets one fact (facts are never edited: forget one and add another).
---@param fact codebench.MemoryFact
---@param callback fun(removed: boolean)?
function M.forget(fact, callback)
  lsp.request('codebench/memory/remove', { id = fact.id }, function(err, result)
    if err or not result then
      return
    end
    if result.removed then
      vim.notify('codebench: forgot ' .. M.format_fact(fact), vim.log.levels.INFO)
    else
      vim.notify('codebench: that fact was already forgotten', vim.log.levels.WARN)
    end
    if callback then
      callback(result.removed)
    end
  end)
end

--- `:Codebench memory add {fact}`: remembers a fact for this workspace (secrets are redacted).
---@param text string
---@param callback fun(fact: codebench.MemoryFact)?
function M.add(text, callback)
  if vim.trim(text or '') == '' then
    vim.notify('codebench: :Codebench memory add needs the fact to remember', vim.log.levels.WARN)
    return
  end
  lsp.request('codebench/memory/add', { text = text }, function(err, result)
    if err or not result then
      return
    end
    vim.notify('codebench: remembered ' .. M.format_fact(result.fact), vim.log.levels.INFO)
    if callback then
      callback(result.fact)
    end
  end)
end

--- `:Codebench memory`: lists this workspace's facts; picking one offers to forget it.
function M.pick()
  M.facts(function(facts)
    if #facts == 0 then
      vim.notify('codebench: no facts remembered here yet (:Codebench memory add {fact})', vim.log.levels.INFO)
      return
    end
    picker.select(
      facts,
      { prompt = 'codebench memory (pick one to forget)', format_item = M.format_fact },
      function(fact)
        if not fact then
          return
        end
        vim.ui.select({ 'Forget it', 'Keep it' }, { prompt = 'Forget "' .. fact.text .. '"?' }, function(choice)
          if choice == 'Forget it' then
            M.forget(fact)
          end
        end)
      end
    )
  end)
end

return M
