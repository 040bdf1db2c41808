//! Upload throughput and the server's memory while uploads stream: `uploaders` guests each
//! upload `files` files of `file_mib` MiB to the lobby, all at once; the run reports MiB/s, the
//! latency of each upload (request start to the server's answer), and the server's resident
//! memory before and at its peak. Uploads stream through the server (sealed chunk by chunk
//! into the object store), so the peak should not grow with the bytes uploaded: compare the
//! growth with `uploaders × file_mib`.

use crate::procfs;
use crate::rest;
use serde_json::json;
use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// What an upload run does.
#[derive(clap::Args, Clone, Debug)]
pub struct UploadSpec {
    /// Guests uploading at once.
    #[arg(long, default_value_t = 8)]
    pub uploaders: usize,
    /// Files each guest uploads, one after the other.
    #[arg(long, default_value_t = 4)]
    pub files: usize,
    /// Size of each file in MiB.
    #[arg(long, default_value_t = 5)]
    pub file_mib: usize,
}

/// Runs the uploads; `Ok(false)` when any upload was refused or failed.
pub async fn uploads(
    url: &str,
    server_pid: Option<u32>,
    spec: &UploadSpec,
) -> anyhow::Result<bool> {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() % 100_000)
        .unwrap_or(0);
    let mut tokens = Vec::with_capacity(spec.uploaders);
    for i in 0..spec.uploaders {
        tokens.push(rest::guest(url, &format!("up{stamp}_{i}")).await?);
    }
    let rss = |pid: Option<u32>| pid.and_then(procfs::rss_kib);
    let before = rss(server_pid);
    let peak = Rc::new(Cell::new(before.unwrap_or(0)));
    let done = Rc::new(Cell::new(false));
    let sampler = {
        let (peak, done) = (Rc::clone(&peak), Rc::clone(&done));
        tokio::task::spawn_local(async move {
            while !done.get() {
                if let Some(kib) = rss(server_pid) {
                    peak.set(peak.get().max(kib));
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    let len = spec.file_mib * 1024 * 1024;
    let started = Instant::now();
    let files = spec.files;
    let runs = tokens.into_iter().enumerate().map(|(i, token)| {
        let url = url.to_owned();
        tokio::task::spawn_local(async move {
            let mut results = Vec::new();
            for n in 0..files {
                let began = Instant::now();
                let outcome =
                    rest::upload(&url, &token, "lobby", &format!("bench-{i}-{n}.txt"), len).await;
                results.push((began.elapsed(), outcome.map(|(status, _)| status)));
            }
            results
        })
    });
    let mut latencies = Vec::new();
    let mut failed = 0;
    for run in futures_util::future::join_all(runs).await {
        for (latency, outcome) in run? {
            match outcome {
                Ok(201) => latencies.push(latency),
                Ok(status) => {
                    failed += 1;
                    eprintln!("upload refused: HTTP {status}");
                }
                Err(err) => {
                    failed += 1;
                    eprintln!("upload failed: {err:#}");
                }
            }
        }
    }
    let secs = started.elapsed().as_secs_f64();
    done.set(true);
    sampler.await?;
    latencies.sort();
    let ms = |q: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * q).round() as usize)
            .map(|d| d.as_secs_f64() * 1000.0)
    };
    let total_mib = (latencies.len() * spec.file_mib) as f64;
    println!(
        "{}",
        json!({
            "kind": "uploads",
            "uploaders": spec.uploaders,
            "files": latencies.len(),
            "failed": failed,
            "file_mib": spec.file_mib,
            "secs": secs,
            "mib_per_s": total_mib / secs,
            "p50_ms": ms(0.5),
            "p99_ms": ms(0.99),
            "server_rss_before_kib": before,
            "server_rss_peak_kib": server_pid.map(|_| peak.get()),
            "in_flight_mib": spec.uploaders * spec.file_mib,
        })
    );
    Ok(failed == 0)
}
