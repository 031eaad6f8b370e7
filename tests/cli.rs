//! The `matcalc` binary as a user meets it: exit codes, messages, every
//! output format, and hostile inputs (empty, deeply nested, huge, not UTF-8).

use std::io::Write;
use std::process::{Command, Stdio};

/// What one run of the binary did.
struct Run {
    stdout: String,
    stderr: String,
    code: i32,
}

/// Runs `matcalc ARGS` with `stdin` as its standard input.
fn matcalc_with_stdin(args: &[&str], stdin: &[u8]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_matcalc"))
        .args(args)
        .env("COLUMNS", "100")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut pipe = child.stdin.take().expect("stdin is piped");
    let input = stdin.to_vec();
    // Written from a thread so that a child that answers before reading
    // everything cannot deadlock the test; a closed pipe is fine.
    let writer = std::thread::spawn(move || {
        let _ = pipe.write_all(&input);
    });
    let output = child.wait_with_output().expect("the binary runs");
    writer.join().expect("the writer thread ends");
    Run {
        stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
        code: output.status.code().expect("the binary exits normally"),
    }
}

fn matcalc(args: &[&str]) -> Run {
    matcalc_with_stdin(args, b"")
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

fn snapshot(name: &str, text: &str) {
    insta::with_settings!({ snapshot_path => "../snapshots", prepend_module_to_snapshot => true }, {
        insta::assert_snapshot!(name, text);
    });
}

#[test]
fn help_lists_examples_and_exit_codes() {
    let run = matcalc(&["--help"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for part in [
        "Examples:",
        "matcalc parse",
        "Exit codes:",
        "0  success",
        "3  a claim",
    ] {
        assert!(
            run.stdout.contains(part),
            "missing {part:?} in\n{}",
            run.stdout
        );
    }
    snapshot("help", &run.stdout);
    let run = matcalc(&["parse", "--help"]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("--let <DECLS>"), "{}", run.stdout);
    snapshot("parse_help", &run.stdout);
}

#[test]
fn version_names_the_package_version() {
    let run = matcalc(&["--version"]);
    assert_eq!(run.code, 0);
    assert_eq!(
        run.stdout.trim(),
        format!("matcalc {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn leading_minus_works_with_and_without_double_dash() {
    let plain = matcalc(&["parse", "-inv(X)'"]);
    let dashed = matcalc(&["parse", "--", "-inv(X)'"]);
    assert_eq!(plain.code, 0, "{}", plain.stderr);
    assert_eq!(dashed.code, 0, "{}", dashed.stderr);
    assert_eq!(plain.stdout, dashed.stdout);
    let after_option = matcalc(&["parse", "--format", "expr", "-inv(X)'"]);
    assert_eq!(after_option.code, 0, "{}", after_option.stderr);
}

#[test]
fn a_lone_dash_reads_standard_input() {
    let piped = matcalc_with_stdin(&["parse", "-"], b"tr(A*X)\n");
    let given = matcalc(&["parse", "tr(A*X)"]);
    assert_eq!(piped.code, 0, "{}", piped.stderr);
    assert_eq!(piped.stdout, given.stdout);
}

#[test]
fn invalid_utf8_on_stdin_is_a_clear_user_error() {
    let run = matcalc_with_stdin(&["parse", "-"], b"X*W\xff + B");
    assert_eq!(run.code, 1);
    assert!(run.stdout.is_empty());
    assert!(run.stderr.contains("not valid UTF-8"), "{}", run.stderr);
    assert!(run.stderr.contains("offset 3"), "{}", run.stderr);
    let run = matcalc_with_stdin(&["parse", "-", "--format", "json"], b"\xc3(");
    assert_eq!(run.code, 1);
    assert_eq!(json(&run.stdout)["error"]["kind"], "input");
}

#[test]
fn empty_input_is_a_user_error() {
    for run in [
        matcalc(&["parse", ""]),
        matcalc(&["parse", "  "]),
        matcalc_with_stdin(&["parse", "-"], b""),
        matcalc_with_stdin(&["parse", "-"], b"\n\n"),
    ] {
        assert_eq!(run.code, 1, "{}", run.stderr);
        assert!(run.stderr.contains("empty expression"), "{}", run.stderr);
    }
}

#[test]
fn deep_nesting_hits_the_nesting_limit() {
    let depth = 100_000;
    let text = format!("{}x{}", "(".repeat(depth), ")".repeat(depth));
    let run = matcalc_with_stdin(&["parse", "-"], text.as_bytes());
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("nest deeper than the limit of 2500"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.len() < 2_000, "the message is short");
    let run = matcalc_with_stdin(&["parse", "-", "--format", "json"], text.as_bytes());
    let error = &json(&run.stdout)["error"];
    assert_eq!(error["kind"], "limit");
    assert_eq!(error["labels"][0]["start"], 2_500);
}

#[test]
fn a_one_megabyte_chain_hits_the_depth_limit() {
    let text = format!("{}x", "x+".repeat(500_000));
    let run = matcalc_with_stdin(&["parse", "-"], text.as_bytes());
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("depth limit of 10000"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.len() < 2_000, "the message is short");
}

#[test]
fn a_one_megabyte_expression_within_the_limits_parses() {
    let group = format!("({})", vec!["x"; 1_000].join("+"));
    let text = vec![group; 500].join("+");
    assert!(text.len() > 1_000_000);
    let run = matcalc_with_stdin(&["parse", "-", "--format", "expr"], text.as_bytes());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.len() > 1_000_000);
    let run = matcalc_with_stdin(&["parse", "-"], text.as_bytes());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let listed = run.stdout.lines().filter(|l| l.contains(" : ")).count();
    assert!(listed <= 500, "{listed} rows");
    assert!(run
        .stdout
        .contains("more subexpressions, up to the whole expression (n-vector)"));
    assert!(run.stdout.ends_with("assuming x: n-vector\n"));
}

#[test]
fn unknown_function_suggests_the_nearest_name() {
    let run = matcalc(&["parse", "sigmod(X)"]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.is_empty());
    snapshot("unknown_function", &run.stderr);
    let run = matcalc(&["parse", "sigmod(X)", "--format", "json"]);
    assert_eq!(run.code, 1);
    let error = &json(&run.stdout)["error"];
    assert_eq!(error["kind"], "unknown-name");
    assert_eq!(error["help"], "did you mean `sigmoid`?");
    assert_eq!(error["labels"][0]["start"], 0);
    assert_eq!(error["labels"][0]["end"], 6);
    assert!(error["rendered"].as_str().unwrap().contains("^^^^^^"));
}

#[test]
fn syntax_error_points_at_the_offending_text() {
    let run = matcalc(&["parse", "X*W +* B"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.starts_with("error: syntax error"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("1 | X*W +* B"), "{}", run.stderr);
    assert!(run.stderr.contains("|      ^"), "{}", run.stderr);
}

#[test]
fn bad_declaration_is_a_user_error_about_the_declaration() {
    let run = matcalc(&["parse", "X", "--let", "X: 0x3"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("1 | X: 0x3"), "{}", run.stderr);
    let run = matcalc(&["parse", "X", "--let", "X: 0x3", "--format", "json"]);
    assert_eq!(json(&run.stdout)["error"]["kind"], "declaration");
}

#[test]
fn usage_errors_exit_with_2() {
    let run = matcalc(&["parse"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("<EXPR>"), "{}", run.stderr);
    let run = matcalc(&["frobnicate"]);
    assert_eq!(run.code, 2);
    let run = matcalc(&["parse", "x", "--format", "yaml"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("possible values"), "{}", run.stderr);
    let run = matcalc(&["parse", "--format", "json"]);
    assert_eq!(run.code, 2);
    let error = &json(&run.stdout)["error"];
    assert_eq!(error["kind"], "usage");
    assert!(error["message"].as_str().unwrap().contains("<EXPR>"));
}

#[test]
fn parse_shows_every_subexpression_with_its_shape_in_each_format() {
    let affine = "L(X*W + B)";
    for format in ["text", "expr", "latex", "markdown", "json"] {
        let run = matcalc(&["parse", affine, "--format", format]);
        assert_eq!(run.code, 0, "{format}: {}", run.stderr);
        assert!(run.stderr.is_empty(), "{format}: {}", run.stderr);
        snapshot(&format!("parse_affine_{format}"), &run.stdout);
    }
    let text = matcalc(&["parse", affine]).stdout;
    assert!(text.contains("X·W + B"), "{text}");
    assert!(text.contains("assuming X: n×k, W: k×m, B: n×m"), "{text}");
}

#[test]
fn parse_json_follows_the_documented_schema() {
    let source = "x'*A*x + tr(B)";
    let run = matcalc(&["parse", source, "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc = json(&run.stdout);
    assert_eq!(doc["expr"], "x'*A*x + tr(B)");
    assert_eq!(doc["shape"], "scalar");
    assert_eq!(doc["dims"], serde_json::json!([1, 1]));
    assert_eq!(doc["assumed"]["x"], "n-vector");
    assert_eq!(doc["omitted"], 0);
    assert!(doc["latex"].as_str().unwrap().contains(r"\top"));
    let subexpressions = doc["subexpressions"].as_array().unwrap();
    assert_eq!(subexpressions.len(), 9, "every node, repeats included");
    for sub in subexpressions {
        let (start, end) = (sub["start"].as_u64().unwrap(), sub["end"].as_u64().unwrap());
        let slice = &source[start as usize..end as usize];
        let reparsed = matcalc(&["parse", slice, "--format", "expr"]);
        assert_eq!(reparsed.stdout.trim(), sub["expr"], "span {start}..{end}");
        assert!(sub["shape"].is_string() && sub["dims"].is_array());
    }
    assert_eq!(subexpressions.last().unwrap()["expr"], doc["expr"]);
}

#[test]
fn expr_format_round_trips() {
    for source in [
        "-inv(X)'",
        "XW + B",
        "((a*b))*x'",
        "G[i,j] = dL[i,k]*W[j,k]",
    ] {
        let once = matcalc(&["parse", source, "--format", "expr"]);
        assert_eq!(once.code, 0, "{source}: {}", once.stderr);
        let twice = matcalc(&["parse", once.stdout.trim(), "--format", "expr"]);
        assert_eq!(once.stdout, twice.stdout, "{source}");
    }
}

#[test]
fn parse_lists_repeated_subexpressions_once_for_people() {
    let text = matcalc(&["parse", "x'*A*x"]).stdout;
    let x_rows = text.lines().filter(|l| l.starts_with("x ")).count();
    assert_eq!(x_rows, 1, "{text}");
    assert!(text.contains("xᵀ·A·x : scalar"), "{text}");
}

#[test]
fn declarations_replace_assumptions() {
    let run = matcalc(&["parse", "X*W", "--let", "X: 4x3", "--let", "W: 3 x m"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("X·W : 4×m"), "{}", run.stdout);
    assert!(!run.stdout.contains("assuming"), "{}", run.stdout);
}

#[test]
fn index_forms_show_the_result_shape() {
    let run = matcalc(&["parse", "G[i,j] = dL[i,k]*W[j,k]"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let last_row = run.stdout.lines().rfind(|l| l.contains(" : ")).unwrap();
    assert!(last_row.starts_with("G "), "{}", run.stdout);
    assert!(
        run.stdout.contains("Σₖ"),
        "the implicit sum is made explicit"
    );
}

#[test]
fn shape_error_names_both_operands() {
    let run = matcalc(&["parse", "X*W + b", "--let", "b: 3"]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.is_empty());
    assert!(
        run.stderr.starts_with("error: cannot add"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("^^^"), "{}", run.stderr);
    let run = matcalc(&["parse", "X*W + b", "--let", "b: 3", "--format", "json"]);
    assert_eq!(run.code, 1);
    let error = &json(&run.stdout)["error"];
    assert_eq!(error["kind"], "shape");
    assert_eq!(error["labels"].as_array().unwrap().len(), 2);
}

/// Splits a README command line into words, honouring '…' and "…".
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quote = None;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.get_or_insert_with(String::new).push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                word.get_or_insert_with(String::new);
            }
            (None, c) if c.is_whitespace() => words.extend(word.take()),
            (None, c) => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    words
}

#[test]
fn readme_starts_with_the_two_commands_and_the_main_job_runs() {
    let readme = include_str!("../README.md");
    let first_block = readme
        .split("```")
        .nth(1)
        .expect("the README has a code block");
    let commands: Vec<&str> = first_block
        .lines()
        .skip(1)
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(commands.len(), 2, "{commands:?}");
    assert_eq!(commands[1], "cargo test");
    let main_job = commands[0]
        .strip_prefix("cargo run --release -- ")
        .expect("the main job runs the binary");
    let words = shell_words(main_job);
    let args: Vec<&str> = words.iter().map(String::as_str).collect();
    let run = matcalc(&args);
    assert_eq!(run.code, 0, "{main_job}: {}", run.stderr);
    assert!(!run.stdout.trim().is_empty(), "{main_job} prints a result");
}

#[test]
fn readme_documents_every_exit_code_of_help() {
    let readme = include_str!("../README.md");
    let help = matcalc(&["--help"]).stdout;
    let codes = help
        .split("Exit codes:")
        .nth(1)
        .expect("help lists exit codes");
    let mut count = 0;
    for line in codes.lines().filter(|l| !l.trim().is_empty()) {
        let code = line.split_whitespace().next().unwrap();
        assert!(
            readme.contains(&format!("\n| {code} | ")),
            "exit code {code}"
        );
        count += 1;
    }
    assert_eq!(count, 5);
}

/// A transposed name that defaulted to a scalar is answered, with a warning
/// on standard error that says how to declare a bias vector; declared, it
/// is not warned about. Warnings never go to standard output.
#[test]
fn transposed_default_scalar_warns_on_stderr() {
    for format in ["text", "json"] {
        let run = matcalc(&["derive", "L(X*W + b')", "--wrt", "X", "--format", format]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(
            run.stderr.starts_with("warning: `b` is a scalar"),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains("--let 'b: m'"), "{}", run.stderr);
        assert!(!run.stdout.contains("warning"), "{}", run.stdout);
    }
    let run = matcalc(&["derive", "L(X*W + b')", "--wrt", "X", "--let", "b: m"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stderr, "");
}

#[test]
fn zero_and_small_hessians_are_confirmed_by_derive_check() {
    for (expr, wrt) in [("sum(x)", "x"), ("tr(A)", "A"), ("1000 + sum(x)", "x")] {
        let run = matcalc(&["derive", expr, "--wrt", wrt, "--order", "2", "--check"]);
        assert_eq!(run.code, 0, "{expr}: {}{}", run.stdout, run.stderr);
        assert!(run.stdout.contains("confirmed"), "{}", run.stdout);
    }
}

#[test]
fn a_tolerance_that_is_not_finite_and_positive_is_a_usage_error() {
    for tol in ["nan", "inf", "1e400", "0", "-1", "abc"] {
        let flag = format!("--tol={tol}");
        let run = matcalc(&["check", "x'*x", "--wrt", "x", "--claim", "x", &flag]);
        assert_eq!(run.code, 2, "--tol {tol}: {}{}", run.stdout, run.stderr);
        assert!(run.stderr.contains(tol), "{}", run.stderr);
    }
    let run = matcalc(&[
        "check", "x'*x", "--wrt", "x", "--claim", "2*x", "--tol", "1e-3",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn a_refutation_names_the_loss_only_when_there_is_one() {
    let run = matcalc(&["check", "x'*x", "--wrt", "x", "--claim", "x"]);
    assert_eq!(run.code, 3);
    assert!(!run.stdout.contains("None"), "{}", run.stdout);
    let run = matcalc(&["check", "L(X*W)", "--wrt", "X", "--claim", "2*dL*W'"]);
    assert_eq!(run.code, 3);
    assert!(run.stdout.contains("with L1"), "{}", run.stdout);
    assert!(!run.stdout.contains("None"), "{}", run.stdout);
}

#[test]
fn options_that_do_nothing_are_warned_about() {
    let cases = [
        (
            vec![
                "derive",
                "--cases",
                "tests/corpus/cases.jsonl",
                "--domain",
                "x: positive",
            ],
            "--domain",
        ),
        (
            vec!["derive", "x'*x", "--wrt", "x", "--timings"],
            "--timings",
        ),
        (
            vec!["eval", "x'*x", "--at", "x=[1,2]", "--domain", "x: positive"],
            "--domain",
        ),
    ];
    for (args, option) in cases {
        let run = matcalc(&args);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.starts_with("warning: ") && run.stderr.contains(option),
            "{args:?}: {}",
            run.stderr
        );
    }
    let used = matcalc(&[
        "derive",
        "x'*x",
        "--wrt",
        "x",
        "--check",
        "--domain",
        "x: positive",
    ]);
    assert_eq!(used.code, 0);
    assert!(used.stderr.is_empty(), "{}", used.stderr);
    // Without --check the domains are the simplifier's facts, and the
    // output names the one it used.
    let assumed = matcalc(&[
        "derive",
        "-y'*log(softmax(x))",
        "--wrt",
        "x",
        "--domain",
        "y: onehot",
    ]);
    assert_eq!(assumed.code, 0, "{}", assumed.stderr);
    assert!(assumed.stderr.is_empty(), "{}", assumed.stderr);
    assert!(
        assumed.stdout.contains("softmax(x) − y")
            && assumed.stdout.contains("using: the rows of y sum to 1"),
        "{}",
        assumed.stdout
    );
}

#[test]
fn an_index_form_given_to_derive_is_an_input_error() {
    let run = matcalc(&["derive", "G[i] = x[i]", "--wrt", "x"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("index-notation"), "{}", run.stderr);
    assert!(run.stderr.contains("matrix form"), "{}", run.stderr);
    let run = matcalc(&["derive", "G[i] = x[i]", "--wrt", "x", "--format", "json"]);
    assert_eq!(json(&run.stdout)["error"]["kind"], "unsupported");
}

#[test]
fn a_concrete_proof_over_its_limit_keeps_the_symbolic_result() {
    // Too many entries: refused before anything is built.
    for sizes in ["X: 40x40, W: 40x40", "X: 1000000x1, W: 1x1"] {
        let run = matcalc(&["derive", "L(X*W + B)", "--wrt", "X", "--concrete", sizes]);
        assert_eq!(run.code, 1, "{sizes}: {}", run.stderr);
        assert!(run.stdout.contains("∂L/∂X = ∂L/∂Y·Wᵀ"), "{}", run.stdout);
        assert!(run.stderr.contains("concrete proof for"), "{}", run.stderr);
        assert!(run.stderr.contains("X: "), "{}", run.stderr);
        let run = matcalc(&[
            "derive",
            "L(X*W + B)",
            "--wrt",
            "X",
            "--concrete",
            sizes,
            "--format",
            "json",
        ]);
        let doc = json(&run.stdout);
        assert_eq!(doc["error"]["kind"], "limit");
        assert_eq!(doc["derivatives"][0]["result"], "dL*W'");
    }
    // Within the entry limit, the exact expansion's term budget.
    let run = matcalc(&[
        "derive",
        "tr(X*X*X*X*X*X)",
        "--wrt",
        "X",
        "--concrete",
        "X: 10x10",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stdout.contains("∂f/∂X"), "{}", run.stdout);
    assert!(run.stderr.contains("term budget"), "{}", run.stderr);
    assert!(run.stderr.contains("X: 10×10"), "{}", run.stderr);
}

#[test]
fn an_expression_with_too_many_tokens_is_refused_before_parsing() {
    let long = format!("x{}", " + x".repeat(1_100_000));
    let run = matcalc_with_stdin(&["parse", "-"], long.as_bytes());
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("tokens"), "{}", run.stderr);
    let run = matcalc_with_stdin(&["parse", "-", "--format", "json"], long.as_bytes());
    assert_eq!(json(&run.stdout)["error"]["kind"], "limit");
    // White space costs nothing.
    let padded = format!("{}x", " ".repeat(1_000_000));
    assert_eq!(
        matcalc_with_stdin(&["parse", "-"], padded.as_bytes()).code,
        0
    );
}

/// A `--cases` file line over the token limit is refused before it is
/// parsed, naming the line, for `derive` and `check` alike.
#[test]
fn a_cases_line_over_the_token_limit_is_refused_before_parsing() {
    let path = std::env::temp_dir().join(format!("matcalc-cases-{}.jsonl", std::process::id()));
    let expr = vec!["x"; 1_300_000].join("+");
    let huge = format!(
        r#"{{"id": "huge", "expr": "{expr}", "vars": {{"x": [2]}}, "wrt": "x", "order": 1, "expected": "x"}}"#
    );
    std::fs::write(&path, format!("{{\"id\": \"a\"}}\n{huge}\n")).expect("writes the file");
    let file = path.to_str().expect("a UTF-8 path");
    for command in ["derive", "check"] {
        let run = matcalc(&[command, "--cases", file]);
        assert_eq!(run.code, 1, "{command}: {}", run.stderr);
        assert!(
            run.stderr.contains("line 2 of"),
            "{command}: {}",
            run.stderr
        );
        assert!(run.stderr.contains("tokens"), "{command}: {}", run.stderr);
    }
    std::fs::remove_file(&path).ok();
}

/// The README's console examples (`$ matcalc …` followed by what it
/// prints) are what the binary prints today, so they cannot go stale: the
/// lines shown must appear in the output in order, a `…` line standing for
/// lines left out. A trailing `# exit N` comment gives the exit code.
#[test]
fn readme_console_examples_are_what_matcalc_prints() {
    let readme = include_str!("../README.md");
    let mut examples = 0;
    for block in readme.split("```").skip(1).step_by(2) {
        let lines: Vec<&str> = block.lines().skip(1).collect();
        let starts: Vec<usize> = (0..lines.len())
            .filter(|&i| lines[i].starts_with("$ matcalc "))
            .collect();
        for (n, &start) in starts.iter().enumerate() {
            let end = starts.get(n + 1).copied().unwrap_or(lines.len());
            let (command, code) = match lines[start].split_once("  # exit ") {
                Some((command, code)) => (command.trim_end(), code.trim().parse().unwrap()),
                None => (lines[start], 0),
            };
            let words = shell_words(&command["$ matcalc ".len()..]);
            let args: Vec<&str> = words.iter().map(String::as_str).collect();
            let run = matcalc(&args);
            assert_eq!(run.code, code, "{command}: {}", run.stderr);
            let printed: Vec<&str> = run.stdout.lines().collect();
            let mut at = 0;
            for shown in lines[start + 1..end].split(|l| l.trim() == "…") {
                let Some(&first) = shown.first() else {
                    continue;
                };
                let found = (at..printed.len())
                    .find(|&i| printed[i..].starts_with(shown))
                    .unwrap_or_else(|| {
                        panic!("{command}: the README shows lines from {first:?} that it does not print:\n{}", run.stdout)
                    });
                at = found + shown.len();
            }
            examples += 1;
        }
    }
    assert!(examples >= 5, "only {examples} console examples found");
}
