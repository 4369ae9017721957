-- Minimal init for the headless tests: loads the plugin the way a user with plain `packadd`
-- would, then calls setup() with the server command the test passes in.
local plugin_dir = assert(vim.env.CODEBENCH_PLUGIN_DIR, 'CODEBENCH_PLUGIN_DIR is not set')

vim.opt.swapfile = false
vim.opt.shadafile = 'NONE'
vim.opt.more = false

-- A pack/*/opt entry in the (isolated) data dir, then :packadd, as the README tells users.
local pack = vim.fn.stdpath('data') .. '/site/pack/codebench/opt'
vim.fn.mkdir(pack, 'p')
if not vim.uv.fs_stat(pack .. '/codebench') then
  assert(vim.uv.fs_symlink(plugin_dir, pack .. '/codebench'))
end
vim.cmd.packadd('codebench')

package.path = plugin_dir .. '/test/?.lua;' .. package.path

local params = vim.json.decode(vim.env.CODEBENCH_TEST_PARAMS or '{}')
require('codebench').setup({
  cmd = vim.json.decode((assert(vim.env.CODEBENCH_TEST_CMD, 'CODEBENCH_TEST_CMD is not set'))),
  position_encodings = params.encodings ~= vim.NIL and params.encodings or nil,
  chat = { throttle_ms = 80 },
})
