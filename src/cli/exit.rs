//! The exit codes of the `matcalc` binary, shared by every command.
//!
//! Scripts rely on these numbers, so they never change meaning: a new kind of
//! outcome gets a new code. The `--help` text and the README list them from
//! [`Exit::ALL`].

/// How a run of `matcalc` ended, as the process exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// 0: the command did its job.
    Ok = 0,
    /// 1: the input is wrong: a syntax error, a shape error, an unknown name,
    /// a malformed declaration, or standard input that is not UTF-8.
    UserError = 1,
    /// 2: the command line is wrong: an unknown flag, a missing argument, an
    /// invalid `--format`.
    Usage = 2,
    /// 3: a claim was refuted (`check` found the two sides different).
    Refuted = 3,
    /// 4: matcalc itself failed (a bug); the message asks for a report.
    Internal = 4,
}

impl Exit {
    /// Every exit code, in numeric order.
    pub const ALL: [Exit; 5] = [
        Exit::Ok,
        Exit::UserError,
        Exit::Usage,
        Exit::Refuted,
        Exit::Internal,
    ];

    /// The number the process exits with.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// One line saying when this code is used.
    pub fn meaning(self) -> &'static str {
        match self {
            Exit::Ok => "success",
            Exit::UserError => "error in the input (syntax, shape, unknown name, declaration)",
            Exit::Usage => "error in the command line (unknown flag, missing argument)",
            Exit::Refuted => "a claim was refuted (`check`), or two expressions differ (`equal`)",
            Exit::Internal => "internal error in matcalc (please report it)",
        }
    }

    /// The exit-code section of `--help`.
    pub fn help_section() -> String {
        let mut text = String::from("Exit codes:\n");
        for exit in Exit::ALL {
            text.push_str(&format!("  {}  {}\n", exit.code(), exit.meaning()));
        }
        text
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> std::process::ExitCode {
        std::process::ExitCode::from(exit.code())
    }
}
