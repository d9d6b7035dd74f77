# entra-airsync: the AirSync worker (`serve`) in a small, non-root image.
# Build: docker build -t entra-airsync .   Run: docker run -e AIRSYNC_INGRESS_TOKEN=… -p 8080:8080 entra-airsync

FROM rust:1.95-slim-bookworm AS build
# jemalloc (the worker's allocator) builds with make; the slim image has only gcc.
RUN apt-get update && apt-get install -y --no-install-recommends make && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Dependencies first, so that code changes do not rebuild them.
COPY Cargo.toml Cargo.lock ./
RUN mkdir src && echo 'fn main() {}' > src/main.rs && echo '' > src/lib.rs \
    && cargo build --release --locked || true
COPY . .
RUN touch src/main.rs src/lib.rs && cargo build --release --locked --bin entra-airsync \
    && strip target/release/entra-airsync

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/entra-airsync /usr/local/bin/entra-airsync
USER nonroot:nonroot
EXPOSE 8080
ENV LOG_FORMAT=json RUST_LOG=info
HEALTHCHECK --interval=30s --timeout=3s --start-period=5s --retries=3 \
    CMD ["/usr/local/bin/entra-airsync", "healthcheck", "--url", "http://127.0.0.1:8080/healthz"]
ENTRYPOINT ["/usr/local/bin/entra-airsync"]
CMD ["serve", "--listen", "0.0.0.0:8080"]
