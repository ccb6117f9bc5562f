//! CPU time of the processes under test, from Linux's `/proc`: what a
//! phase cost each of them, whatever else the machine was running.

/// Clock ticks per second of `/proc/*/stat`'s times.
#[allow(unsafe_code)]
fn ticks_per_second() -> f64 {
    // SAFETY: sysconf reads a constant of the system.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as f64
    } else {
        100.0
    }
}

/// A process's parent, its own CPU ticks (all threads, user and system)
/// and those of its children it has reaped.
fn stat(pid: u32) -> Option<(u32, u64, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&text)
}

/// Parses one `/proc/PID/stat` line (the command name may hold spaces and
/// parentheses, so fields are counted after its last `)`).
pub fn parse_stat(text: &str) -> Option<(u32, u64, u64)> {
    let rest = &text[text.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14).
    let n = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok());
    Some((n(1)? as u32, n(11)? + n(12)?, n(13)? + n(14)?))
}

/// Seconds of CPU a process has used, threads included.
pub fn seconds(pid: u32) -> Option<f64> {
    stat(pid).map(|(_, own, _)| own as f64 / ticks_per_second())
}

/// Seconds of CPU of a process and all its children, living or reaped
/// (PostgreSQL: the postmaster and its backends).
pub fn tree_seconds(root: u32) -> Option<f64> {
    let (_, own, reaped) = stat(root)?;
    let mut total = own + reaped;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        if let Some((ppid, own, _)) = stat(pid) {
            if ppid == root {
                total += own;
            }
        }
    }
    Some(total as f64 / ticks_per_second())
}

/// The parent of a process (a backend's parent is the postmaster).
pub fn parent(pid: u32) -> Option<u32> {
    stat(pid).map(|(ppid, _, _)| ppid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stat_line_gives_parent_and_ticks_even_with_odd_names() {
        let line = "4242 (fan too) (x)) S 17 4242 4242 0 -1 4194560 100 0 0 0 250 50 7 3 20 0 8 0 1000 0 0";
        assert_eq!(parse_stat(line), Some((17, 300, 10)));
        assert_eq!(parse_stat("garbage"), None);
        assert!(seconds(std::process::id()).is_some(), "this process's own line");
    }
}
