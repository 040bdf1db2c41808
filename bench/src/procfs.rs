//! Readings from `/proc`: CPU seconds, resident memory, open sockets and file-descriptor limit
//! of a process, and the kernel's slab and TCP buffer memory.

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
        assert!(slab_kib().is_some());
        assert!(tcp_mem_pages().is_some());
    }
}
