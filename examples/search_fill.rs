//! Fills a fresh data directory for `bench/search.sh`: an account `bench` (password
//! `bench password 1`), `ROOMS` rooms it owns, and `MESSAGES` messages spread over them,
//! sealed with each room's key exactly as the server seals them, written in large
//! transactions (posting a million messages one request at a time would take an hour).
//!
//! Usage: `search_fill DATA_DIR ROOMS MESSAGES`. Texts are 6–14 words drawn from a skewed
//! vocabulary of 5,000 made-up words (about 60 characters), so common words hit many
//! messages; one message in 10,000 also holds the word `zanzibar`.

use parlor::app::open_storage;
use parlor::auth::Auth;
use parlor::clock::Clock;
use parlor::config::Config;
use parlor::domain::{Role, RoomKind};
use parlor::store::NewRoom;
use std::time::Instant;

const SYLLABLES: &[&str] = &[
    "ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "be", "da", "fi", "gu", "ho", "ja", "ke", "li",
    "mo", "nu", "pa", "re", "si", "to", "wa", "ze",
];

/// A small deterministic generator (xorshift64*): the same data every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn vocabulary() -> Vec<String> {
    let mut rng = Rng(7);
    (0..5000)
        .map(|_| {
            let n = 2 + rng.below(2);
            (0..n)
                .map(|_| SYLLABLES[rng.below(SYLLABLES.len() as u64) as usize])
                .collect()
        })
        .collect()
}

fn text(rng: &mut Rng, words: &[String]) -> String {
    let n = 6 + rng.below(9);
    let mut out: Vec<&str> = (0..n)
        .map(|_| {
            // Squared: low indexes are far more common (a rough Zipf).
            let r = rng.below(1 << 16) as f64 / f64::from(1 << 16);
            &*words[(r * r * words.len() as f64) as usize]
        })
        .collect();
    if rng.below(10_000) == 0 {
        out.push("zanzibar");
    }
    out.join(" ")
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, dir, rooms, messages] = &args[..] else {
        anyhow::bail!("usage: search_fill DATA_DIR ROOMS MESSAGES");
    };
    let (rooms, messages): (i64, i64) = (rooms.parse()?, messages.parse()?);
    let config = Config {
        data_dir: dir.into(),
        ..Config::default()
    };
    std::fs::create_dir_all(&config.data_dir)?;
    let (store, keyring) = open_storage(&config).await?;
    let auth = Auth::new(store.clone(), config.auth_settings()?, Clock::system());
    let user = auth
        .upsert_user("bench", "bench password 1".into(), Role::User)
        .await?;
    let pool = sqlx::AnyPool::connect(&config.database_url()).await?;
    let words = vocabulary();
    let mut rng = Rng(42);
    let started = Instant::now();
    let now = Clock::system().now_millis();
    let per_room = messages / rooms;
    for r in 0..rooms {
        let data_key_id = keyring.create_key().await?;
        let slug = format!("bench-{r}");
        let room = store
            .rooms()
            .create(NewRoom {
                kind: RoomKind::Room,
                slug: &slug,
                name: &slug,
                topic: None,
                private: false,
                owner: parlor::domain::Principal::User(user.id),
                data_key_id,
                created_at: now,
                e2e: false,
            })
            .await?;
        let key = keyring.key(data_key_id).await?;
        let mut seq = 0;
        while seq < per_room {
            let mut tx = pool.begin().await?;
            for _ in 0..10_000.min(per_room - seq) {
                seq += 1;
                let body = text(&mut rng, &words);
                // As `rooms::history` seals a body: the room and sequence are the associated data.
                let aad = format!("parlor:message:room:{}:seq:{seq}", room.id);
                sqlx::query(
                    "INSERT INTO messages (room_id, seq, author_id, author_name, author_role, body, created_at) \
                     VALUES ($1, $2, $3, $4, 'user', $5, $6)",
                )
                .bind(room.id)
                .bind(seq)
                .bind(user.id)
                .bind(&user.name)
                .bind(key.seal(body.as_bytes(), aad.as_bytes()))
                .bind(now - (per_room - seq) * 1000)
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query("UPDATE rooms SET last_seq = $1 WHERE id = $2")
                .bind(seq)
                .bind(room.id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        }
        eprintln!(
            "room {slug}: {per_room} messages ({:.0?} so far)",
            started.elapsed()
        );
    }
    pool.close().await;
    store.close().await;
    Ok(())
}
