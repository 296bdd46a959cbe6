# hfharvest: the nightly batch job. Multi-stage: cargo-chef caches the dependency
# build in its own layer, so a source change rebuilds only the crate itself.

ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-slim-bookworm AS chef
RUN cargo install --locked cargo-chef@0.1.73
WORKDIR /src

# The dependency recipe: changes only when Cargo.toml / Cargo.lock do.
FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
COPY --from=planner /src/recipe.json recipe.json
RUN cargo chef cook --release --locked --recipe-path recipe.json --package hfharvest --bin hfharvest
COPY . .
# /out/rootfs is copied onto the runtime's root as it is: COPY of a folder copies what is
# in it, so /data must be an entry inside the copied folder to keep its 0750.
RUN cargo build --release --locked --package hfharvest --bin hfharvest \
    && install -D -m 0755 target/release/hfharvest /out/hfharvest \
    && install -d -m 0750 -o 65532 -g 65532 /out/rootfs/data

# Runtime: distroless (glibc, CA certificates, no shell), as the non-root user 65532.
# The browser is not in the image: it is the Selenium sidecar (see helm/).
FROM gcr.io/distroless/cc-debian12:nonroot
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="hfharvest" \
      org.opencontainers.image.description="Nightly dataset of the most-used Hugging Face text-generation models, with their Open LLM Leaderboard scores" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/hfharvest/hfharvest"
COPY --from=builder /out/hfharvest /usr/local/bin/hfharvest
COPY --from=builder --chown=65532:65532 /out/rootfs/ /
# The root filesystem can be read-only: output goes to /data (a volume, or S3) and
# temporary files to /tmp (an emptyDir in the Helm chart).
ENV HFHARVEST__OUTPUT__DIR=/data \
    TMPDIR=/tmp
WORKDIR /data
USER 65532:65532
# A batch job, not a service: no HEALTHCHECK. `run` is the whole pipeline.
ENTRYPOINT ["/usr/local/bin/hfharvest"]
CMD ["run"]
