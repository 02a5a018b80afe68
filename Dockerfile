# syntax=docker/dockerfile:1
#
# storybot as a static binary on a distroless image: no shell, no package
# manager, runs as the unprivileged "nonroot" user (uid 65532). No secrets are
# baked in: the Discord token comes at run time from DISCORD_TOKEN or a
# mounted file (STORYBOT_DISCORD_TOKEN_FILE).
#
#   docker build -t storybot --build-arg VERSION=$(git describe --always) \
#     --build-arg REVISION=$(git rev-parse HEAD) .

FROM golang:1.26 AS build
WORKDIR /src
# Modules first, so editing code does not re-download them.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG REVISION=
# The same flags as TestStaticBinary in healthcheck_test.go: a static binary
# (no libc), with no local paths in it. The built-in story, the word vectors
# and the sentence encoder's weights are embedded by go:embed.
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X main.version=${VERSION} -X main.revision=${REVISION}" -o /out/storybot . \
 && mkdir -p /out/data /out/knowledge

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/storybot /storybot
# Owned by nonroot so a fresh named volume mounted here is writable.
COPY --from=build --chown=65532:65532 /out/data /data
COPY --from=build --chown=65532:65532 /out/knowledge /knowledge
# /data keeps the embedding cache and the last good index across restarts.
# /knowledge is where to mount a folder of stories; it is used only when
# STORYBOT_KNOWLEDGE_DIR=/knowledge is set, since an empty folder would
# leave nothing to answer from (the default is the built-in story).
VOLUME ["/data", "/knowledge"]
ENV STORYBOT_DATA_DIR=/data \
    STORYBOT_HTTP_METRICS_ADDR=:9090
USER nonroot:nonroot
# 8080: HTTP interactions (when STORYBOT_HTTP_INTERACTIONS_ADDR=:8080);
# 9090: /metrics, /healthz, /readyz.
EXPOSE 8080 9090
# No shell in the image, so the binary checks its own /healthz.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["/storybot", "healthcheck"]
ENTRYPOINT ["/storybot"]
CMD ["serve"]
