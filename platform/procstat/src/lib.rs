//! CPU time and memory of the processes under test, from Linux's `/proc`:
//! what a benchmark phase cost each of them, whatever else the machine was
//! running. Every function answers `None` where there is no `/proc` (or
//! no such process).

/// Clock ticks per second of `/proc/*/stat`'s times.
#[allow(unsafe_code)]
pub fn ticks_per_second() -> f64 {
    // SAFETY: sysconf reads a constant of the system.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as f64
    } else {
        100.0
    }
}

/// What one `/proc/PID/stat` line says of a process's CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    /// The parent's pid.
    pub ppid: u32,
    /// The process's own CPU ticks, all threads, user and system.
    pub own_ticks: u64,
    /// The ticks of the children it has reaped.
    pub reaped_ticks: u64,
}

/// Parses one `/proc/PID/stat` line (the command name may hold spaces and
/// parentheses, so fields are counted after its last `)`).
pub fn parse_stat(text: &str) -> Option<Stat> {
    let rest = &text[text.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14).
    let n = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok());
    Some(Stat { ppid: u32::try_from(n(1)?).ok()?, own_ticks: n(11)? + n(12)?, reaped_ticks: n(13)? + n(14)? })
}

/// The `/proc/PID/stat` of a process.
pub fn stat(pid: u32) -> Option<Stat> {
    parse_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// Seconds of CPU a process has used, threads included.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    stat(pid).map(|s| s.own_ticks as f64 / ticks_per_second())
}

/// Seconds of CPU of a process and its children, living or reaped
/// (PostgreSQL: the postmaster and its backends).
pub fn tree_cpu_seconds(root: u32) -> Option<f64> {
    let s = stat(root)?;
    let children: u64 = children(root)?.map(|(_, child)| child.own_ticks).sum();
    Some((s.own_ticks + s.reaped_ticks + children) as f64 / ticks_per_second())
}

/// The living children of a process, each with its `stat`.
fn children(root: u32) -> Option<impl Iterator<Item = (u32, Stat)>> {
    Some(std::fs::read_dir("/proc").ok()?.flatten().filter_map(move |entry| {
        let pid = entry.file_name().to_str()?.parse::<u32>().ok()?;
        stat(pid).filter(|c| c.ppid == root).map(|c| (pid, c))
    }))
}

/// The parent of a process (a PostgreSQL backend's is the postmaster).
pub fn parent(pid: u32) -> Option<u32> {
    stat(pid).map(|s| s.ppid)
}

/// Parses the resident set size, in KiB, from a `/proc/PID/status` text.
pub fn parse_rss_kib(status: &str) -> Option<u64> {
    status.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse().ok())
}

/// A process's resident set size, in KiB.
pub fn rss_kib(pid: u32) -> Option<u64> {
    parse_rss_kib(&std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?)
}

/// Parses a thread's `/proc/PID/task/TID/schedstat`: nanoseconds on a CPU
/// and nanoseconds runnable but waiting for one (the run queue).
pub fn parse_schedstat(text: &str) -> Option<(u64, u64)> {
    let mut f = text.split_whitespace().map(|v| v.parse::<u64>().ok());
    Some((f.next()??, f.next()??))
}

/// Seconds the threads of a process (living ones) have waited, runnable,
/// for a CPU: on a machine with more runnable threads than CPUs, the part
/// of a request's time spent in no one's code.
pub fn run_queue_wait_seconds(pid: u32) -> Option<f64> {
    let mut waited = 0u64;
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).ok()?.flatten() {
        if let Some((_, w)) = std::fs::read_to_string(task.path().join("schedstat")).ok().as_deref().and_then(parse_schedstat) {
            waited += w;
        }
    }
    Some(waited as f64 / 1e9)
}

/// [`run_queue_wait_seconds`] of a process and its living children
/// (PostgreSQL: the postmaster and its backends).
pub fn tree_run_queue_wait_seconds(root: u32) -> Option<f64> {
    let own = run_queue_wait_seconds(root)?;
    Some(own + children(root)?.filter_map(|(pid, _)| run_queue_wait_seconds(pid)).sum::<f64>())
}

/// The machine's stolen CPU ticks and its total ticks up to them, from the
/// all-CPU line of `/proc/stat`: on a virtual machine, the time the host
/// ran other guests on our CPUs.
pub fn steal_ticks() -> Option<(u64, u64)> {
    parse_cpu_line(std::fs::read_to_string("/proc/stat").ok()?.lines().next()?)
}

/// `cpu  user nice system idle iowait irq softirq steal guest guest_nice`:
/// (steal, the sum up to steal); guest time is already in user time.
pub fn parse_cpu_line(line: &str) -> Option<(u64, u64)> {
    let mut f = line.split_whitespace();
    if f.next()? != "cpu" {
        return None;
    }
    let v: Vec<u64> = f.take(8).map(|x| x.parse().ok()).collect::<Option<_>>()?;
    if v.len() < 8 {
        return None;
    }
    Some((v[7], v.iter().sum()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_cpu_line_gives_steal_and_the_total_up_to_steal() {
        assert_eq!(super::parse_cpu_line("cpu  100 5 50 800 10 2 3 30 7 0"), Some((30, 1000)));
        assert_eq!(super::parse_cpu_line("cpu0 1 2 3 4 5 6 7 8"), None);
        assert_eq!(super::parse_cpu_line("cpu 1 2 3"), None);
    }

    use super::*;

    #[test]
    fn a_stat_line_gives_parent_and_ticks_even_with_odd_names() {
        let line = "4242 (fan too) (x)) S 17 4242 4242 0 -1 4194560 100 0 0 0 250 50 7 3 20 0 8 0 1000 0 0";
        assert_eq!(parse_stat(line), Some(Stat { ppid: 17, own_ticks: 300, reaped_ticks: 10 }));
        assert_eq!(parse_stat("garbage"), None);
        assert_eq!(parse_stat("1 (short) S 0 1"), None, "too few fields");
    }

    #[test]
    fn a_schedstat_line_gives_time_on_a_cpu_and_time_waiting_for_one() {
        assert_eq!(parse_schedstat("1234567 89012 345\n"), Some((1_234_567, 89_012)));
        assert_eq!(parse_schedstat("1234567"), None);
        assert_eq!(parse_schedstat("x 1 2"), None);
    }

    #[test]
    fn the_resident_size_comes_from_its_line() {
        assert_eq!(parse_rss_kib("Name:\tx\nVmPeak:\t  900 kB\nVmRSS:\t   12345 kB\n"), Some(12345));
        assert_eq!(parse_rss_kib("Name:\tx\n"), None);
    }

    #[test]
    fn this_process_can_be_read() {
        let me = std::process::id();
        assert!(cpu_seconds(me).is_some_and(|s| s >= 0.0));
        assert!(rss_kib(me).is_some_and(|k| k > 0));
        assert!(parent(me).is_some());
        assert!(tree_cpu_seconds(me).is_some_and(|t| t >= cpu_seconds(me).unwrap_or(0.0) - 0.01));
        assert!(run_queue_wait_seconds(me).is_some_and(|w| w >= 0.0));
        assert!(tree_run_queue_wait_seconds(me).is_some_and(|t| t >= run_queue_wait_seconds(me).unwrap_or(0.0) - 0.01));
    }
}
