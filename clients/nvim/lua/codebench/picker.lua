---@mod codebench.picker One select() over vim.ui.select, Telescope, fzf-lua and snacks.nvim

local config = require('codebench.config')

local M = {}

---@class codebench.PickerOptions
---@field prompt string
---@field format_item fun(item: any): string

---@param items any[]
---@param opts codebench.PickerOptions
---@param on_choice fun(item: any?)
local function telescope(items, opts, on_choice)
  local pickers = require('telescope.pickers')
  local finders = require('telescope.finders')
  local values = require('telescope.config').values
  local actions = require('telescope.actions')
  local action_state = require('telescope.actions.state')
  pickers
    .new({}, {
      prompt_title = opts.prompt,
      finder = finders.new_table({
        results = items,
        entry_maker = function(item)
          local text = opts.format_item(item)
          return { value = item, display = text, ordinal = text }
        end,
      }),
      sorter = values.generic_sorter({}),
      attach_mappings = function(prompt_bufnr)
        actions.select_default:replace(function()
          local entry = action_state.get_selected_entry()
          actions.close(prompt_bufnr)
          on_choice(entry and entry.value or nil)
        end)
        return true
      end,
    })
    :find()
end

---@param items any[]
---@param opts codebench.PickerOptions
---@param on_choice fun(item: any?)
local function fzf_lua(items, opts, on_choice)
  local lines = {}
  for i, item in ipairs(items) do
    lines[i] = ('%d\t%s'):format(i, opts.format_item(item):gsub('\n', ' '))
  end
  require('fzf-lua').fzf_exec(lines, {
    prompt = opts.prompt .. '> ',
    fzf_opts = { ['--delimiter'] = '\t', ['--with-nth'] = '2..' },
    actions = {
      ['default'] = function(selected)
        local index = selected and selected[1] and tonumber(selected[1]:match('^(%d+)\t'))
        on_choice(index and items[index] or nil)
      end,
    },
  })
end

---@return string
local function backend()
  local wanted = config.get().picker
  if wanted ~= 'auto' then
    return wanted
  end
  ---@diagnostic disable-next-line: undefined-field
  if _G.Snacks and _G.Snacks.picker then
    return 'snacks'
  end
  if pcall(require, 'telescope') then
    return 'telescope'
  end
  if pcall(require, 'fzf-lua') then
    return 'fzf-lua'
  end
  return 'select'
end

--- Lets the user pick one item; `on_choice(nil)` when dismissed.
---@param items any[]
---@param opts codebench.PickerOptions
---@param on_choice fun(item: any?)
function M.select(items, opts, on_choice)
  local kind = backend()
  local ok, problem
  if kind == 'telescope' then
    ok, problem = pcall(telescope, items, opts, on_choice)
  elseif kind == 'fzf-lua' then
    ok, problem = pcall(fzf_lua, items, opts, on_choice)
  elseif kind == 'snacks' then
    ---@diagnostic disable-next-line: undefined-field
    ok, problem = pcall(_G.Snacks.picker.select, items, opts, on_choice)
  else
    vim.ui.select(items, opts, on_choice)
    return
  end
  if not ok then
    vim.notify(('codebench: %s picker failed (%s); using vim.ui.select'):format(kind, problem), vim.log.levels.WARN)
    vim.ui.select(items, opts, on_choice)
  end
end

return M
