//! Glob patterns for file and name filters (`*`, `**`, `?`, `[...]`, `{a,b}`), matched the
//! way the Hub's own tooling does, dot-files included.

/// Glob matching with `*` (within a segment), `**` (any depth), `?`, `[...]` classes and
/// `{a,b}` alternatives; dot-files match like any other name.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    for alt in expand_braces(pattern) {
        let p: Vec<char> = alt.chars().collect();
        let t: Vec<char> = text.chars().collect();
        if glob_at(&p, &t) {
            return true;
        }
    }
    false
}

fn expand_braces(p: &str) -> Vec<String> {
    let Some(open) = p.find('{') else { return vec![p.to_owned()] };
    let mut depth = 0;
    let mut close = None;
    for (i, c) in p[open..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(open + i);
                    break;
                }
            }
            _ => {}
        }
    }
    let Some(close) = close else { return vec![p.to_owned()] };
    let (pre, body, post) = (&p[..open], &p[open + 1..close], &p[close + 1..]);
    let mut parts = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    for (i, c) in body.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&body[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&body[start..]);
    let mut out = Vec::new();
    for part in parts {
        for rest in expand_braces(&format!("{part}{post}")) {
            out.push(format!("{pre}{rest}"));
        }
    }
    out.truncate(64);
    out
}

fn glob_at(p: &[char], t: &[char]) -> bool {
    if p.is_empty() {
        return t.is_empty();
    }
    if p.len() >= 2 && p[0] == '*' && p[1] == '*' {
        // `**/` matches zero or more whole segments; a bare `**` matches anything.
        let rest = if p.get(2) == Some(&'/') { &p[3..] } else { &p[2..] };
        if glob_at(rest, t) {
            return true;
        }
        for i in 0..t.len() {
            if (p.get(2) != Some(&'/') || t[i] == '/') && glob_at(rest, &t[i + 1..]) {
                return true;
            }
        }
        return false;
    }
    match p[0] {
        '*' => {
            for i in 0..=t.len() {
                if glob_at(&p[1..], &t[i..]) {
                    return true;
                }
                if i < t.len() && t[i] == '/' {
                    break;
                }
            }
            false
        }
        '?' => !t.is_empty() && t[0] != '/' && glob_at(&p[1..], &t[1..]),
        '[' => {
            let Some(end) = p.iter().skip(1).position(|&c| c == ']').map(|i| i + 1) else {
                return !t.is_empty() && t[0] == '[' && glob_at(&p[1..], &t[1..]);
            };
            if t.is_empty() {
                return false;
            }
            let class = &p[1..end];
            let (negate, class) = match class.first() {
                Some('!') | Some('^') => (true, &class[1..]),
                _ => (false, class),
            };
            let mut hit = false;
            let mut i = 0;
            while i < class.len() {
                if i + 2 < class.len() && class[i + 1] == '-' {
                    if class[i] <= t[0] && t[0] <= class[i + 2] {
                        hit = true;
                    }
                    i += 3;
                } else {
                    if class[i] == t[0] {
                        hit = true;
                    }
                    i += 1;
                }
            }
            hit != negate && glob_at(&p[end + 1..], &t[1..])
        }
        '\\' if p.len() > 1 => !t.is_empty() && t[0] == p[1] && glob_at(&p[2..], &t[1..]),
        c => !t.is_empty() && t[0] == c && glob_at(&p[1..], &t[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("*.json", "config.json"));
        assert!(!glob_match("*.json", "a/config.json"));
        assert!(glob_match("**/*.json", "a/b/config.json"));
        assert!(glob_match("**/*.json", "config.json"));
        assert!(glob_match("*.{json,md}", "README.md"));
        assert!(glob_match("model-0000[1-2]-*", "model-00001-of-00004.safetensors"));
        assert!(glob_match("**", "x/y"));
        assert!(glob_match(".git*", ".gitattributes"));
        assert!(!glob_match("?", "ab"));
        assert!(glob_match("*term*", "a-term-b"));
    }
}
