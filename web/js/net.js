/**
 * Gateway connection: the native JSON WebSocket framing at `/gateway`.
 *
 * Owns one socket at a time and hides its churn from the views:
 *  - the envelope `{"event", "data", "ack"}`, with ack ids turned into promises;
 *  - a handshake callback (identify + join) run on every (re)connect before the connection
 *    counts as `online`;
 *  - reconnection with exponential back-off and jitter, capped at ~30 s, paused while the
 *    browser reports it is offline;
 *  - connection state reported as `connecting` | `online` | `reconnecting` | `offline`.
 *
 * It must not know about rooms, members or the DOM; events are handed to `onEvent` as they come.
 */

const BASE_DELAY_MS = 1000;
const MAX_DELAY_MS = 30000;
const REQUEST_TIMEOUT_MS = 15000;

/** A command that failed: the ack's error, or a local `disconnected` / `timeout` / `offline`. */
export class GatewayError extends Error {
  constructor(code, message, retryAfter = null) {
    super(message || code);
    this.name = 'GatewayError';
    this.code = code;
    /** Seconds to wait before trying again (`retry_after`), when the server says. */
    this.retryAfter = retryAfter;
  }
}

/** The gateway URL on this page's origin (`ws:` or `wss:` to match the page). */
export function gatewayUrl() {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/gateway`;
}

export class Gateway {
  #url;
  #handshake;
  #onEvent;
  #onState;
  #ws = null;
  #nextAck = 1;
  #pending = new Map();
  #attempt = 0;
  #timer = null;
  #stopped = true;
  #state = 'offline';
  #retryAt = null;
  #onlineWaiters = new Set();
  #listeners = null;

  /**
   * @param {object} options
   * @param {string} options.url WebSocket URL
   * @param {(gw: Gateway) => Promise<void>} options.handshake run after each open; throw to fail it
   * @param {(event: string, data: object) => void} options.onEvent server events
   * @param {(state: string, info: {retryAt: number|null}) => void} options.onState state changes
   */
  constructor({ url, handshake, onEvent, onState }) {
    this.#url = url;
    this.#handshake = handshake;
    this.#onEvent = onEvent;
    this.#onState = onState;
  }

  /** The current connection state. */
  get state() {
    return this.#state;
  }

  /** Opens the connection and keeps it open until `stop()`. */
  start() {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#attempt = 0;
    this.#addWindowListeners();
    this.#connect();
  }

  /** Closes the connection for good: no reconnect, pending commands fail with `disconnected`. */
  stop() {
    if (this.#stopped) return;
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = null;
    this.#removeWindowListeners();
    const ws = this.#ws;
    this.#ws = null;
    if (ws) {
      detach(ws);
      if (ws.readyState === WebSocket.CONNECTING || ws.readyState === WebSocket.OPEN) {
        ws.close(1000, 'client stopped');
      }
    }
    this.#failPending('disconnected', 'The connection was closed.');
    this.#failOnlineWaiters();
    this.#setState('offline');
  }

  /**
   * Sends a command with an ack id and resolves with the ack's `data`.
   * Rejects with a `GatewayError` carrying the server's code, or `offline` / `timeout` /
   * `disconnected` locally. Usable during the handshake, before the state is `online`.
   */
  request(event, data = {}, { timeoutMs = REQUEST_TIMEOUT_MS } = {}) {
    const ws = this.#ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) {
      return Promise.reject(new GatewayError('offline', 'Not connected.'));
    }
    const ack = this.#nextAck++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(ack);
        reject(new GatewayError('timeout', 'The server did not answer in time.'));
      }, timeoutMs);
      this.#pending.set(ack, { resolve, reject, timer });
      try {
        ws.send(JSON.stringify({ event, data, ack }));
      } catch {
        clearTimeout(timer);
        this.#pending.delete(ack);
        reject(new GatewayError('offline', 'Not connected.'));
      }
    });
  }

  /** Resolves once the state is `online`; rejects with `offline` after `timeoutMs` or on stop. */
  whenOnline(timeoutMs) {
    if (this.#state === 'online') return Promise.resolve();
    if (this.#stopped) return Promise.reject(new GatewayError('offline', 'Not connected.'));
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: () => { clearTimeout(waiter.timer); resolve(); },
        reject: () => { clearTimeout(waiter.timer); reject(new GatewayError('offline', 'Not connected.')); },
        timer: null,
      };
      waiter.timer = setTimeout(() => {
        this.#onlineWaiters.delete(waiter);
        waiter.reject();
      }, timeoutMs);
      this.#onlineWaiters.add(waiter);
    });
  }

  /** Skips the back-off wait and reconnects now (used when the network or tab comes back). */
  retryNow() {
    if (this.#stopped || this.#ws || !navigator.onLine) return;
    clearTimeout(this.#timer);
    this.#timer = null;
    this.#connect();
  }

  #connect() {
    this.#timer = null;
    this.#retryAt = null; // an attempt is under way: no countdown to show
    this.#setState(this.#attempt === 0 ? 'connecting' : 'reconnecting');
    let ws;
    try {
      ws = new WebSocket(this.#url);
    } catch {
      this.#scheduleReconnect();
      return;
    }
    this.#ws = ws;
    ws.onopen = () => this.#opened(ws);
    ws.onmessage = (message) => this.#received(ws, message);
    ws.onclose = () => this.#closed(ws);
    ws.onerror = () => {}; // always followed by `close`, handled there
  }

  async #opened(ws) {
    try {
      await this.#handshake(this);
    } catch {
      // The handshake owner decides about fatal failures (it may have called stop()).
      if (ws === this.#ws && !this.#stopped) ws.close(4000, 'handshake failed');
      return;
    }
    if (ws !== this.#ws || this.#stopped) return;
    this.#attempt = 0;
    this.#setState('online');
    for (const waiter of this.#onlineWaiters) waiter.resolve();
    this.#onlineWaiters.clear();
  }

  #received(ws, message) {
    if (ws !== this.#ws || typeof message.data !== 'string') return;
    let frame;
    try {
      frame = JSON.parse(message.data);
    } catch {
      return;
    }
    if (!frame || typeof frame !== 'object') return;

    if (typeof frame.event === 'string') {
      this.#onEvent(frame.event, frame.data && typeof frame.data === 'object' ? frame.data : {});
      return;
    }
    if (frame.ack !== undefined) {
      const pending = this.#pending.get(frame.ack);
      if (!pending) return;
      this.#pending.delete(frame.ack);
      clearTimeout(pending.timer);
      if (frame.ok) {
        pending.resolve(frame.data && typeof frame.data === 'object' ? frame.data : {});
      } else {
        const error = frame.error || {};
        const wait = Number.isFinite(error.retry_after) ? error.retry_after : null;
        pending.reject(new GatewayError(error.code || 'internal', error.message || '', wait));
      }
    }
  }

  #closed(ws) {
    if (ws !== this.#ws) return;
    detach(ws);
    this.#ws = null;
    this.#failPending('disconnected', 'The connection was lost.');
    if (!this.#stopped) this.#scheduleReconnect();
  }

  #scheduleReconnect() {
    if (!navigator.onLine) {
      // The `online` window event restarts us; no point burning attempts meanwhile.
      this.#setState('offline');
      return;
    }
    const ceiling = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** this.#attempt);
    this.#attempt += 1;
    // "Equal jitter": between half and all of the ceiling, so clients spread out after an
    // outage but never hammer the server with near-zero delays.
    const delay = Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
    this.#retryAt = Date.now() + delay;
    this.#setState('reconnecting');
    this.#timer = setTimeout(() => this.#connect(), delay);
  }

  #failPending(code, message) {
    for (const { reject, timer } of this.#pending.values()) {
      clearTimeout(timer);
      reject(new GatewayError(code, message));
    }
    this.#pending.clear();
  }

  #failOnlineWaiters() {
    for (const waiter of this.#onlineWaiters) waiter.reject();
    this.#onlineWaiters.clear();
  }

  #setState(state) {
    this.#state = state;
    this.#onState(state, { retryAt: state === 'reconnecting' ? this.#retryAt : null });
  }

  #addWindowListeners() {
    const wake = () => this.retryNow();
    const onVisible = () => {
      if (document.visibilityState === 'visible') this.retryNow();
    };
    const onOffline = () => {
      if (!this.#ws && !this.#stopped) {
        clearTimeout(this.#timer);
        this.#timer = null;
        this.#setState('offline');
      }
    };
    window.addEventListener('online', wake);
    window.addEventListener('offline', onOffline);
    document.addEventListener('visibilitychange', onVisible);
    this.#listeners = { wake, onVisible, onOffline };
  }

  #removeWindowListeners() {
    if (!this.#listeners) return;
    window.removeEventListener('online', this.#listeners.wake);
    window.removeEventListener('offline', this.#listeners.onOffline);
    document.removeEventListener('visibilitychange', this.#listeners.onVisible);
    this.#listeners = null;
  }
}

/** Drops a socket's handlers so a stale socket can never touch the current state. */
function detach(ws) {
  ws.onopen = null;
  ws.onmessage = null;
  ws.onclose = null;
  ws.onerror = null;
}
