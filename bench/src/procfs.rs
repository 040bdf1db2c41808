//! Readings from `/proc`: CPU seconds (of one process, of several together, of the whole
//! machine), time spent waiting for a core, resident memory, open sockets and file-descriptor
//! limit of a process, and the kernel's slab and TCP buffer memory.

use std::fs;

/// User + system CPU seconds a process has used (`/proc/<pid>/stat`, in clock ticks of 1/100 s
/// on Linux).
pub fn cpu_seconds(pid: Option<u32>) -> Option<f64> {
    let stat = fs::read_to_string(proc_path(pid, "stat")).ok()?;
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// The CPU seconds of several processes together (the nodes of a cluster); `None` when there
/// are none or one of them cannot be read.
pub fn cpu_seconds_of(pids: &[u32]) -> Option<f64> {
    if pids.is_empty() {
        return None;
    }
    pids.iter().map(|&pid| cpu_seconds(Some(pid))).sum()
}

/// CPU seconds the whole machine has been busy (`/proc/stat`: user, nice, system, irq,
/// softirq and steal of every core): less the processes under test, what else ran meanwhile.
pub fn machine_busy_seconds() -> Option<f64> {
    let stat = fs::read_to_string("/proc/stat").ok()?;
    let cpu = stat.lines().find(|line| line.starts_with("cpu "))?;
    let ticks: Vec<f64> = cpu
        .split_whitespace()
        .skip(1)
        .map(|field| field.parse().unwrap_or(0.0))
        .collect();
    // user nice system idle iowait irq softirq steal
    let busy = [0, 1, 2, 5, 6, 7]
        .iter()
        .filter_map(|&i| ticks.get(i))
        .sum::<f64>();
    Some(busy / 100.0)
}

/// Seconds the threads of a process have spent runnable but waiting for a core
/// (`/proc/<pid>/task/*/schedstat`, the second field, in ns): time lost to whatever else runs
/// on its cores — with two nodes pinned to one core, to the other node. Threads that exited
/// no longer count.
pub fn run_queue_wait_seconds(pid: u32) -> Option<f64> {
    let tasks = fs::read_dir(proc_path(Some(pid), "task")).ok()?;
    let nanos: u64 = tasks
        .filter_map(Result::ok)
        .filter_map(|task| fs::read_to_string(task.path().join("schedstat")).ok())
        .filter_map(|stat| stat.split_whitespace().nth(1)?.parse::<u64>().ok())
        .sum();
    Some(nanos as f64 / 1e9)
}

/// Resident set size in KiB (`VmRSS`).
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = fs::read_to_string(proc_path(Some(pid), "status")).ok()?;
    meminfo_field(&status, "VmRSS:")
}

/// The kernel's slab memory in KiB (`/proc/meminfo` `Slab`): socket, inode and file objects
/// and other kernel structures a connection costs.
pub fn slab_kib() -> Option<u64> {
    meminfo_field(&fs::read_to_string("/proc/meminfo").ok()?, "Slab:")
}

/// Pages the kernel holds in TCP socket buffers (`/proc/net/sockstat`, `TCP: … mem N`).
pub fn tcp_mem_pages() -> Option<u64> {
    let sockstat = fs::read_to_string("/proc/net/sockstat").ok()?;
    let tcp = sockstat.lines().find(|line| line.starts_with("TCP:"))?;
    let mut words = tcp.split_whitespace();
    words.find(|word| *word == "mem")?;
    words.next()?.parse().ok()
}

/// How many of a process's file descriptors are sockets: the connections it really holds.
pub fn socket_fds(pid: u32) -> Option<usize> {
    let entries = fs::read_dir(proc_path(Some(pid), "fd")).ok()?;
    Some(
        entries
            .filter_map(Result::ok)
            .filter_map(|entry| fs::read_link(entry.path()).ok())
            .filter(|target| target.to_string_lossy().starts_with("socket:"))
            .count(),
    )
}

/// The soft limit on open files of a process (`Max open files` in `/proc/<pid>/limits`).
pub fn open_files_limit(pid: Option<u32>) -> Option<u64> {
    let limits = fs::read_to_string(proc_path(pid, "limits")).ok()?;
    let line = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))?;
    line.trim_start_matches("Max open files")
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn proc_path(pid: Option<u32>, file: &str) -> String {
    pid.map_or(format!("/proc/self/{file}"), |p| {
        format!("/proc/{p}/{file}")
    })
}

fn meminfo_field(text: &str, name: &str) -> Option<u64> {
    text.lines()
        .find(|line| line.starts_with(name))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        assert!(rss_kib(std::process::id()).is_some_and(|kib| kib > 0));
        assert!(open_files_limit(None).is_some_and(|n| n > 0));
        assert!(cpu_seconds(None).is_some());
        let me = std::process::id();
        assert!(cpu_seconds_of(&[me, me]).is_some());
        assert!(cpu_seconds_of(&[]).is_none());
        assert!(machine_busy_seconds().is_some_and(|s| s > 0.0));
        assert!(run_queue_wait_seconds(me).is_some());
        assert!(slab_kib().is_some());
        assert!(tcp_mem_pages().is_some());
    }
}
