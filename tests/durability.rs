//! Storage faults from outside: the data directory on a small filesystem that fills up and is
//! then freed. Nothing is acknowledged that is not stored, the server recovers without a
//! restart, and `/health` says what is true throughout. Also: a `DATABASE_URL` in its
//! documented form on a fresh install, retention pruning by upkeep, and a data directory that
//! has become read-only (a bind mount remounted read-only: root ignores file modes).
//!
//! The full disk is real: a tmpfs of a few megabytes mounted for the test (the suite runs as
//! root; `mount` failing is reported as such, not skipped).

mod common;

use common::protocol::{Health, History, Posted};
use common::{eventually, spawn_app_with, unique_name, TestApp, PATIENCE};
use serde_json::json;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// A tmpfs of `size` mounted on a temporary directory; lazily unmounted on drop.
struct SmallDisk {
    mount: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> SmallDisk {
        let mount = tempfile::tempdir().expect("a mount point");
        let status = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(mount.path())
            .status()
            .expect("the mount command runs");
        assert!(
            status.success(),
            "mounting a {size} tmpfs failed ({status}): the fault-injection tests need root \
             (CAP_SYS_ADMIN) to give the server a filesystem that fills up"
        );
        SmallDisk { mount }
    }

    fn path(&self) -> &Path {
        self.mount.path()
    }

    /// Writes a file until the filesystem is full; returns it (delete it to free the space).
    fn fill(&self) -> PathBuf {
        let path = self.path().join("filler");
        let mut file = std::fs::File::create(&path).expect("the filler file");
        for chunk in [1 << 20, 4096, 1] {
            let block = vec![0x5a_u8; chunk];
            while file.write_all(&block).and_then(|()| file.flush()).is_ok() {}
        }
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        // Lazy: the server's files may close a moment after the test ends.
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.mount.path())
            .status();
    }
}

/// `/health` as it answers now: `Ok` (200) or the 503's error message.
async fn health(app: &TestApp) -> Result<Health, String> {
    let reply = app.request("GET", "/health").send().await;
    match reply.status {
        200 => Ok(reply.expect(200)),
        _ => Err(reply.expect_error(503, "unavailable").message),
    }
}

/// What one send during the fault answered.
enum Outcome {
    Acked(Posted),
    Refused,
}

async fn send(app: &TestApp, token: &str, slug: &str, n: usize) -> Outcome {
    let body =
        json!({ "text": format!("{n:04} {}", "x".repeat(480)), "client_msg_id": format!("m-{n}") });
    let reply = app
        .request("POST", &format!("/api/rooms/{slug}/messages"))
        .bearer(token)
        .json(body)
        .send()
        .await;
    match reply.status {
        201 => Outcome::Acked(reply.expect(201)),
        _ => {
            reply.expect_error(503, "unavailable");
            Outcome::Refused
        }
    }
}

/// Every stored message of a room: (seq, client_msg_id, first word of the text).
async fn stored(app: &TestApp, token: &str, slug: &str) -> Vec<(i64, String, String)> {
    let mut all = Vec::new();
    let mut after = 0;
    loop {
        let page: History = app
            .request("GET", &format!("/api/rooms/{slug}/messages?after={after}"))
            .bearer(token)
            .send()
            .await
            .expect(200);
        let Some(last) = page.messages.last() else {
            return all;
        };
        after = last.seq.expect("a stored message has a seq");
        for m in &page.messages {
            let word = m.text.split(' ').next().unwrap_or_default().to_owned();
            all.push((
                m.seq.unwrap_or(0),
                m.client_msg_id.clone().unwrap_or_default(),
                word,
            ));
        }
    }
}

#[tokio::test]
async fn a_full_disk_refuses_writes_loses_nothing_acknowledged_and_recovers_by_itself() {
    if common::on_postgres() {
        eprintln!("the full-disk test puts SQLite on a small tmpfs; nothing to do on PostgreSQL");
        return;
    }
    let disk = SmallDisk::mount("8m");
    let data_dir = disk.path().join("data");
    let mut app = spawn_app_with(|c| {
        c.data_dir = data_dir.clone();
        c.rate_limit_messages = 100_000;
    })
    .await;
    let name = unique_name("own");
    let owner = app.caller(&name).await;
    let token = owner.token.clone();
    owner.create_room("disk", false).await;
    owner.say_in("disk", "before").await;
    assert_eq!(health(&app).await.map(|h| h.database), Ok("ok".to_owned()));

    // No slack left anywhere: the WAL truncated, then every free block taken.
    let db = common::database(&app).await;
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&db)
        .await
        .unwrap();
    db.close().await;
    let filler = disk.fill();

    // Messages and logins while the disk is full: some may still fit, none may be lost.
    let (mut acked, mut refused) = (Vec::new(), Vec::new());
    for n in 0..60 {
        match send(&app, &token, "disk", n).await {
            Outcome::Acked(posted) => acked.push((n, posted)),
            Outcome::Refused => refused.push(n),
        }
        if n % 3 == 0 {
            // A login either fails as unavailable or hands out a token that works.
            let reply = app.login(&name, common::PASSWORD).await;
            if reply.status == 200 {
                let session: common::protocol::Session = reply.expect(200);
                let me = app
                    .request("GET", "/api/user/@me")
                    .bearer(&session.token)
                    .send()
                    .await;
                assert_eq!(
                    me.status, 200,
                    "a token handed out during the fault works: {me}"
                );
            } else {
                reply.expect_error(503, "unavailable");
            }
        }
    }
    assert!(
        refused.len() >= 30,
        "the full disk refused writes (refused {refused:?})"
    );
    // The object store shares the disk and may be named too; the database must be.
    let reason = eventually(|| async {
        match health(&app).await {
            Err(message) if message.contains("database:") => Ok(message),
            Err(message) => Err(format!("/health does not name the database yet: {message}")),
            Ok(h) => Err(format!(
                "/health still says {:?} on a full disk",
                h.database
            )),
        }
    })
    .await;
    assert!(reason.starts_with("database:"), "{reason}");

    std::fs::remove_file(filler).unwrap();
    eventually(|| async { health(&app).await.map(|_| ()) }).await;
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let mut n = 1000;
    while acked.len() < 40 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "writes did not recover"
        );
        match send(&app, &token, "disk", n).await {
            Outcome::Acked(posted) => acked.push((n, posted)),
            Outcome::Refused => tokio::time::sleep(Duration::from_millis(50)).await,
        }
        n += 1;
    }
    // A refused message was not stored: its retry stores it now, once.
    for n in &refused {
        match send(&app, &token, "disk", *n).await {
            Outcome::Acked(posted) => acked.push((*n, posted)),
            Outcome::Refused => panic!("m-{n} refused after the disk was freed"),
        }
    }

    app.restart().await;
    let after_restart = stored(&app, &token, "disk").await;
    let mut seqs: Vec<i64> = after_restart.iter().map(|(seq, _, _)| *seq).collect();
    seqs.dedup();
    assert_eq!(seqs.len(), after_restart.len(), "no seq twice");
    for (n, posted) in &acked {
        let found = after_restart
            .iter()
            .find(|(_, id, _)| *id == format!("m-{n}"))
            .unwrap_or_else(|| panic!("m-{n} was acknowledged ({posted:?}) but is not stored"));
        assert_eq!(
            (found.0, found.2.as_str()),
            (posted.seq, format!("{n:04}").as_str())
        );
    }
    let mut ids: Vec<&str> = after_restart.iter().map(|(_, id, _)| id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), after_restart.len(), "no message stored twice");

    let db = common::database(&app).await;
    let (check,): (String,) = sqlx::query_as("PRAGMA integrity_check")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(check, "ok");
}

#[tokio::test]
async fn upkeep_deletes_messages_past_their_rooms_retention() {
    let app = spawn_app_with(|_| {}).await;
    let owner = app.caller(&unique_name("own")).await;
    owner.create_room("fleeting", false).await;
    owner.create_room("kept", false).await;
    let patch = json!({ "retention_days": 1 });
    let room: common::protocol::Room = owner
        .call("PATCH", "/api/rooms/fleeting", Some(patch))
        .await
        .expect(200);
    assert_eq!(room.retention_days, Some(1));
    owner.say_in("fleeting", "old").await;
    owner.say_in("kept", "old, kept").await;
    app.clock.advance(Duration::from_secs(12 * 3600));
    owner.say_in("fleeting", "recent").await;

    let texts = |slug: &'static str| {
        let owner = &owner;
        async move {
            let page: History = owner
                .call("GET", &format!("/api/rooms/{slug}/messages"), None)
                .await
                .expect(200);
            page.texts()
                .into_iter()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        texts("fleeting").await,
        ["old", "recent"],
        "nothing is due yet"
    );
    app.clock.advance(Duration::from_secs(12 * 3600 + 61));
    eventually(|| async {
        match texts("fleeting").await {
            t if t == ["recent"] => Ok(()),
            t => Err(format!("the day-old message is still there: {t:?}")),
        }
    })
    .await;
    assert_eq!(
        texts("kept").await,
        ["old, kept"],
        "a room without retention keeps all"
    );
    let posted = owner.say_in("fleeting", "after pruning").await;
    assert_eq!(posted.seq, 3, "sequence numbers go on after pruning");
}

/// `dir` mounted read-only on a temporary directory; unmounted on drop.
struct ReadOnlyView {
    mount: tempfile::TempDir,
}

impl ReadOnlyView {
    fn of(dir: &Path) -> Self {
        let mount = tempfile::tempdir().expect("a mount point");
        for args in [
            vec!["--bind".as_ref(), dir.as_os_str(), mount.path().as_os_str()],
            vec![
                "-o".as_ref(),
                "remount,bind,ro".as_ref(),
                mount.path().as_os_str(),
            ],
        ] {
            let status = Command::new("mount")
                .args(args)
                .status()
                .expect("mount runs");
            assert!(
                status.success(),
                "mount failed ({status}): the test needs root"
            );
        }
        ReadOnlyView { mount }
    }
}

impl Drop for ReadOnlyView {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.mount.path())
            .status();
    }
}

#[tokio::test]
async fn a_read_only_data_directory_is_refused_at_once_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    common::binary::serve(&data, &[])
        .expect("first start")
        .stop();
    let read_only = ReadOnlyView::of(&data);

    let started = std::time::Instant::now();
    let refused = common::binary::serve(read_only.mount.path(), &[])
        .err()
        .expect("refuses to start");
    assert_ne!(refused.code, Some(0), "{refused:?}");
    assert!(
        refused.log.contains("is not writable")
            && refused
                .log
                .contains(&read_only.mount.path().display().to_string()),
        "names the directory and the fault: {}",
        refused.log
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "without waiting out the database's retries: {:?}",
        started.elapsed()
    );
    assert!(data.join("parlor.db").exists() && data.join("master.key").exists());
}
