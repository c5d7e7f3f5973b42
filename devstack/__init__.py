"""The local stack: obtains the real services the platform runs on and starts them on loopback.

`python -m simptu.devstack --help` (or `make up|down|status|env|tools`) is the way in.
"""
