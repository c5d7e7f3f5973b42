// Drives the stock phoenix client for a Python test: one JSON command per stdin line, one JSON
// line per thing the client saw on stdout. Node 20 has no global WebSocket, so the `ws`
// package is the transport, as phoenix.js documents for Node.
import { createInterface } from "node:readline";
import { Socket, Presence } from "phoenix";
import WebSocket from "ws";

const EVENTS = ["message", "typing", "reply_delta", "reply", "function_call",
  "conversation_opened", "handoff_requested", "conversation_handed_back", "conversation_closed",
  "message_received"];
const sockets = new Map();
const channels = new Map();      // `${socket} ${topic}` -> channel
const lastEventIds = new Map();  // `${socket} ${topic}` -> newest event_id seen

const emit = (line) => process.stdout.write(JSON.stringify(line) + "\n");

// A transport that sends `host` as the Host header (an ingress controller routes by it).
const transportFor = (host) => (host ? class extends WebSocket {
  constructor(url, protocols) { super(url, protocols, { headers: { Host: host } }); }
} : WebSocket);

function connect({ socket: name, url, token, auth = "params", vsn, host }) {
  const options = { transport: transportFor(host), reconnectAfterMs: () => 200, heartbeatIntervalMs: 30000 };
  if (auth === "protocol") options.authToken = token; else options.params = { token };
  if (vsn === "1.0.0") {
    // The object frames of phoenix.js before 1.4: its encode/decode options take them.
    options.vsn = vsn;
    options.encode = (message, callback) => callback(JSON.stringify(message));
    options.decode = (raw, callback) => callback(JSON.parse(raw));
  }
  const socket = new Socket(url, options);
  socket.onOpen(() => emit({ type: "open", socket: name }));
  socket.onClose((event) => emit({ type: "close", socket: name, code: event && event.code }));
  socket.onError(() => emit({ type: "socket_error", socket: name }));
  socket.connect();
  sockets.set(name, socket);
}

function join({ socket: name, topic, resume = false }) {
  const key = `${name} ${topic}`;
  // phoenix.js evaluates params at every (re)join: a rejoin sends the newest id seen.
  const params = () => (resume && lastEventIds.has(key) ? { last_event_id: lastEventIds.get(key) } : {});
  const channel = sockets.get(name).channel(topic, params);
  for (const event of EVENTS) {
    channel.on(event, (payload) => {
      if (typeof payload.event_id === "number") lastEventIds.set(key, payload.event_id);
      emit({ type: "event", socket: name, topic, event, payload });
    });
  }
  const presence = new Presence(channel);
  presence.onSync(() => emit({ type: "presence", socket: name, topic,
    present: presence.list((id, { metas }) => ({ id, roles: metas.map((m) => m.role) })) }));
  channel.onError(() => emit({ type: "channel_error", socket: name, topic }));
  channels.set(key, channel);
  channel.join()
    .receive("ok", (response) => emit({ type: "join", socket: name, topic, status: "ok", response }))
    .receive("error", (response) => emit({ type: "join", socket: name, topic, status: "error", response }))
    .receive("timeout", () => emit({ type: "join", socket: name, topic, status: "timeout" }));
}

function push({ socket: name, topic, event, payload, tag }) {
  channels.get(`${name} ${topic}`).push(event, payload)
    .receive("ok", (response) => emit({ type: "reply", tag, status: "ok", response }))
    .receive("error", (response) => emit({ type: "reply", tag, status: "error", response }))
    .receive("timeout", () => emit({ type: "reply", tag, status: "timeout" }));
}

const commands = {
  connect,
  join,
  push,
  leave: ({ socket: name, topic }) => channels.get(`${name} ${topic}`).leave()
    .receive("ok", () => emit({ type: "left", socket: name, topic })),
  disconnect: ({ socket: name }) => sockets.get(name).disconnect(() => emit({ type: "disconnected", socket: name })),
  reconnect: ({ socket: name }) => sockets.get(name).connect(),
  exit: () => process.exit(0),
};

createInterface({ input: process.stdin }).on("line", (line) => {
  const command = JSON.parse(line);
  try {
    commands[command.op](command);
  } catch (error) {
    emit({ type: "driver_error", op: command.op, message: String(error) });
  }
});
emit({ type: "ready" });
