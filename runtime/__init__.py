"""The shared runtimes of the platform: HTTP API, WebSocket hub and agent workers."""
