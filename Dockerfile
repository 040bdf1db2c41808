# syntax=docker/dockerfile:1
#
# Parlor's container image: the one binary on a small Debian base.
#
#   docker build -t parlor .
#   docker run -p 8080:8080 -v parlor-data:/var/lib/parlor parlor
#
# The multi-node stack (PostgreSQL, Redis, an S3 store and a proxy) is in deploy/compose.yaml;
# deploy/README.md explains it.

# The builder and the runtime image are both Debian bookworm, so the binary links against the
# same glibc it runs with.
ARG RUST_VERSION=1

FROM rust:${RUST_VERSION}-bookworm AS builder
WORKDIR /src

# The whole build context (see .dockerignore: sources, web/ and migrations/, which are embedded
# at compile time, and the workspace's manifests). Dependencies are not compiled in a layer of
# their own: the cache mounts below keep the registry and the target directory between builds,
# so a change to Parlor's sources recompiles Parlor only, without the fragile "build a dummy
# main first" trick a workspace with a build script would need.
COPY . .

# Set to true for an image about 90 MB smaller: the release profile keeps line tables so that
# backtraces (RUST_BACKTRACE=1) name files and lines; stripping them keeps function names only.
ARG STRIP_DEBUG_INFO=false

# The target directory lives in a cache mount, which is not part of the image, so the binary is
# copied out of it in the same step.
RUN --mount=type=cache,id=parlor-cargo-registry,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,id=parlor-cargo-git,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,id=parlor-target,target=/src/target,sharing=locked \
    cargo build --release --locked --bin parlor \
    && install -D -m 0755 target/release/parlor /out/parlor \
    && if [ "$STRIP_DEBUG_INFO" = true ]; then objcopy --strip-debug /out/parlor; fi


FROM debian:bookworm-slim AS runtime

# ca-certificates: the S3 client verifies TLS against the system's roots. Nothing else is
# needed: the binary links only glibc and libgcc, and the health check below uses bash, which
# the base image has. Not pinned to a version: the roots should be the current ones.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*

# A fixed uid/gid, so volumes and bind mounts can be prepared for it (chown 10001:10001) and
# orchestrators that insist on a numeric non-root user accept the image.
RUN groupadd --system --gid 10001 parlor \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/parlor --no-create-home \
        --shell /usr/sbin/nologin parlor \
    && install -d -o 10001 -g 10001 -m 0700 /var/lib/parlor

COPY --from=builder /out/parlor /usr/local/bin/parlor

# The data directory holds the SQLite database, uploads and master.key when Parlor runs on its
# embedded defaults: mount a volume there for a single node. With PostgreSQL (DATABASE_URL), an
# S3 store (PARLOR_OBJECT_STORE_URL) and PARLOR_MASTER_KEY nothing in it needs keeping.
# It is also the working directory, so a parlor.toml mounted there is read.
ENV PARLOR_DATA_DIR=/var/lib/parlor \
    PARLOR_LISTEN=0.0.0.0:8080
WORKDIR /var/lib/parlor
USER 10001:10001
EXPOSE 8080

# Liveness: /health/live answers while the process serves HTTP. (Readiness, /health, also
# writes to the database and the object store; deploy/compose.yaml checks that one.) Parlor has
# no health-check subcommand and the image has no curl, so bash's /dev/tcp sends the request:
# HTTP/1.0, so the server closes the connection after its answer. The port comes from
# PARLOR_LISTEN, which must then listen on all addresses or on loopback.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${PARLOR_LISTEN##*:} && printf 'GET /health/live HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]

# Parlor stops gracefully on SIGTERM (Docker's default stop signal), within
# PARLOR_SHUTDOWN_GRACE_SECS; give containers a longer stop timeout than that.
ENTRYPOINT ["parlor"]
CMD ["serve"]
