# syntax=docker/dockerfile:1.7
#
# One image recipe for every idsync service:
#
#   docker build --build-arg SERVICE=gateway --build-arg VERSION=$(git describe --tags --always) -t idsync/gateway .
#
# SERVICE is one of gateway, okta-sync, gitlab-sync, github-sync,
# console-sync, eventlog, okta-backfill or idsync (the all-in-one and
# operator CLI); it
# names services/<SERVICE>/cmd/<SERVICE>. The build uses the go.work
# workspace, as `make build` does, so the image holds exactly the code the
# tests ran. The final image is distroless (no shell, no package manager),
# runs as an unprivileged user and holds three static binaries: the service,
# a tiny HTTP probe for container healthchecks (deploy/cmd/healthcheck) and
# the deploy-time topology step (deploy/cmd/provision: streams and KV buckets,
# run as the NATS "provisioner" user).

ARG GO_VERSION=1.26
ARG DISTROLESS_IMAGE=gcr.io/distroless/static-debian12:nonroot

FROM golang:${GO_VERSION}-bookworm AS build
ARG SERVICE
ARG VERSION=dev
ARG TARGETOS=linux
ARG TARGETARCH
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-buildvcs=false
# The source is bind-mounted rather than copied: the module and build caches
# persist between builds of the seven services, so the second image compiles
# only what differs.
RUN --mount=type=bind,target=/src \
    --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    set -eu; \
    test -n "${SERVICE}" || { echo "build with --build-arg SERVICE=<gateway|okta-sync|gitlab-sync|github-sync|console-sync|eventlog|okta-backfill|idsync>" >&2; exit 1; }; \
    test -d "services/${SERVICE}/cmd/${SERVICE}" || { echo "no such service: services/${SERVICE}/cmd/${SERVICE}" >&2; exit 1; }; \
    GOOS="${TARGETOS}" GOARCH="${TARGETARCH:-$(go env GOARCH)}" go build -trimpath \
      -ldflags "-s -w -X github.com/idsync/idsync/pkg/metrics.Version=${VERSION}" \
      -o /out/idsync-service "./services/${SERVICE}/cmd/${SERVICE}"; \
    GOOS="${TARGETOS}" GOARCH="${TARGETARCH:-$(go env GOARCH)}" go build -trimpath -ldflags "-s -w" \
      -o /out/healthcheck ./deploy/cmd/healthcheck; \
    GOOS="${TARGETOS}" GOARCH="${TARGETARCH:-$(go env GOARCH)}" go build -trimpath -ldflags "-s -w" \
      -o /out/idsync-provision ./deploy/cmd/provision

FROM ${DISTROLESS_IMAGE}
ARG SERVICE
ARG VERSION=dev
LABEL org.opencontainers.image.title="idsync-${SERVICE}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.description="idsync ${SERVICE}: identity event hub service"
COPY --from=build /out/idsync-service /usr/local/bin/idsync-service
COPY --from=build /out/healthcheck /usr/local/bin/healthcheck
COPY --from=build /out/idsync-provision /usr/local/bin/idsync-provision
# The services default to 127.0.0.1:8080 (safe on a laptop); in a container
# they must listen on every interface to be reachable.
ENV IDSYNC_HTTP_ADDR=:8080
# 65532 is distroless's "nonroot"; numeric so that Kubernetes can verify
# runAsNonRoot without a passwd lookup.
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/idsync-service"]
