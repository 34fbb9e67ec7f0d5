# kdfs container image: the server `kdfs-node` (the entrypoint) and the client `kdfs`.
#
#   docker build -t kdfs:local .
#   docker run --rm kdfs:local --help          # every flag and its KDFS_* variable
#
# Two stages: a Debian 12 build stage with the same -dev packages as
# scripts/install-deps, and a slim Debian 12 runtime stage that carries only the
# shared libraries the two programs link against. The runtime runs as an
# unprivileged user and keeps all node state under /data (chunks; Redis runs
# beside it, in its own container). docs/DEPLOY.md explains how to run it.

# ---------------------------------------------------------------------------
FROM debian:12 AS build
ARG DEBIAN_FRONTEND=noninteractive
SHELL ["/bin/bash", "-o", "pipefail", "-c"]

# Debian pins its own versions within a release, and old point versions leave
# the archive after a security update, so packages are not pinned here.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config \
      libboost-dev librdkafka-dev libhiredis-dev libssl-dev nlohmann-json3-dev \
      libspdlog-dev libfmt-dev libcli11-dev libgtest-dev libgmock-dev libbenchmark-dev \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY . .

# RelWithDebInfo is the build type the team tests with -Werror; debug info is
# stripped from the installed copies only.
RUN cmake -S . -B build -G Ninja \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DKDFS_BUILD_TESTS=OFF -DKDFS_BUILD_BENCH=OFF \
 && cmake --build build --target kdfs-node kdfs \
 && install -D -m 0755 build/src/node/kdfs-node /out/usr/local/bin/kdfs-node \
 && install -D -m 0755 build/src/cli/kdfs /out/usr/local/bin/kdfs \
 && strip --strip-debug /out/usr/local/bin/kdfs-node /out/usr/local/bin/kdfs

# ---------------------------------------------------------------------------
FROM debian:12-slim AS runtime
ARG DEBIAN_FRONTEND=noninteractive
SHELL ["/bin/bash", "-o", "pipefail", "-c"]

LABEL org.opencontainers.image.title="kdfs" \
      org.opencontainers.image.description="kdfs distributed file system node (kdfs-node) and client (kdfs)" \
      org.opencontainers.image.licenses="Apache-2.0"

# Runtime libraries only: librdkafka (C and C++), hiredis, OpenSSL, spdlog and
# fmt; Boost.Asio/Beast, nlohmann-json and CLI11 are header-only. curl serves
# the HEALTHCHECK, tini reaps children and forwards signals as PID 1.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      librdkafka1 librdkafka++1 libhiredis0.14 libssl3 libspdlog1.10 libfmt9 \
      ca-certificates curl tini \
 && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 kdfs \
 && useradd --system --uid 10001 --gid kdfs --home-dir /data --no-create-home \
      --shell /usr/sbin/nologin kdfs \
 && mkdir -p /data \
 && chown kdfs:kdfs /data

COPY --from=build /out/ /

# Fail the image build, not the first start, if a shared library is missing.
RUN ldd /usr/local/bin/kdfs-node /usr/local/bin/kdfs > /tmp/ldd.txt \
 && if grep -F 'not found' /tmp/ldd.txt; then exit 1; fi \
 && rm /tmp/ldd.txt \
 && kdfs-node --help > /dev/null

# Container defaults; every KDFS_* variable is a kdfs-node setting and can be
# overridden at run time (see `kdfs-node --help`).
ENV KDFS_LISTEN=0.0.0.0:8081 \
    KDFS_DATA_DIR=/data

USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8081

# /healthz is process liveness only; readiness (/readyz) is for the load balancer.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["/bin/sh", "-c", "curl -fsS -o /dev/null \"http://127.0.0.1:${KDFS_LISTEN##*:}/healthz\" || exit 1"]

ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/kdfs-node"]
