-- luacheck config for the Neovim plugin (run by test/clients/nvim-lint.test.ts).
std = 'luajit'
-- Neovim's API table; the plugin and tests set vim.g, vim.bo, vim.ui.* fields on it.
globals = { 'vim' }
max_line_length = 120
-- LuaLS annotations use `---@` comments; nothing else to relax.
