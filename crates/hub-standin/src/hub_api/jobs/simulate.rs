//! What a job "does" in the stand-in: its command is read as a tiny script and turned into a
//! timeline (log lines at offsets, then an outcome), so tests get logs that arrive over time
//! and every end state without running anything.
//!
//! Understood, in `sh -c` scripts (split on newlines, `;` and `&&`) or a plain argv:
//! `echo …` (a line, `$VAR`/`${VAR}` expanded from the job's environment and secrets),
//! `sleep N` (seconds, fractions allowed), `exit N`, `true`, `false`, any argument holding
//! `print('…')` (the Python one-liners of the docs), and the base64-piped inline scripts of
//! `uv` jobs (`echo "<b64>" | base64 -d | uv run -`), whose lines `print(…)`,
//! `time.sleep(N)`, `sys.exit(N)` and `raise …` are read the same way. Anything else runs
//! silently. A job's `timeoutSeconds` ends it with an error when the timeline is longer.

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine;

/// Time between the job's creation and its start (the SCHEDULING stage).
pub const QUEUED: Duration = Duration::from_millis(40);
/// Time one output line takes, so lines arrive one after another.
const LINE: Duration = Duration::from_millis(15);
/// Longest `sleep` honoured (keeps a mistyped test from hanging for hours).
const MAX_SLEEP: f64 = 600.0;

/// How a job ends when nothing stops it.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Completed,
    Error(String),
}

/// A job's timeline, offsets from its creation.
#[derive(Debug, Clone)]
pub struct Plan {
    pub lines: Vec<(Duration, String)>,
    pub end: Duration,
    pub outcome: Outcome,
}

/// The timeline of `command` with `vars` (environment and secrets) and an optional timeout.
pub fn plan(command: &[String], vars: &HashMap<String, String>, timeout: Option<Duration>) -> Plan {
    let mut p = Builder { at: QUEUED, lines: Vec::new(), vars, done: None };
    match shell_script(command) {
        Some(script) => {
            for stmt in statements(script) {
                if p.done.is_some() {
                    break;
                }
                p.statement(&stmt);
            }
        }
        None => p.words(command),
    }
    p.at += LINE;
    let (mut end, mut outcome) = (p.at, p.done.unwrap_or(Outcome::Completed));
    let mut lines = p.lines;
    if let Some(limit) = timeout.map(|t| QUEUED + t) {
        if end > limit {
            lines.retain(|(at, _)| *at <= limit);
            end = limit;
            outcome = Outcome::Error(format!("Job timed out after {}s", (limit - QUEUED).as_secs_f64()));
        }
    }
    Plan { lines, end, outcome }
}

struct Builder<'a> {
    at: Duration,
    lines: Vec<(Duration, String)>,
    vars: &'a HashMap<String, String>,
    done: Option<Outcome>,
}

impl Builder<'_> {
    fn emit(&mut self, line: String) {
        self.at += LINE;
        self.lines.push((self.at, line));
    }

    fn sleep(&mut self, secs: &str) {
        if let Ok(s) = secs.trim().parse::<f64>() {
            self.at += Duration::from_secs_f64(s.clamp(0.0, MAX_SLEEP));
        }
    }

    fn exit(&mut self, code: &str) {
        let code = code.trim().parse::<i64>().unwrap_or(1);
        self.done = Some(if code == 0 { Outcome::Completed } else { Outcome::Error(format!("exit code {code}")) });
    }

    fn statement(&mut self, stmt: &str) {
        if stmt.contains("base64 -d") {
            if let Some(script) = piped_base64(stmt) {
                return self.python(&script);
            }
        }
        self.words(&split_words(stmt));
    }

    fn words(&mut self, words: &[String]) {
        let Some(first) = words.first() else { return };
        match first.as_str() {
            "echo" => {
                let line = words[1..].join(" ");
                self.emit(expand(&line, self.vars));
            }
            "sleep" => self.sleep(words.get(1).map(String::as_str).unwrap_or("0")),
            "exit" => self.exit(words.get(1).map(String::as_str).unwrap_or("0")),
            "false" => self.exit("1"),
            _ => {
                for w in words {
                    if w.contains("print(") || w.contains("sys.exit(") || w.contains("time.sleep(") {
                        self.python(&w.replace(';', "\n"));
                    }
                }
            }
        }
    }

    fn python(&mut self, script: &str) {
        for line in script.lines().map(str::trim) {
            if self.done.is_some() {
                return;
            }
            if let Some(arg) = call_arg(line, "print(") {
                self.emit(unquote(arg));
            } else if let Some(arg) = call_arg(line, "time.sleep(") {
                self.sleep(arg);
            } else if let Some(arg) = call_arg(line, "sys.exit(") {
                self.exit(arg);
            } else if let Some(what) = line.strip_prefix("raise ") {
                self.emit(format!("Traceback (most recent call last):\n{what}"));
                self.done = Some(Outcome::Error("exit code 1".into()));
            }
        }
    }
}

/// The script of `sh -c SCRIPT` / `bash -lc SCRIPT`.
fn shell_script(command: &[String]) -> Option<&str> {
    let shell = command.first()?.rsplit('/').next()?;
    if !matches!(shell, "sh" | "bash" | "zsh") {
        return None;
    }
    let flag = command.iter().position(|a| a.starts_with('-') && a.ends_with('c'))?;
    command.get(flag + 1).map(String::as_str)
}

/// Statements of a script: newlines, `;` and `&&` separate them (outside quotes).
fn statements(script: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut chars = script.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => {
                quote = None;
                cur.push(c);
            }
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                cur.push(c);
            }
            (None, '\n' | ';') => out.push(std::mem::take(&mut cur)),
            (None, '&') if chars.peek() == Some(&'&') => {
                chars.next();
                out.push(std::mem::take(&mut cur));
            }
            (None, c) => cur.push(c),
        }
    }
    out.push(cur);
    out.into_iter().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect()
}

/// Words of a statement, quotes removed (no globbing, no escapes beyond quotes).
fn split_words(stmt: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut in_word = false;
    for c in stmt.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    out
}

/// The decoded payload of `echo "<b64>" | base64 -d | …`.
fn piped_base64(stmt: &str) -> Option<String> {
    let first = stmt.split('|').next()?;
    let words = split_words(first);
    let payload = words.get(1)?;
    let bytes = base64::engine::general_purpose::STANDARD.decode(payload.trim()).ok()?;
    String::from_utf8(bytes).ok()
}

/// The argument text of `name(…)` in `line` (up to the last closing parenthesis).
fn call_arg<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let start = line.find(name)? + name.len();
    let end = line.rfind(')')?;
    (end >= start).then(|| &line[start..end])
}

/// A Python literal's text: quotes (and an f-prefix) removed; anything else as written.
fn unquote(arg: &str) -> String {
    let a = arg.trim();
    let a = a.strip_prefix('f').filter(|r| r.starts_with(['\'', '"'])).unwrap_or(a);
    for q in ['"', '\''] {
        if let Some(inner) = a.strip_prefix(q).and_then(|r| r.strip_suffix(q)) {
            return inner.to_owned();
        }
    }
    a.to_owned()
}

/// `$NAME` and `${NAME}` replaced by their values (unknown names by nothing, as a shell does).
fn expand(text: &str, vars: &HashMap<String, String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let (name, used) = if let Some(inner) = after.strip_prefix('{') {
            match inner.find('}') {
                Some(end) => (&inner[..end], end + 2),
                None => ("", 0),
            }
        } else {
            let n = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(after.len());
            (&after[..n], n)
        };
        if name.is_empty() {
            out.push('$');
            rest = after;
        } else {
            out.push_str(vars.get(name).map(String::as_str).unwrap_or(""));
            rest = &after[used..];
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn scripts_become_timelines() {
        let vars: HashMap<String, String> = [("WHO".to_owned(), "world".to_owned())].into();
        let p = plan(&argv(&["sh", "-c", "echo hello $WHO; sleep 0.5 && echo 'b c'\nexit 3"]), &vars, None);
        let lines: Vec<&str> = p.lines.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(lines, ["hello world", "b c"]);
        assert!(p.lines[1].0 >= p.lines[0].0 + Duration::from_millis(500));
        assert_eq!(p.outcome, Outcome::Error("exit code 3".into()));

        let p = plan(&argv(&["python", "-c", "print('Hello from HF Jobs!')"]), &vars, None);
        assert_eq!(p.lines[0].1, "Hello from HF Jobs!");
        assert_eq!(p.outcome, Outcome::Completed);

        let script = base64::engine::general_purpose::STANDARD.encode("import time\nprint(42)\ntime.sleep(2)\n");
        let cmd = format!("echo \"{script}\" | base64 -d | uv run -");
        let p = plan(&argv(&["/bin/sh", "-lc", &cmd]), &vars, Some(Duration::from_secs(1)));
        assert_eq!(p.lines.len(), 1);
        assert_eq!(p.lines[0].1, "42");
        assert!(matches!(p.outcome, Outcome::Error(ref m) if m.contains("timed out")));
    }
}
