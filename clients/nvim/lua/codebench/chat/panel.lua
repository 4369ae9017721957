---@mod codebench.chat.panel The chat panel's windows
---
--- The transcript window is the panel: when it is gone, `open` builds both windows again (the
--- input area is closed first so it does not linger alone). Neither window is closed when it is
--- the last one, since Neovim cannot close its last window.

local config = require('codebench.config')
local buffers = require('codebench.chat.buffers')
local state = require('codebench.chat.state')
local transcript = require('codebench.chat.transcript')

local M = {}

---@return boolean
function M.is_open()
  return buffers.valid_win(state.win)
end

--- Opens the panel (or focuses it) and puts the cursor in the input area.
---@param opts { focus: boolean? }?
function M.open(opts)
  opts = opts or {}
  local current = vim.api.nvim_get_current_buf()
  if require('codebench.lsp').eligible(current) then
    state.source_buf = current
  end
  local chat = config.get().chat
  if not buffers.valid_win(state.win) then
    -- The transcript window was closed by hand: rebuild the panel, input area included.
    if buffers.valid_win(state.input_win) and #vim.api.nvim_list_wins() > 1 then
      vim.api.nvim_win_close(state.input_win --[[@as integer]], true)
    end
    local vertical = chat.position == 'right' or chat.position == 'left'
    local total = vertical and vim.o.columns or vim.o.lines
    local size = chat.width <= 1 and math.floor(total * chat.width) or math.floor(chat.width)
    local split = ({ right = 'right', left = 'left', bottom = 'below', top = 'above' })[chat.position] or 'right'
    state.win = vim.api.nvim_open_win(buffers.transcript(), false, {
      split = split,
      win = -1,
      width = vertical and size or nil,
      height = (not vertical) and size or nil,
    })
    vim.wo[state.win].wrap = true
    vim.wo[state.win].linebreak = true
    vim.wo[state.win].number = false
    vim.wo[state.win].relativenumber = false
    vim.wo[state.win].signcolumn = 'no'
    vim.wo[state.win].winfixwidth = vertical
    state.input_win = vim.api.nvim_open_win(buffers.input(), false, {
      split = 'below',
      win = state.win,
      height = chat.input_height,
    })
    vim.wo[state.input_win].number = false
    vim.wo[state.input_win].relativenumber = false
    vim.wo[state.input_win].winfixheight = true
    M.update_winbar()
    transcript.refold(buffers.transcript(), state.win)
    transcript.scroll(buffers.transcript(), { state.win })
    M.learn_default_provider()
  end
  if opts.focus ~= false and buffers.valid_win(state.input_win) then
    vim.api.nvim_set_current_win(state.input_win --[[@as integer]])
  end
end

--- The model the panel's messages use, as the winbar shows it: the provider, and its model when
--- the server said which (`codebench/providers`).
---@return string
function M.model_label()
  local name = state.provider or state.default_provider
  if not name then
    return 'the default provider'
  end
  local label = state.provider and name or (name .. ' (default)')
  local model = state.models and state.models[name]
  return model and (label .. ' · ' .. model) or label
end

--- Both windows' bars: the model in use and the keys (the transcript's: how to stop and close).
function M.update_winbar()
  local keys = config.get().keys
  local label = config.key_label
  local function part(key, what)
    return key and (label(key) .. ' ' .. what) or nil
  end
  local stop = vim.tbl_filter(function(item)
    return item ~= nil
  end, { part(keys.cancel, 'stop'), part(keys.close, 'close') })
  local input = vim.tbl_filter(function(item)
    return item ~= nil
  end, { part(keys.send, 'send'), part(keys.model, 'switch model'), unpack(stop) })
  local model = ('%%#CodebenchChatHeader#codebench%%* · model: %s'):format(M.model_label():gsub('%%', '%%%%'))
  if buffers.valid_win(state.win) then
    vim.wo[state.win].winbar = model .. ' — ' .. table.concat(stop, ' · ')
  end
  if buffers.valid_win(state.input_win) then
    vim.wo[state.input_win].winbar = model .. ' — ' .. table.concat(input, ' · ')
  end
end

--- The configured providers and their models, from `codebench/providers` (the config alone: no
--- network, unlike `codebench/health`).
---@param callback fun(providers: string[], default: string?)
local function providers(callback)
  require('codebench.lsp').request('codebench/providers', {}, function(err, result)
    if err or type(result) ~= 'table' then
      callback({}, nil)
      return
    end
    local names = {}
    state.models = {}
    for _, provider in ipairs(result.providers or {}) do
      table.insert(names, provider.name)
      state.models[provider.name] = provider.model
    end
    callback(names, result.defaultProvider)
  end, { silent = true })
end

--- Asks the server once which provider it uses by default, for the winbar.
function M.learn_default_provider()
  if state.default_provider or config.get().provider then
    state.provider = state.provider or config.get().provider
    M.update_winbar()
    return
  end
  -- Only a running server is asked: opening the panel must not start one or report an error.
  if not vim.lsp.get_clients({ name = 'codebench' })[1] then
    return
  end
  providers(function(_, default)
    state.default_provider = default
    M.update_winbar()
  end)
end

--- `:Codebench model [name]` and the panel's `model` key: the provider of the panel's next
--- messages. Without a name, picks from the configured providers.
---@param name string?
function M.pick_model(name)
  local function use(choice)
    if not choice or choice == '' then
      return
    end
    state.provider = choice
    M.update_winbar()
    if buffers.valid_buf(state.transcript) then
      transcript.edit(function(buf)
        transcript.append_line(buf, ('model: %s from the next message on'):format(choice), 'CodebenchChatStatus')
      end)
    end
  end
  if name and name ~= '' then
    use(name)
    return
  end
  providers(function(names, default)
    state.default_provider = default or state.default_provider
    if #names == 0 then
      vim.notify('codebench: the server listed no providers', vim.log.levels.WARN)
      return
    end
    vim.ui.select(names, {
      prompt = 'codebench model',
      format_item = function(item)
        local marks = {}
        if item == default then
          table.insert(marks, 'default')
        end
        if item == (state.provider or default) then
          table.insert(marks, 'in use')
        end
        local shown = state.models and state.models[item] and (item .. ' · ' .. state.models[item]) or item
        return #marks > 0 and ('%s (%s)'):format(shown, table.concat(marks, ', ')) or shown
      end,
    }, use)
  end)
end

function M.close()
  for _, win in ipairs({ state.input_win, state.win }) do
    if buffers.valid_win(win) and #vim.api.nvim_list_wins() > 1 then
      vim.api.nvim_win_close(win, true)
    end
  end
  state.win, state.input_win = nil, nil
end

function M.toggle()
  if M.is_open() then
    M.close()
  else
    M.open()
  end
end

return M
