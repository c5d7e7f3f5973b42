"""The WebSocket hub: the Phoenix Channels protocol on port 4000, so the stock `phoenix` JS
client joins a customer's conversation (`chat:<session_id>`) or a tenant's staff inbox
(`inbox:<slug>`), sends messages to the agent and receives its streamed replies."""
