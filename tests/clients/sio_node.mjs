#!/usr/bin/env node
// Parlor over Socket.IO with the official `socket.io-client` (v4) in Node.
//
// Usage: node sio_node.mjs BASE_URL        (e.g. http://127.0.0.1:38211)
//
// Passes: websocket only, polling only, then mixed (one websocket client and one polling
// client in the same lobby, each seeing the other's messages). Every command is
// `socket.timeout(5000).emitWithAck(...)`; every wait is bounded, and a watchdog ends the run
// after 28 s. Prints one line per check; exits 0 when all pass, 1 on the first failed check,
// 2 on bad usage, 3 on overrun. Needs `npm ci` in tests/clients.

import { io } from 'socket.io-client';

const WAIT_MS = 5000;
const DEADLINE_MS = 28000;
const ROOM = 'lobby';

class CheckFailed extends Error {}

const log = (line) => console.log(line);

function check(cond, what, detail) {
  if (!cond) {
    throw new CheckFailed(`${what}${detail === undefined ? '' : ` (got: ${JSON.stringify(detail)})`}`);
  }
  log(`  ok - ${what}`);
}

function expectOk(reply, what) {
  check(reply && reply.ok === true && reply.data && typeof reply.data === 'object',
    `${what} -> ok with data`, reply);
  return reply.data;
}

function expectError(reply, code, what) {
  check(reply && reply.ok === false && reply.error && reply.error.code === code
      && typeof reply.error.message === 'string',
    `${what} -> error ${code}`, reply);
}

const names = (users) => (Array.isArray(users) ? users.map((u) => u && u.name) : []);
const digits = (n) => String(Math.floor(Math.random() * 10 ** n)).padStart(n, '0');
// 1–20 chars of [A-Za-z0-9_-], mixed case so that swapping case gives another spelling.
const unique = (prefix) => `${prefix}${digits(6)}`;
const swapCase = (s) => [...s].map((ch) => (ch === ch.toLowerCase() ? ch.toUpperCase() : ch.toLowerCase())).join('');

/** A socket.io-client socket that records every server event for bounded waits. */
class Client {
  constructor(label, socket) {
    this.label = label;
    this.socket = socket;
    this.events = [];
    this.waiters = new Set();
    socket.onAny((event, data) => {
      this.events.push({ event, data });
      for (const wake of this.waiters) wake();
    });
  }

  static async connect(label, url, transports, auth) {
    const socket = io(url, {
      transports,
      forceNew: true,
      reconnection: false,
      timeout: WAIT_MS,
      ...(auth ? { auth } : {}),
    });
    const client = new Client(label, socket);
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new CheckFailed(`${label}: no connect within ${WAIT_MS} ms`)), WAIT_MS);
      socket.once('connect', () => { clearTimeout(timer); resolve(); });
      socket.once('connect_error', (err) => {
        clearTimeout(timer);
        reject(new CheckFailed(`${label}: connect over ${transports} failed: ${err && err.message}`));
      });
    });
    check(socket.connected, `${label}: connected over ${transports} (transport=${socket.io.engine.transport.name})`);
    return client;
  }

  async call(command, data) {
    try {
      return await this.socket.timeout(WAIT_MS).emitWithAck(command, data);
    } catch (err) {
      throw new CheckFailed(`${this.label}: no ack for '${command}' within ${WAIT_MS} ms (${err && err.message})`);
    }
  }

  mark() {
    return this.events.length;
  }

  /** Waits for `event` (received at index >= since) whose data fits `pred`. */
  waitEvent(event, pred, what, since = 0, timeoutMs = WAIT_MS) {
    const find = () => this.events.slice(since).find((e) => e.event === event && e.data && typeof e.data === 'object' && pred(e.data));
    return new Promise((resolve, reject) => {
      const done = (hit) => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        log(`  ok - ${what}`);
        resolve(hit.data);
      };
      const wake = () => {
        const hit = find();
        if (hit) done(hit);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(wake);
        const last = this.events.slice(since).slice(-6);
        reject(new CheckFailed(`${what}: no matching '${event}' event within ${timeoutMs} ms; last events: ${JSON.stringify(last)}`));
      }, timeoutMs);
      this.waiters.add(wake);
      wake();
    });
  }

  close() {
    this.socket.disconnect();
  }
}

async function scenario(url, transportsA, transportsB, tag) {
  log(`== pass: A transports=${JSON.stringify(transportsA)}, B transports=${JSON.stringify(transportsB)}`);
  const nickA = unique(`No${tag}a`);
  const nickB = unique(`No${tag}b`);
  const nickC = unique(`No${tag}c`);
  const clients = [];
  const client = async (label, transports, auth) => {
    const c = await Client.connect(label, url, transports, auth);
    clients.push(c);
    return c;
  };

  try {
    const a = await client(`A[${nickA}]`, transportsA);
    const b = await client(`B[${nickB}]`, transportsB);

    // identify
    const dataA = expectOk(await a.call('identify', { nick: nickA }), 'A identify with a nick');
    check(dataA.user && dataA.user.name === nickA, 'A identify: data.user.name is the nick', dataA.user);
    check(dataA.user.kind === 'guest', 'A identify: data.user.kind is guest', dataA.user);
    const tokenA = dataA.token;
    check(typeof tokenA === 'string' && tokenA !== '', 'A identify: data.token is a non-empty string', tokenA);
    const dataB = expectOk(await b.call('identify', { nick: nickB }), 'B identify with a nick');
    check(dataB.user && dataB.user.name === nickB, 'B identify: data.user.name is the nick', dataB.user);
    check(typeof dataB.token === 'string' && dataB.token !== '', 'B identify: data.token is a non-empty string', dataB.token);
    expectError(await a.call('identify', { nick: unique('Noz') }), 'already_identified', 'A identify a second time');

    // join
    const joinedA = expectOk(await a.call('join', { room: ROOM }), 'A join lobby');
    check(joinedA.room === ROOM, 'A join: data.room is lobby', joinedA);
    check(names(joinedA.members).includes(nickA), 'A join: members contain A', joinedA.members);
    let markA = a.mark();
    const joinedB = expectOk(await b.call('join', { room: ROOM }), 'B join lobby');
    check(names(joinedB.members).includes(nickB), 'B join: members contain B', joinedB.members);
    check(names(joinedB.members).includes(nickA), 'B join: members contain A (already present)', joinedB.members);
    await a.waitEvent('member_joined', (d) => d.room === ROOM && d.user && d.user.name === nickB,
      'A receives member_joined for B', markA);
    expectError(await a.call('join', { room: `nowhere${tag}` }), 'not_found', 'A (a guest) join a room that does not exist');

    // A -> B
    const text = `hello from node ${tag}`;
    markA = a.mark();
    let markB = b.mark();
    const sent = expectOk(await a.call('send', { room: ROOM, text }), 'A send to lobby');
    check(typeof sent.id === 'string' && sent.id !== '', 'A send: ack has a string id', sent);
    check(Number.isFinite(sent.ts) && sent.ts > 1.5e12, 'A send: ack has a millisecond ts', sent);
    const got = await b.waitEvent('message', (d) => d.text === text, 'B receives the message event', markB);
    check(got.author && got.author.name === nickA, 'B message: author.name is A', got);
    check(got.id === sent.id, "B message: same id as A's ack", got);
    check(got.room === ROOM && got.ts === sent.ts, 'B message: room lobby and same ts as the ack', got);
    await a.waitEvent('message', (d) => d.id === sent.id, 'A (the sender) receives its own message event', markA);

    // B -> A
    markA = a.mark();
    const reply = `reply from node ${tag}`;
    const sentB = expectOk(await b.call('send', { room: ROOM, text: `  ${reply}  ` }), 'B send (padded text)');
    const gotA = await a.waitEvent('message', (d) => d.text === reply && d.author && d.author.name === nickB,
      "A receives B's message, trimmed", markA);
    check(gotA.id === sentB.id, "A message: same id as B's ack", gotA);

    // error cases on an identified, joined client
    expectError(await a.call('send', { room: ROOM, text: '   ' }), 'empty_message', 'A send whitespace-only text');
    expectError(await a.call('send', { room: ROOM, text: 'x'.repeat(501) }), 'message_too_long', 'A send 501 characters');
    expectError(await a.call('send', { room: `nowhere${tag}`, text: 'hi' }), 'not_found', 'A (a guest) send to a room that does not exist');

    // fresh client: unauthenticated, nick_taken (other case), not_in_room before join
    const c = await client(`C[${nickC}]`, transportsB);
    expectError(await c.call('send', { room: ROOM, text: 'too early' }), 'unauthenticated', 'C send before identify');
    expectError(await c.call('identify', { nick: swapCase(nickA) }), 'nick_taken',
      `C identify as '${swapCase(nickA)}' (A's nick, other case)`);
    expectOk(await c.call('identify', { nick: nickC }), 'C identify with its own nick afterwards');
    expectError(await c.call('send', { room: ROOM, text: 'not joined' }), 'not_in_room', 'C send before join');
    c.close();

    // the token restores A's identity on a second connection (connect auth, identify {})
    const t1 = await client(`A-tab2[${nickA}]`, transportsB, { token: tokenA });
    const restored = expectOk(await t1.call('identify', {}), 'second connection with auth.token: identify {}');
    check(restored.user && restored.user.name === nickA, 'second connection: same user name as A', restored);
    t1.close();

    // A leaves: B gets member_left
    markB = b.mark();
    a.close();
    await b.waitEvent('member_left', (d) => d.room === ROOM && d.user && d.user.name === nickA,
      'B receives member_left for A after A disconnects', markB);

    // reconnect after the disconnect: identity restored, back in the lobby
    const t2 = await client(`A-again[${nickA}]`, transportsA, { token: tokenA });
    const again = expectOk(await t2.call('identify', {}), 'reconnect with auth.token after disconnect: identify {}');
    check(again.user && again.user.name === nickA, 'reconnect: same user name as A', again);
    markB = b.mark();
    const rejoined = expectOk(await t2.call('join', { room: ROOM }), 'reconnected A joins lobby');
    check(names(rejoined.members).includes(nickB), 'reconnected A sees B in members', rejoined.members);
    await b.waitEvent('member_joined', (d) => d.user && d.user.name === nickA,
      'B receives member_joined for the reconnected A', markB);
    const markT2 = t2.mark();
    const last = `back again ${tag}`;
    expectOk(await t2.call('send', { room: ROOM, text: last }), 'reconnected A sends');
    await b.waitEvent('message', (d) => d.text === last && d.author && d.author.name === nickA,
      "B receives the reconnected A's message", markB);
    await t2.waitEvent('message', (d) => d.text === last, 'reconnected A receives its own message', markT2);
  } finally {
    for (const c of clients) c.close();
  }
  // The disconnects (an HTTP request each, for polling) have reached the server once it lists
  // none of this pass's names any more.
  await offline(url, [nickA, nickB, nickC]);
}

/** Waits (bounded) until `GET /api/online` lists none of `nicks`. */
async function offline(url, nicks) {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const response = await fetch(`${url}/api/online`);
    if (response.status !== 200) throw new CheckFailed(`GET /api/online answered ${response.status}`);
    const body = await response.json();
    const still = body.online_clients.filter((name) => nicks.includes(name));
    if (still.length === 0) {
      log(`  ok - the server saw ${nicks.join(', ')} disconnect`);
      return;
    }
    if (Date.now() > deadline) {
      throw new CheckFailed(`still online ${WAIT_MS} ms after disconnecting: ${JSON.stringify(still)}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function main() {
  const base = process.argv[2];
  if (!base || !/^https?:\/\//.test(base)) {
    console.error('usage: node sio_node.mjs BASE_URL   (e.g. http://127.0.0.1:38211)');
    process.exit(2);
  }
  const url = base.replace(/\/+$/, '');
  const watchdog = setTimeout(() => {
    console.log(`FAIL: sio_node.mjs did not finish within ${DEADLINE_MS} ms`);
    process.exit(3);
  }, DEADLINE_MS);

  const started = Date.now();
  log(`socket.io-client (Node ${process.version}) against ${url}`);
  const run = digits(2);
  try {
    await scenario(url, ['websocket'], ['websocket'], `W${run}`);
    await scenario(url, ['polling'], ['polling'], `P${run}`);
    await scenario(url, ['websocket'], ['polling'], `M${run}`);
  } catch (err) {
    console.log(`FAIL: ${err instanceof CheckFailed ? err.message : `unexpected ${err && err.stack}`}`);
    process.exit(1);
  }
  clearTimeout(watchdog);
  log(`all checks passed in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  process.exit(0);
}

main();
