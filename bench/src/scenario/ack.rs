//! Send → ack latency of a few senders into a room of N clients: in the lobby (validated and
//! fanned out, not stored) or in a persistent room (acked only after the message is stored —
//! the persisted send path). A persistent room needs registered accounts, which the run
//! creates through the REST API first.

use super::{delta, guests, latency_ms, start_fleet, Setup, LOBBY};
use crate::fleet::Plan;
use crate::procfs;
use crate::rest;
use crate::wire::{Login, Target};
use serde_json::json;
use std::time::Duration;

/// `rate` messages/s for `secs` seconds from `setup.senders` clients, each asking for an ack.
pub async fn ack(setup: &Setup, rate: f64, secs: f64) -> anyhow::Result<()> {
    let persisted = setup.room != LOBBY;
    let logins = if persisted {
        anyhow::ensure!(
            matches!(setup.target, Target::ParlorNative | Target::ParlorSocketio),
            "only Parlor has persistent rooms"
        );
        eprintln!("   registering {} accounts", setup.clients);
        let tokens = rest::accounts(setup.url(), &setup.nick_prefix, setup.clients).await?;
        rest::create_room(setup.url(), &tokens[0], &setup.room).await?;
        tokens.into_iter().map(Login::Token).collect()
    } else {
        guests(setup, 0)
    };
    let fleet = start_fleet(setup, &logins).await?;
    let receivers = fleet.open() as u64;
    let cpu = procfs::cpu_seconds_of(&setup.server_pids);
    let start_us = fleet.now_us() + 20_000;
    let end_us = start_us + (secs * 1e6) as u64;
    fleet.start_step(Plan {
        step: fleet.next_step(),
        sends_per_s: rate,
        senders: u32::try_from(setup.senders).unwrap_or(u32::MAX),
        start_us,
        end_us,
        with_ack: true,
    });
    tokio::time::sleep(Duration::from_micros(end_us - start_us)).await;
    let deadline = fleet.now_us() + 5_000_000;
    while (fleet.ack_latency_us.borrow().len() < fleet.sent.get()
        || fleet.stats.borrow().delivered < fleet.sent.get() * receivers)
        && fleet.now_us() < deadline
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    fleet
        .wait_quiet(Duration::from_millis(100), Duration::from_secs(5))
        .await;
    let server_cpu = delta(procfs::cpu_seconds_of(&setup.server_pids), cpu);
    let acks = fleet.ack_latency_us.borrow();
    let stats = fleet.stats.borrow();
    let sent = fleet.sent.get();
    let result = json!({
        "kind": "ack_latency",
        "target": setup.target.label(),
        "label": setup.label,
        "room": setup.room,
        "persisted": persisted,
        "clients": receivers,
        "senders": setup.senders,
        "rate": rate,
        "secs": secs,
        "sent": sent,
        "acked": acks.len(),
        "latency_ms": latency_ms(&acks),
        "delivered": stats.delivered,
        "lost": (sent * receivers).saturating_sub(stats.delivered),
        "delivery_latency_ms": latency_ms(&stats.latency_us),
        "server_cpu_s": server_cpu,
        "server_cpu_ms_per_message": server_cpu.map(|cpu| cpu * 1e3 / sent.max(1) as f64),
    });
    eprintln!(
        "   {} of {sent} acked, p50 {} ms, p99 {} ms",
        acks.len(),
        result["latency_ms"]["p50"],
        result["latency_ms"]["p99"]
    );
    println!("{result}");
    fleet.shut_down();
    Ok(())
}
