---@mod codebench.chat.state What the chat panel remembers
---
--- Plain data shared by the panel's modules and exposed as `require('codebench.chat').state`
--- (the tests reach the input buffer and window through it). Its fields are reassigned, never the
--- table itself, so every holder of it sees the same conversation.

---@class codebench.FollowedRun
---@field rendered integer Events already written to the transcript.
---@field tools table<string, integer> callId → extmark of its line.

---@class codebench.ChatState
---@field session_id string? The conversation the next message continues.
---@field viewing_author string? The teammate whose session the transcript shows (read-only).
---@field transcript integer? Transcript buffer.
---@field input integer? Input buffer.
---@field win integer? Transcript window.
---@field input_win integer? Input window.
---@field followed table<string, codebench.FollowedRun>
---@field order string[] Followed run ids, in the order they started.
---@field flush_scheduled boolean
---@field source_buf integer? The last file buffer, asked about from the chat.
---@field sending boolean An ask of this panel was sent and its run id is not back yet.
---@field queue { opts: codebench.AskOptions }[] Messages waiting for the running answer to end.
---@field provider string? The provider the panel's messages use (nil: the server's default).
---@field default_provider string? The server's default provider, once asked.
---@field models table<string, string>? Each configured provider's model (`codebench/providers`), once asked.
local state = {
  session_id = nil,
  followed = {},
  order = {},
  flush_scheduled = false,
  sending = false,
  queue = {},
}

return state
