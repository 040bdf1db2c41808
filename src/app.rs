//! Assembles the server from its parts: configuration → store → services → core → router; and
//! runs it until a shutdown signal, then closes every connection and the database cleanly.

use crate::ai::provider::{Provider, ProviderSettings};
use crate::ai::{CompanionSettings, Persona};
use crate::auth::Auth;
use crate::clock::Clock;
use crate::cluster::RedisBus;
use crate::config::{Config, Secret};
use crate::core::{
    Bot, Bus, Chat, ChatParts, ChatSettings, CompanionSetup, FileParts, Hub, LocalBus,
};
use crate::crypto::{KeyConfig, Keyring};
use crate::domain::Role;
use crate::error::ErrorCode;
use crate::files::Library;
use crate::http::{App, AppState, Gate, GateLimits, HttpError, Origin, Peer, Sockets};
use crate::metrics::Metrics;
use crate::moderation::Moderation;
use crate::rooms::{Rooms, RoomsSettings};
use crate::store::Store;
use crate::{api, gateway, http, web};
use anyhow::Context;
use axum::Router;
use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// A bound, ready-to-run server.
pub struct Server {
    listener: TcpListener,
    state: AppState,
}

/// Opens the database and the keyring over it: loads the master keys (generating a first key
/// file only when the database holds no data key), opens every stored data key and re-wraps
/// those under a previous master key; refuses to start when any key does not open.
pub async fn open_storage(config: &Config) -> anyhow::Result<(Store, Keyring)> {
    open_storage_on(config, Clock::system()).await
}

/// [`open_storage`] on a given clock.
async fn open_storage_on(config: &Config, clock: Clock) -> anyhow::Result<(Store, Keyring)> {
    let store = Store::connect(&config.database_url())
        .await
        .context("cannot open the database")?;
    let keys = KeyConfig {
        master_key: config.master_key.as_ref().map(Secret::expose),
        previous_master_key: config.previous_master_key.as_ref().map(Secret::expose),
        data_dir: &config.data_dir,
    };
    match Keyring::open(store.clone(), keys, clock).await {
        Ok(keyring) => Ok((store, keyring)),
        Err(err) => {
            store.close().await;
            Err(anyhow::anyhow!(err).context("refusing to start"))
        }
    }
}

/// The room service as the server configures it (also for tools that read archives).
pub fn room_service(config: &Config, store: Store, keyring: Keyring) -> Rooms {
    room_service_on(config, store, keyring, Clock::system())
}

fn room_service_on(config: &Config, store: Store, keyring: Keyring, clock: Clock) -> Rooms {
    Rooms::new(
        store,
        keyring,
        RoomsSettings {
            max_message_chars: config.max_message_chars,
            history_page: config.history_page,
            pm_history_cap: config.pm_history_cap,
            ephemeral_ttl_secs: config.ephemeral_ttl_secs,
            edit_window_secs: config.edit_window_secs,
            max_mentions: config.max_mentions,
            everyone_mentions: config.everyone_mentions,
            guests_in_rooms: config.guests_in_rooms,
            e2e_conversations: config.e2e_conversations,
        },
        clock,
    )
}

/// Creates or updates the root account named by `root_user`, when set. A password hash wins
/// over a password; with neither, start-up stops with a clear message. An account that is
/// already root with these credentials is left alone (its sessions survive a restart).
async fn bootstrap_root(auth: &Auth, config: &Config) -> anyhow::Result<()> {
    let Some(name) = config.root_user.as_deref() else {
        return Ok(());
    };
    let hash = config.root_password_hash.as_ref().map(Secret::expose);
    let password = config.root_password.as_ref().map(Secret::expose);
    if auth.is_root_with(name, hash, password).await? {
        tracing::info!(user = %name, "root account ready (unchanged)");
        return Ok(());
    }
    let user = match (&config.root_password_hash, &config.root_password) {
        (Some(hash), _) => {
            auth.upsert_user_with_hash(name, hash.expose(), Role::Root)
                .await
        }
        (None, Some(password)) => {
            auth.upsert_user(name, password.expose().to_owned(), Role::Root)
                .await
        }
        (None, None) => anyhow::bail!(
            "PARLOR_ROOT_USER is set without PARLOR_ROOT_PASSWORD or PARLOR_ROOT_PASSWORD_HASH"
        ),
    }
    .context("cannot set up the root account")?;
    tracing::info!(user = %user.name, "root account ready");
    Ok(())
}

/// The AI companion, when `ai_provider` is set: the model server's client, the persona, and
/// the bot's account (found, or created with no password or key and `bot = 1`).
async fn companion_setup(
    config: &Config,
    store: &Store,
    clock: Clock,
) -> anyhow::Result<Option<CompanionSetup>> {
    let Some(provider) = ProviderSettings::from_config(config) else {
        return Ok(None);
    };
    let model = Provider::new(provider, clock.clone()).context("cannot use the AI settings")?;
    let name = &config.ai_name;
    let persona = Persona::load(config.ai_persona_file.as_deref(), name)
        .context("cannot read ai_persona_file")?;
    let id = store
        .users()
        .ensure_bot(name, &name.to_ascii_lowercase(), clock.now_millis())
        .await?
        .with_context(|| {
            format!("ai_name {name:?} belongs to an account that is not the companion's")
        })?;
    tracing::info!(bot = %name, model = %config.ai_model, "AI companion enabled");
    Ok(Some(CompanionSetup {
        settings: CompanionSettings::from_config(config),
        persona,
        model: Arc::new(model),
        bot: Bot {
            id,
            name: name.clone(),
        },
    }))
}

/// Says whether anyone can administer the server yet, and how to make someone able to.
async fn log_admin_accounts(store: &Store) -> anyhow::Result<()> {
    let users = store.users();
    let roots = users.count_with_role(Role::Root).await?;
    let admins = users.count_with_role(Role::Admin).await?;
    if roots + admins == 0 {
        tracing::warn!(
            "no admin account yet: create one with `parlor user add NAME --role root` \
             (or set PARLOR_ROOT_USER and PARLOR_ROOT_PASSWORD)"
        );
    } else {
        tracing::info!("admin accounts: {roots} root, {admins} admin");
    }
    Ok(())
}

impl Server {
    /// Prepares the data directory, master key and database, and binds the listener.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        Self::build_with_clock(config, Clock::system()).await
    }

    /// [`Server::build`] on a given clock (tests run the server on a manual one).
    pub async fn build_with_clock(config: Config, clock: Clock) -> anyhow::Result<Self> {
        tracing::info!("Parlor {} starting", env!("CARGO_PKG_VERSION"));
        tracing::info!("configuration file: {}", config.describe_file());
        let variables = config.provenance.variables();
        if !variables.is_empty() {
            tracing::info!("set by the environment: {}", variables.join(", "));
        }
        std::fs::create_dir_all(config.data_dir.join("uploads")).with_context(|| {
            format!(
                "cannot create the data directory {}",
                config.data_dir.display()
            )
        })?;
        let data_dir = std::fs::canonicalize(&config.data_dir)
            .with_context(|| format!("cannot resolve {}", config.data_dir.display()))?;
        ensure_writable(&data_dir)?;
        tracing::info!("data directory: {}", data_dir.display());
        tracing::info!("database: {}", config.describe_database());
        let (store, keyring) = open_storage_on(&config, clock.clone()).await?;
        tracing::info!("master key: {}", config.describe_master_key());
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let auth = Auth::new(store.clone(), config.auth_settings()?, clock.clone());
        bootstrap_root(&auth, &config).await?;
        log_admin_accounts(&store).await?;
        let metrics = Metrics::new(store.timings(), clock.now_millis());
        let hub = Arc::new(Hub::new(clock.clone(), metrics.clone()));
        let node = config.node_name();
        tracing::info!(node = %node, "node");
        let gate = Gate::new(GateLimits {
            per_address: config.max_connections_per_ip,
            total: connection_limit(&config),
            handshakes: config.max_handshakes,
        });
        let (bus, first_connection_id): (Arc<dyn Bus>, u64) = match &config.redis_url {
            Some(url) => {
                let redis = RedisBus::connect(url.expose(), &node)
                    .await
                    .context("cannot start the Redis bus (redis_url)")?;
                auth.share_throttles(Arc::new(redis.windows()));
                gate.share(Arc::new(redis.counts()));
                let first = redis.first_connection_id().await?;
                (Arc::new(redis), first)
            }
            None => (Arc::new(LocalBus::new()), 1),
        };
        let settings = ChatSettings {
            max_message_chars: config.max_message_chars,
            rate_limit_messages: config.rate_limit_messages,
            rate_window: config.rate_window(),
            outbound_queue: config.outbound_queue,
            max_connections_per_ip: config.max_connections_per_ip,
            presence_limit: config.presence_limit,
            identify_timeout: Duration::from_secs(config.identify_timeout_secs),
            node: node.clone(),
            first_connection_id,
            search_cache_bytes: config.search_cache_mb.saturating_mul(1024 * 1024),
        };
        let library = Library::new(
            config.file_store().context("cannot open the file store")?,
            config.library_settings(),
        );
        if let Err(err) = library.probe().await {
            anyhow::bail!(
                "the file store {} does not accept writes: {err}",
                config.describe_file_store()
            );
        }
        let files = FileParts {
            library,
            keyring: keyring.clone(),
            store: store.clone(),
            settings: config.file_settings(),
        };
        tracing::info!("files: {}", config.describe_file_store());
        let rooms = room_service_on(&config, store.clone(), keyring, clock.clone());
        let moderation = Moderation::load(store.clone(), clock.clone())
            .await
            .context("cannot load bans and mutes")?;
        let companion = companion_setup(&config, &store, clock.clone()).await?;
        let chat = Chat::new(ChatParts {
            auth,
            rooms,
            moderation,
            hub,
            bus,
            settings,
            clock,
            files,
            metrics: metrics.clone(),
            companion,
        });
        let state = AppState::new(App {
            node,
            admin_networks: config.admin_networks()?,
            trusted_proxies: config.trusted_proxy_networks()?,
            public_origins: public_origins(&config)?,
            gate,
            config,
            store,
            chat,
            metrics,
            tasks: TaskTracker::new(),
        });
        Ok(Self { listener, state })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or(self.state.config.listen)
    }

    /// Serves until `shutdown` resolves; then stops accepting, tells every client, waits for
    /// connections to close (bounded by `shutdown_grace_secs`) and closes the database.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Server { listener, state } = self;
        let (socketio, io) = gateway::socketio::layer(state.clone());
        // Layers run outside in: every error response counted by its code, security headers
        // on every answer, then the Engine.IO edge (admission before socketioxide opens a
        // session), then socketioxide, then the routes.
        let router = Router::new()
            .merge(api::routes())
            .merge(gateway::routes())
            .fallback(web::asset)
            .method_not_allowed_fallback(method_not_allowed)
            .layer(socketio)
            .layer(axum::middleware::from_fn_with_state(
                state.clone(),
                gateway::engineio::edge,
            ))
            .layer(axum::middleware::from_fn(web::security_headers))
            .layer(axum::middleware::from_fn_with_state(
                state.clone(),
                http::count_refusals,
            ))
            .with_state(state.clone());
        web::warm();

        let stop = CancellationToken::new();
        let upkeep = state.tasks.spawn({
            let (state, stop) = (state.clone(), stop.clone());
            async move { state.chat.upkeep.run(stop).await }
        });
        let checkpoints = state.tasks.spawn({
            let (store, stop) = (state.store.clone(), stop.clone());
            async move {
                store.checkpoint_every(Duration::from_secs(1), stop).await;
            }
        });
        tracing::info!("Parlor listening on http://{}", listener.local_addr()?);

        // When the shutdown signal came: the grace period runs from there.
        let stopping = Arc::new(OnceLock::new());
        let signal = {
            let (state, stop, stopping) = (state.clone(), stop.clone(), Arc::clone(&stopping));
            async move {
                shutdown.await;
                tracing::info!("shutting down: closing connections");
                let _ = stopping.set(Instant::now());
                stop.cancel();
                state.chat.sessions.shutdown();
            }
        };
        let serving = axum::serve(
            Sockets(listener),
            router.into_make_service_with_connect_info::<Peer>(),
        )
        .with_graceful_shutdown(signal)
        .into_future();
        // Graceful shutdown waits for every HTTP connection to finish its request, and a client
        // can hold one open for ever (half a request, a body that never ends): the grace period
        // bounds the wait, then the server stops serving them.
        let grace = Duration::from_secs(state.config.shutdown_grace_secs);
        let grace_over = async {
            stop.cancelled().await;
            let since = stopping.get().copied().unwrap_or_else(Instant::now);
            tokio::time::sleep_until(since + grace).await;
        };
        tokio::select! {
            served = serving => served?,
            () = grace_over => tracing::warn!(
                grace_secs = grace.as_secs(),
                "requests still unfinished after the grace period; dropping them"
            ),
        }
        let deadline = stopping.get().copied().unwrap_or_else(Instant::now) + grace;

        if tokio::time::timeout_at(deadline, io.close()).await.is_err() {
            tracing::warn!("Socket.IO sessions still open after the grace period");
        }
        state.tasks.close();
        if tokio::time::timeout_at(deadline, state.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!("connections still open after the grace period; exiting anyway");
        }
        upkeep.abort();
        checkpoints.abort();
        if let Some(companion) = &state.chat.companion {
            companion.shutdown().await;
        }
        // What the audit log holds and the database are closed in bounded time too: a
        // connection task still holding a database connection must not keep the process up.
        let closing = async {
            state.chat.bus.leave().await;
            state.chat.flush_audit().await;
            state.store.close().await;
        };
        if tokio::time::timeout(STORE_CLOSE_GRACE, closing)
            .await
            .is_err()
        {
            tracing::warn!("the database did not close in time; exiting anyway");
        }
        tracing::info!("stopped");
        Ok(())
    }
}

/// How long closing the database may take after the connections' grace period.
const STORE_CLOSE_GRACE: Duration = Duration::from_secs(2);

/// `405` in the error envelope, for a path that exists without the request's method.
async fn method_not_allowed() -> HttpError {
    HttpError::new(
        ErrorCode::MethodNotAllowed,
        "this path does not take that method",
    )
}

/// `public_origins`, parsed; a configured origin that is not one stops start-up.
fn public_origins(config: &Config) -> anyhow::Result<Vec<Origin>> {
    config
        .public_origins
        .iter()
        .map(|raw| {
            Origin::parse(raw).with_context(|| {
                format!(
                    "PARLOR_PUBLIC_ORIGINS: {raw:?} is not an origin like https://chat.example.org"
                )
            })
        })
        .collect()
}

/// The real-time connections the server holds in all: `max_connections`, or what the
/// descriptor limit leaves after `reserved_descriptors`. Raises the soft descriptor limit to
/// the hard one first, and says what it found.
fn connection_limit(config: &Config) -> usize {
    let descriptors = raise_descriptor_limit();
    let derived = descriptors.map(|n| {
        let n = usize::try_from(n).unwrap_or(usize::MAX);
        if n > config.reserved_descriptors.saturating_mul(2) {
            n - config.reserved_descriptors
        } else {
            // Too few descriptors for the reserve asked for: keep half of them back.
            n / 2
        }
    });
    let limit = match (config.max_connections, derived) {
        (0, Some(derived)) => derived,
        (0, None) => usize::MAX,
        (configured, Some(derived)) if configured > derived => {
            tracing::warn!(
                max_connections = configured,
                fits = derived,
                "max_connections is more than the descriptor limit leaves; descriptors may run out"
            );
            configured
        }
        (configured, _) => configured,
    };
    tracing::info!(
        descriptors = descriptors.map_or_else(|| "unlimited".to_owned(), |n| n.to_string()),
        reserved = config.reserved_descriptors,
        max_connections = limit,
        max_connections_per_ip = config.max_connections_per_ip,
        "connection limits"
    );
    limit.max(1)
}

/// Resolves on SIGTERM or SIGINT.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    use tokio::signal::unix::{signal, SignalKind};
    // Registered now, not when the future is first polled: a SIGTERM that arrives between the
    // "listening" line and the first poll must stop the server gracefully, not kill it.
    let terminate = signal(SignalKind::terminate());
    let interrupt = signal(SignalKind::interrupt());
    async move {
        match (terminate, interrupt) {
            (Ok(mut terminate), Ok(mut interrupt)) => {
                tokio::select! {
                    _ = terminate.recv() => {},
                    _ = interrupt.recv() => {},
                }
            }
            _ => std::future::pending::<()>().await,
        }
    }
}

/// Raises the soft limit on open descriptors to the hard limit (the soft default, often 1024,
/// is far below what a chat server holds) and returns the limit in force; `None` when there is
/// none.
fn raise_descriptor_limit() -> Option<u64> {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        let raised = Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        };
        match setrlimit(Resource::Nofile, raised) {
            Ok(()) => return limit.maximum,
            Err(err) => tracing::warn!(
                error = %err,
                soft = ?limit.current,
                hard = ?limit.maximum,
                "could not raise the descriptor limit"
            ),
        }
    }
    limit.current
}

/// Refuses a data directory the server cannot write to (a read-only mount, wrong owner) at
/// once and by name, rather than after SQLite's retries with "unable to open database file".
fn ensure_writable(dir: &std::path::Path) -> anyhow::Result<()> {
    let probe = dir.join(".parlor-write-check");
    std::fs::write(&probe, b"")
        .and_then(|()| std::fs::remove_file(&probe))
        .with_context(|| {
            format!(
                "the data directory {} is not writable: Parlor keeps its database (with \
                 SQLite), master key and uploads there; give the server's user write access, \
                 or set PARLOR_DATA_DIR to a writable directory",
                dir.display()
            )
        })
}
