# Miauflix image: one image for the api, engine and nginx services of docker-compose.yml
# (and the certbot service). The Swift binary is built in a builder stage; the runtime is
# Debian 12 slim with the shared libraries it links and nginx.
#
#   docker build -t miauflix .          (docker compose build does the same)

# The toolchain the project is built and tested with (Swift 6.3); override with
# --build-arg SWIFT_IMAGE=…
ARG SWIFT_IMAGE=swift:6.3-bookworm

# ---- builder ---------------------------------------------------------------------------
FROM ${SWIFT_IMAGE} AS builder
RUN apt-get update \
 && apt-get install -y --no-install-recommends libfcgi-dev libsqlite3-dev libssl-dev \
        libcurl4-openssl-dev libargon2-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Dependencies first: this layer is reused while only Sources/ changes.
COPY Package.swift Package.resolved* ./
RUN swift package resolve
COPY Sources Sources
RUN swift build -c release --product miauflix --static-swift-stdlib \
 && install -D -m 755 "$(swift build -c release --show-bin-path)/miauflix" /out/miauflix

# ---- runtime ---------------------------------------------------------------------------
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libfcgi0ldbl libfcgi-bin libsqlite3-0 libssl3 \
        libcurl4 libargon2-1 ca-certificates tzdata nginx-light openssl curl certbot tini \
 && rm -rf /var/lib/apt/lists/* \
 && rm -f /etc/nginx/sites-enabled/default
COPY --from=builder /out/miauflix /usr/local/bin/miauflix
WORKDIR /opt/miauflix
COPY scripts scripts
COPY nginx nginx
COPY certbot certbot
COPY frontend frontend
ENV MIAUFLIX_BIN=/usr/local/bin/miauflix \
    DATA_DIR=/data \
    COOKIE_SECURE=true
VOLUME ["/data"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["miauflix", "--help"]
