//! Running commands: echo them, inherit the terminal, fail with the command line on error.

use std::ffi::OsStr;
use std::process::Command;

/// Why a step failed, in one message.
#[derive(Debug)]
pub struct Failure(pub String);

impl Failure {
    /// Maps an I/O error with a short context.
    pub fn io(context: &'static str) -> impl Fn(std::io::Error) -> Failure {
        move |e| Failure(format!("{context}: {e}"))
    }
}

/// A command to run in the workspace root, with the tool cache first on PATH.
pub struct Cmd {
    command: Command,
    shown: String,
}

impl Cmd {
    pub fn new(program: impl AsRef<OsStr>) -> Self {
        let mut command = Command::new(program.as_ref());
        command.current_dir(crate::root());
        command.env("PATH", crate::install::path_with_tools());
        Self {
            command,
            shown: program.as_ref().to_string_lossy().into_owned(),
        }
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.shown.push(' ');
        self.shown.push_str(&arg.as_ref().to_string_lossy());
        self.command.arg(arg);
        self
    }

    pub fn args<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(mut self, args: I) -> Self {
        for arg in args {
            self = self.arg(arg);
        }
        self
    }

    pub fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Self {
        self.command.env(key, value);
        self
    }

    pub fn env_remove(mut self, key: &str) -> Self {
        self.command.env_remove(key);
        self
    }

    /// Runs to completion with the terminal attached.
    pub fn run(mut self) -> Result<(), Failure> {
        println!("xtask: $ {}", self.shown);
        let status = self
            .command
            .status()
            .map_err(|e| Failure(format!("cannot run {}: {e}", self.shown)))?;
        if status.success() {
            Ok(())
        } else {
            Err(Failure(format!("`{}` failed ({status})", self.shown)))
        }
    }

    /// Runs and returns stdout, or `None` if it cannot run or fails.
    pub fn output(mut self) -> Option<String> {
        let out = self.command.output().ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }
}
