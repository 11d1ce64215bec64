# RCBU Console: one static binary (templates, static files and migrations are
# embedded) on a distroless, non-root base.
#
#   docker build -t rcbu-console .
#   docker run -p 8080:8080 -v rcbu-data:/data rcbu-console
#
# Without RCBU_USERNAME and RCBU_API_KEY the console runs in demo mode against
# its built-in simulator; the first admin's password is printed to the log.

FROM golang:1.27.3 AS build
WORKDIR /src
# Dependencies first, so that code changes reuse the module cache layer.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/rcbu-web ./cmd/web
# The database directory, owned by the distroless nonroot user (65532).
RUN mkdir -p /out/data && chown 65532:65532 /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/rcbu-web /rcbu-web
COPY --from=build --chown=65532:65532 /out/data /data
ENV RCBU_WEB_DB=/data/rcbu-web.db RCBU_WEB_ADDR=0.0.0.0:8080
VOLUME /data
EXPOSE 8080
USER nonroot:nonroot
# distroless has no shell or curl: the binary checks itself.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 CMD ["/rcbu-web", "-healthcheck"]
ENTRYPOINT ["/rcbu-web"]
