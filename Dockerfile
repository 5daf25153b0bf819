# The lab's one app image: the worker and both masters run from it, and compose picks the entry
# script per service (`command: ["worker.ts"]`, `command: ["master.ts"]`). Dependencies are fetched
# at build time, so a container never reaches for a registry (`--cached-only`).
#
#   docker build -t zk-lab/app .                      (official distroless Deno image)
#   docker build --build-arg DENO_IMAGE=zk-lab/deno:distroless-2.9.3 -t zk-lab/app .   (stand-in)
#   docker build --build-arg DENO_IMAGE=denoland/deno:debian-2.9.3 -t zk-lab/app .  (with a shell)
#
# Distroless: nothing in the image needs a shell (the health probe is healthcheck.ts, run by Deno).
#
# The base must be Deno 2.9.3: later versions abort on HTTP/2 GOAWAY (see lib/nodes/deno_version.ts).
ARG DENO_IMAGE=denoland/deno:distroless-2.9.3

# Stage 1: fetch the dependencies into DENO_DIR. The distroless base has no shell, so every RUN is
# in exec form; it runs as the image's root, and stage 2 hands the cache to the app's user.
FROM ${DENO_IMAGE} AS dependencies
ENV DENO_DIR=/deno-dir/ \
    DENO_NO_UPDATE_CHECK=1
WORKDIR /app
# Dependencies first, so this layer is reused until deno.json or deno.lock change. --frozen: the
# lock file must already match; a build never rewrites it.
COPY deno.json deno.lock ./
RUN ["deno", "install", "--frozen"]
COPY proto/ proto/
COPY lib/ lib/
COPY *.ts ./
# Anything the entry points import beyond deno.json's list would be fetched here, still frozen.
RUN ["deno", "install", "--frozen", "--entrypoint", "master.ts", "worker.ts", "healthcheck.ts"]

# Stage 2: the same base with the cache and the code, nothing else (no shell, no apt).
FROM ${DENO_IMAGE}
ENV DENO_DIR=/deno-dir/ \
    DENO_NO_UPDATE_CHECK=1
WORKDIR /app
# Everything runs as an unprivileged user (uid 1993, as the official Debian image's `deno`): the
# dependency cache belongs to it, while the code copied in stays root's and read-only to it.
COPY --from=dependencies --chown=1993:1993 /deno-dir/ /deno-dir/
COPY --from=dependencies /app/ /app/
USER 1993:1993

# `deno task clean` finds every build of this image by this label, also the untagged ones that
# rebuilds leave behind.
LABEL zk-lab.image=app

# --allow-net: serve gRPC, reach ZooKeeper and peers, whose addresses come from the environment.
# --allow-env: the config reads the whole environment once.
# --allow-read: the lab's .proto in /app, and grpc-health-check's own health.proto in DENO_DIR (an
#   npm package reading its files through node:fs needs the permission like any other code).
# --allow-sys: hostname for Deno.hostname() (master.ts asks it for the default master name); uid
#   because Deno's node:fs accessSync() asks for it (proto-loader checks each include path with it:
#   without uid every check fails and health.proto is "not found"). Nothing asks for osRelease.
ENTRYPOINT ["deno", "run", "--cached-only", "--frozen", "--allow-net", "--allow-env", "--allow-read=/app,/deno-dir/npm", "--allow-sys=hostname,uid"]
CMD ["worker.ts"]

# healthcheck.ts asks this container's own gRPC server for grpc.health.v1 Check and exits 0 only
# on SERVING; the port comes from MASTER_PORT or WORKER_PORT.
HEALTHCHECK --interval=5s --timeout=10s --start-period=60s --retries=3 \
  CMD ["deno", "run", "--cached-only", "--frozen", "--allow-net=127.0.0.1", "--allow-env", "--allow-read=/app,/deno-dir/npm", "--allow-sys=uid", "healthcheck.ts"]
