//! Zed extension for codebench: starts `codebench lsp` for the languages in extension.toml.
//! The server does all the work; this only finds the binary, honouring a user's
//! `lsp.codebench.binary` settings.

use zed_extension_api::{self as zed, settings::LspSettings, LanguageServerId, Result};

const SERVER: &str = "codebench";

struct Codebench;

impl zed::Extension for Codebench {
    fn new() -> Self {
        Codebench
    }

    fn language_server_command(
        &mut self,
        language_server_id: &LanguageServerId,
        worktree: &zed::Worktree,
    ) -> Result<zed::Command> {
        let binary = LspSettings::for_worktree(language_server_id.as_ref(), worktree)
            .ok()
            .and_then(|settings| settings.binary);
        let configured_path = binary.as_ref().and_then(|binary| binary.path.clone());
        let arguments = binary
            .and_then(|binary| binary.arguments)
            .unwrap_or_else(|| vec!["lsp".to_string()]);

        // An explicit path wins; otherwise the user's PATH as their shell sees it.
        let command = match configured_path {
            Some(path) => path,
            None => worktree.which(SERVER).ok_or_else(|| {
                "codebench was not found on PATH. Install it (npm link in a codebench checkout, or npm pack there and npm install -g the tarball) \
                 or set lsp.codebench.binary.path in Zed's settings."
                    .to_string()
            })?,
        };

        Ok(zed::Command {
            command,
            args: arguments,
            env: worktree.shell_env(),
        })
    }
}

zed::register_extension!(Codebench);
