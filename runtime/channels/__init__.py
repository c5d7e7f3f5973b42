"""Channel adapters: the providers' webhook formats and signatures, and the senders that
deliver replies through their APIs. Thin: every message goes through the core's use cases
(`runtime/core/channels`, `runtime/core/chat`)."""
