//! Readings from `/proc`: CPU seconds and resident memory of a process, and the kernel's slab.

use std::fs;

/// User + system CPU seconds a process has used (`/proc/<pid>/stat`, in clock ticks of 1/100 s
/// on Linux).
pub fn cpu_seconds(pid: Option<u32>) -> Option<f64> {
    let path = pid.map_or("/proc/self/stat".to_owned(), |p| format!("/proc/{p}/stat"));
    let stat = fs::read_to_string(path).ok()?;
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// Resident set size in KiB (`VmRSS`).
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    meminfo_field(&status, "VmRSS:")
}

/// The kernel's slab memory in KiB (`/proc/meminfo` `Slab`): socket buffers and other kernel
/// objects a connection costs.
pub fn slab_kib() -> Option<u64> {
    meminfo_field(&fs::read_to_string("/proc/meminfo").ok()?, "Slab:")
}

fn meminfo_field(text: &str, name: &str) -> Option<u64> {
    text.lines()
        .find(|line| line.starts_with(name))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}
