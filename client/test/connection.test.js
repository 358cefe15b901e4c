import assert from "node:assert/strict"
import { test } from "node:test"
import { Connection, STORAGE_KEY } from "../src/connection.js"
import { fakeFetch, fakeTransport, FakeClock } from "./fakes.js"

const SESSION = { protocol: 1, connectionId: "c1", token: "tok", transports: ["websocket", "sse", "longpoll"], heartbeat: 20 }

function setup({ registry, session = SESSION, failures = 0, refusals = 0, refusal, hang = false, storage = null, random = () => 0.5 } = {}) {
  const clock = new FakeClock()
  const fetch = fakeFetch(session, { failures, refusals, refusal, hang })
  const events = []
  const messages = []
  const states = []
  const connection = new Connection({
    url: "http://example.com/sockpuppet/",
    csrfToken: () => "csrf",
    registry,
    fetch,
    timers: clock,
    now: clock.now,
    random,
    storage,
    onmessage: (message) => messages.push(message),
    onopen: (info) => events.push(["open", info.transport, info.reconnected]),
    onclose: (info) => events.push(["close", info.transport]),
    onstate: (state) => states.push(state),
  })
  return { clock, fetch, events, messages, states, connection }
}

function memoryStorage() {
  const items = new Map()
  return {
    getItem: (key) => items.get(key) ?? null,
    setItem: (key, value) => items.set(key, value),
    removeItem: (key) => items.delete(key),
  }
}

test("negotiates, proves the first transport by ping/pong, opens", async () => {
  const websocket = fakeTransport("websocket", { answerPings: true })
  const { clock, fetch, events, states, connection } = setup({ registry: { websocket } })
  connection.start()
  await clock.advance(0)
  assert.equal(fetch.calls.length, 1)
  const { url, init } = fetch.calls[0]
  assert.equal(url, "http://example.com/sockpuppet/negotiate")
  assert.equal(init.method, "POST")
  assert.equal(init.credentials, "same-origin")
  assert.equal(init.headers["X-CSRFToken"], "csrf")
  assert.equal(init.body, "{}")
  assert.deepEqual(states, ["connecting", "probing", "open"])
  assert.equal(connection.transport, "websocket")
  assert.deepEqual(events, [["open", "websocket", false]])
  assert.equal(websocket.last.sent[0].type, "ping")
  assert.equal(websocket.last.context.token, "tok")
  assert.equal(websocket.last.context.since, "")
})

test("negotiate sends the CSRF token in the header the page's config names", async () => {
  const clock = new FakeClock()
  const fetch = fakeFetch(SESSION)
  const websocket = fakeTransport("websocket", { answerPings: true })
  const connection = new Connection({
    url: "http://example.com/sockpuppet/",
    csrfToken: () => "csrf",
    csrfHeader: "X-Xsrf-Token",
    registry: { websocket },
    fetch,
    timers: clock,
  })
  connection.start()
  await clock.advance(0)
  const { headers } = fetch.calls[0].init
  assert.equal(headers["X-Xsrf-Token"], "csrf")
  assert.equal(headers["X-CSRFToken"], undefined)
})

test("a transport without a pong in time is dropped for the next one", async () => {
  const websocket = fakeTransport("websocket") // silent: a proxy that swallows it
  const sse = fakeTransport("sse", { answerPings: true })
  const { clock, connection, events } = setup({ registry: { websocket, sse } })
  connection.start()
  await clock.advance(2999)
  assert.equal(connection.state, "probing")
  await clock.advance(1)
  assert.equal(websocket.last.closed, true)
  assert.equal(connection.transport, "sse")
  assert.deepEqual(events, [["open", "sse", false]])
})

test("a pong with another id does not prove the transport", async () => {
  const websocket = fakeTransport("websocket")
  const { clock, connection } = setup({ registry: { websocket } })
  connection.start()
  await clock.advance(0)
  websocket.last.deliver({ type: "pong", id: "not-mine" })
  assert.equal(connection.state, "probing")
  websocket.last.deliver({ type: "pong", id: websocket.last.sent[0].id })
  await clock.advance(0)
  assert.equal(connection.state, "open")
})

test("the page narrows the list, in its own order, within what the server offers", async () => {
  const websocket = fakeTransport("websocket", { answerPings: true })
  const sse = fakeTransport("sse", { answerPings: true })
  const longpoll = fakeTransport("longpoll", { answerPings: true })
  const { clock, connection } = setup({
    registry: { websocket, sse, longpoll },
    session: { ...SESSION, transports: ["websocket", "sse"] },
  })
  connection.start(["longpoll", "sse", "websocket"])
  await clock.advance(0)
  assert.equal(connection.transport, "sse")
  assert.equal(longpoll.opened.length, 0)
})

test("no usable transport closes the connection", async (t) => {
  t.mock.method(console, "error", () => {})
  const websocket = fakeTransport("websocket", { answerPings: true })
  const { clock, connection } = setup({ registry: { websocket } })
  connection.start(["sse"])
  await clock.advance(0)
  assert.equal(connection.state, "closed")
})

test("a lost connection reconnects with backoff, the same token and the cursor", async () => {
  const websocket = fakeTransport("websocket", { answerPings: true })
  const { clock, fetch, connection, events, messages } = setup({ registry: { websocket }, random: () => 0.999 })
  connection.start()
  await clock.advance(0)
  websocket.last.deliver({ type: "operations", operations: [], stream: "c.c1", position: 4 })
  websocket.last.drop({ code: 1006 })
  assert.equal(connection.state, "reconnecting")
  assert.equal(connection.send({ type: "reflex" }), false)
  await clock.advance(248)
  assert.equal(websocket.opened.length, 1)
  await clock.advance(2)
  assert.equal(websocket.opened.length, 2)
  assert.equal(websocket.last.context.since, '{"c.c1":4}')
  assert.equal(websocket.last.context.token, "tok")
  assert.equal(fetch.calls.length, 1, "the token is kept")
  assert.deepEqual(events, [["open", "websocket", false], ["close", "websocket"], ["open", "websocket", true]])
  assert.equal(messages.length, 1)
})

test("duplicates replayed after a reconnect are dropped", async () => {
  const websocket = fakeTransport("websocket", { answerPings: true })
  const { clock, connection, messages } = setup({ registry: { websocket }, random: () => 0 })
  connection.start()
  await clock.advance(0)
  websocket.last.deliver({ type: "nothing", reflexId: "r1", stream: "c.c1", position: 1 })
  websocket.last.drop({})
  await clock.advance(0)
  websocket.last.deliver({ type: "nothing", reflexId: "r1", stream: "c.c1", position: 1 })
  websocket.last.deliver({ type: "halted", reflexId: "r2", stream: "c.c1", position: 2 })
  assert.deepEqual(messages.map((m) => m.position), [1, 2])
})

test("messages replayed while probing are delivered", async () => {
  const websocket = fakeTransport("websocket")
  const { clock, connection, messages } = setup({ registry: { websocket } })
  connection.start()
  await clock.advance(0)
  websocket.last.deliver({ type: "nothing", reflexId: "r1", stream: "c.c1", position: 1 })
  assert.equal(connection.state, "probing")
  assert.equal(messages.length, 1)
})

test("close code 4001 (fatal) negotiates a new token", async () => {
  const websocket = fakeTransport("websocket", { answerPings: true })
  const { clock, fetch, connection } = setup({ registry: { websocket }, random: () => 0 })
  connection.start()
  await clock.advance(0)
  websocket.last.drop({ code: 4001, fatal: true })
  await clock.advance(0)
  assert.equal(fetch.calls.length, 2)
  assert.equal(connection.state, "open")
})

test("a reconnect is renewed only when the connection id changed", async () => {
  const websocket = fakeTransport("websocket", { answerPings: true })
  const session = (n) => ({ ...SESSION, connectionId: `c${n}`, token: `tok${n}` })
  const { clock, events, connection } = setup({ registry: { websocket }, session, random: () => 0 })
  const opened = []
  connection.onopen = (info) => opened.push([info.reconnected, info.renewed])
  connection.start()
  await clock.advance(0)
  websocket.last.drop({ code: 1006 }) // the same token again
  await clock.advance(0)
  websocket.last.drop({ code: 4001, fatal: true }) // a new one
  await clock.advance(0)
  assert.deepEqual(opened, [[false, false], [true, false], [true, true]])
  assert.equal(events.length, 2) // the closes
})

test("negotiate failures are retried with growing backoff", async () => {
  const websocket = fakeTransport("websocket", { answerPings: true })
  const { clock, fetch, connection } = setup({ registry: { websocket }, failures: 3, random: () => 0.999 })
  connection.start()
  await clock.advance(0)
  assert.equal(connection.state, "reconnecting")
  await clock.advance(249) // 1st retry: ceiling 250
  assert.equal(fetch.calls.length, 2)
  await clock.advance(499) // 2nd: ceiling 500
  assert.equal(fetch.calls.length, 3)
  await clock.advance(999) // 3rd: ceiling 1000
  assert.equal(fetch.calls.length, 4)
  assert.equal(connection.state, "open")
})

test("connecting again while a negotiate is under way waits for it, not for another", async () => {
  const websocket = fakeTransport("websocket", { answerPings: true })
  const { clock, fetch, connection } = setup({ registry: { websocket } })
  connection.start()
  connection.start(["websocket"])
  await clock.advance(0)
  assert.equal(fetch.calls.length, 1)
  assert.equal(connection.state, "open")
})

/** What `run` logged with console.error, each call's arguments joined. */
async function consoleErrorsOf(run, level = "error") {
  const reported = []
  const original = console[level]
  console[level] = (...args) => reported.push(args.join(" "))
  try {
    await run()
  } finally {
    console[level] = original
  }
  return reported
}

test("a page no transport connects says so once in the console, and again after it connected", async () => {
  // Regression (client audit): with every transport refused (a proxy), nothing was said
  // without debug; the page waited silently and its clicks failed 30 s later.
  const websocket = fakeTransport("websocket", { refuse: true })
  const sse = fakeTransport("sse", { refuse: true })
  const { clock, connection } = setup({ registry: { websocket, sse } })
  const first = await consoleErrorsOf(async () => {
    connection.start()
    await clock.advance(30000)
  }, "warn")
  assert.ok(websocket.opened.length > 2)
  assert.deepEqual(first, ["[sockpuppet] no transport worked (websocket, sse); retrying in the background"])
  websocket.behaviour.refuse = false
  websocket.behaviour.answerPings = true
  const again = await consoleErrorsOf(async () => {
    await clock.advance(20000)
    assert.equal(connection.state, "open")
    websocket.behaviour.refuse = true
    websocket.last.drop({ code: 1006 })
    await clock.advance(30000)
  }, "warn")
  assert.equal(again.length, 1)
})

test("a refused negotiate is reported once, with the server's reason, and retried", async () => {
  const websocket = fakeTransport("websocket", { answerPings: true })
  const { clock, fetch, connection } = setup({ registry: { websocket }, failures: 1, refusals: 3, random: () => 0 })
  const reported = await consoleErrorsOf(async () => {
    connection.start()
    for (let i = 0; i < 5; i++) await clock.advance(0)
  })
  assert.equal(fetch.calls.length, 5)
  assert.equal(connection.state, "open")
  assert.deepEqual(reported, [
    "[sockpuppet] the server refused to connect this page, retrying: negotiate answered HTTP 403: CSRF check failed: CSRF token incorrect.",
  ])
})

test("a negotiate Django answers with its 404 says the site runs without Sockpuppet's ASGI application", async () => {
  const websocket = fakeTransport("websocket", { answerPings: true })
  const notFound = { status: 404, json: async () => { throw new SyntaxError("not JSON") } }
  const { clock, connection } = setup({ registry: { websocket }, refusals: 1, refusal: notFound, random: () => 0 })
  const reported = await consoleErrorsOf(async () => {
    connection.start()
    for (let i = 0; i < 3; i++) await clock.advance(0)
  })
  assert.equal(reported.length, 1)
  assert.match(reported[0], /negotiate answered HTTP 404: is the site served by sockpuppet\.asgi\.get_asgi_application\(\).*manage\.py runserver serves Django only/)
})

test("a negotiate that never answers is given up after 10 s and retried", async () => {
  const websocket = fakeTransport("websocket", { answerPings: true })
  const { clock, fetch, connection } = setup({ registry: { websocket }, hang: true, random: () => 0 })
  connection.start()
  await clock.advance(9999)
  assert.equal(connection.state, "connecting")
  await clock.advance(1)
  assert.equal(fetch.calls.length, 2)
  assert.equal(connection.state, "open")
})

test("silence longer than 2.5 heartbeats counts as a dead connection", async () => {
  const websocket = fakeTransport("websocket", { answerPings: true })
  const { clock, connection } = setup({ registry: { websocket }, random: () => 0 })
  connection.start()
  await clock.advance(0)
  await clock.advance(40000)
  websocket.last.deliver({ type: "heartbeat" })
  await clock.advance(49999)
  assert.equal(connection.state, "open")
  await clock.advance(1)
  assert.equal(websocket.opened[0].closed, true)
  assert.equal(websocket.opened.length, 2)
})

test("heardSince tells whether the server said anything since; replace() drops the open transport", async () => {
  const websocket = fakeTransport("websocket", { answerPings: true })
  const { clock, events, connection } = setup({ registry: { websocket }, random: () => 0 })
  connection.start()
  await clock.advance(0)
  await clock.advance(1000)
  const sentAt = clock.now()
  assert.equal(connection.heardSince(sentAt), false)
  await clock.advance(500)
  websocket.last.deliver({ type: "heartbeat" })
  assert.equal(connection.heardSince(sentAt), true)
  connection.replace("silent while reflexes waited")
  assert.equal(websocket.opened[0].closed, true)
  assert.deepEqual(events.at(-1), ["close", "websocket"])
  await clock.advance(5000)
  assert.equal(websocket.opened.length, 2)
  assert.equal(connection.state, "open")
})

test("wake() retries at once instead of waiting out the backoff", async () => {
  const websocket = fakeTransport("websocket", { answerPings: true })
  const { clock, fetch, connection } = setup({ registry: { websocket }, failures: 1, random: () => 0.999 })
  connection.start()
  await clock.advance(0)
  assert.equal(connection.state, "reconnecting")
  connection.wake()
  await clock.advance(0)
  assert.equal(fetch.calls.length, 2)
  assert.equal(connection.state, "open")
})

test("wake() on an open transport that died silently replaces it once a ping goes unanswered", async () => {
  // Regression (client audit): after a network change the browser fired `online`, the
  // socket looked open and was dead, and the next click waited ~35 s for the watchdog.
  const websocket = fakeTransport("websocket", { answerPings: true })
  const { clock, connection } = setup({ registry: { websocket } })
  connection.start()
  await clock.advance(0)
  await clock.advance(1000)
  websocket.behaviour.answerPings = false // the network dropped it without a word
  connection.wake()
  assert.equal(websocket.last.sent.at(-1).type, "ping")
  await clock.advance(2999)
  assert.equal(websocket.opened[0].closed, false)
  await clock.advance(1)
  assert.equal(websocket.opened[0].closed, true)
  websocket.behaviour.answerPings = true
  await clock.advance(10000)
  assert.equal(websocket.opened.length, 2)
  assert.equal(connection.state, "open")
})

test("wake() on a live transport keeps it: its ping is answered", async () => {
  const websocket = fakeTransport("websocket", { answerPings: true })
  const { clock, events, connection } = setup({ registry: { websocket } })
  connection.start()
  await clock.advance(0)
  connection.wake()
  connection.wake() // one check at a time
  assert.equal(websocket.last.sent.filter((m) => m.id && m.id.startsWith("wake-")).length, 1)
  await clock.advance(5000)
  assert.equal(websocket.opened.length, 1)
  assert.deepEqual(events, [["open", "websocket", false]])
})

test("wake() while reconnecting starts the backoff over", async () => {
  const websocket = fakeTransport("websocket", { refuse: true })
  const { clock, connection } = setup({ registry: { websocket }, random: () => 0.999 })
  connection.start()
  await clock.advance(60000) // attempts pile up: each wait longer
  assert.ok(connection.attempt > 3)
  connection.wake()
  await clock.advance(0)
  assert.equal(connection.attempt, 1) // the next wait is the first one's
})

test("the working transport is remembered and tried first", async () => {
  const storage = memoryStorage()
  storage.setItem(STORAGE_KEY, "sse")
  const websocket = fakeTransport("websocket", { answerPings: true })
  const sse = fakeTransport("sse", { answerPings: true })
  const { clock, connection } = setup({ registry: { websocket, sse }, storage })
  connection.start()
  await clock.advance(0)
  assert.equal(connection.transport, "sse")
  assert.equal(websocket.opened.length, 0)
})

test("a refused transport falls through at once; success is remembered", async () => {
  const storage = memoryStorage()
  const websocket = fakeTransport("websocket", { refuse: true })
  const sse = fakeTransport("sse", { answerPings: true })
  const { clock, connection } = setup({ registry: { websocket, sse }, storage })
  connection.start()
  await clock.advance(0)
  assert.equal(clock.now(), 0)
  assert.equal(connection.transport, "sse")
  assert.equal(storage.getItem(STORAGE_KEY), "sse")
})

test("a page narrowed to its first choice leaves the tab's memory alone", async () => {
  // Regression: a page forcing long-poll (the demo's ?transport=longpoll) made every later
  // page of the tab try long-poll first, and settle on it, though WebSockets worked.
  const storage = memoryStorage()
  const websocket = fakeTransport("websocket", { answerPings: true })
  const longpoll = fakeTransport("longpoll", { answerPings: true })
  const forced = setup({ registry: { websocket, longpoll }, storage })
  forced.connection.start(["longpoll"])
  await forced.clock.advance(0)
  assert.equal(forced.connection.transport, "longpoll")
  assert.equal(storage.getItem(STORAGE_KEY), null)

  const next = setup({ registry: { websocket, longpoll }, storage })
  next.connection.start()
  await next.clock.advance(0)
  assert.equal(next.connection.transport, "websocket")

  storage.setItem(STORAGE_KEY, "sse")
  const other = setup({ registry: { websocket, longpoll }, storage })
  other.connection.start(["longpoll"])
  await other.clock.advance(0)
  assert.equal(storage.getItem(STORAGE_KEY), "sse", "a memory this page did not allow stays")
})

test("a remembered transport that fails is forgotten when the first choice works", async () => {
  const storage = memoryStorage()
  storage.setItem(STORAGE_KEY, "sse")
  const websocket = fakeTransport("websocket", { answerPings: true })
  const sse = fakeTransport("sse", { refuse: true })
  const { clock, connection } = setup({ registry: { websocket, sse }, storage })
  connection.start()
  await clock.advance(0)
  assert.equal(sse.opened.length, 1)
  assert.equal(connection.transport, "websocket")
  assert.equal(storage.getItem(STORAGE_KEY), null)
})

test("stop() closes; start() again reconnects; nothing stale survives", async () => {
  const websocket = fakeTransport("websocket", { answerPings: true })
  const { clock, connection, events } = setup({ registry: { websocket } })
  connection.start()
  await clock.advance(0)
  connection.stop()
  assert.equal(connection.state, "closed")
  assert.equal(connection.transport, null)
  assert.equal(websocket.last.closed, true)
  assert.equal(clock.pending, 0)
  connection.start()
  await clock.advance(0)
  assert.equal(connection.state, "open")
  assert.deepEqual(events.map((e) => e[0]), ["open", "close", "open"])
})

test("stop() while negotiating abandons the attempt", async () => {
  const websocket = fakeTransport("websocket", { answerPings: true })
  const { clock, connection } = setup({ registry: { websocket } })
  connection.start()
  connection.stop()
  await clock.advance(5000)
  assert.equal(connection.state, "closed")
  assert.equal(websocket.opened.length, 0)
})

test("start() with other transports while probing restarts cleanly", async () => {
  const websocket = fakeTransport("websocket")
  const sse = fakeTransport("sse", { answerPings: true })
  const { clock, connection } = setup({ registry: { websocket, sse } })
  connection.start()
  await clock.advance(100)
  assert.equal(connection.state, "probing")
  connection.start(["sse"])
  await clock.advance(0)
  assert.equal(websocket.last.closed, true)
  assert.equal(connection.transport, "sse")
  await clock.advance(10000)
  assert.equal(connection.transport, "sse")
})

test("positions of pongs count too (the server makes answers durable, pongs included)", async () => {
  const websocket = fakeTransport("websocket")
  const { clock, connection, messages } = setup({ registry: { websocket }, random: () => 0 })
  connection.start()
  await clock.advance(0)
  websocket.last.deliver({ type: "pong", id: websocket.last.sent[0].id, stream: "c.c1", position: 1 })
  await clock.advance(0)
  assert.equal(connection.state, "open")
  websocket.last.drop({})
  await clock.advance(0)
  assert.equal(websocket.last.context.since, '{"c.c1":1}')
  websocket.last.deliver({ type: "pong", id: websocket.opened[0].sent[0].id, stream: "c.c1", position: 1 })
  assert.equal(connection.state, "probing", "a replayed old pong proves nothing")
  assert.deepEqual(messages, [])
})

test("resync sets its stream's position, even backwards, and is delivered", async () => {
  const websocket = fakeTransport("websocket", { answerPings: true })
  const { clock, connection, messages } = setup({ registry: { websocket }, random: () => 0 })
  connection.start()
  await clock.advance(0)
  websocket.last.deliver({ type: "nothing", reflexId: "r1", stream: "c.c1", position: 9 })
  websocket.last.deliver({ type: "resync", reason: "restarted", stream: "c.c1", position: 2 })
  websocket.last.deliver({ type: "halted", reflexId: "r2", stream: "c.c1", position: 3 })
  assert.deepEqual(messages.map((m) => m.type), ["nothing", "resync", "halted"])
  assert.deepEqual(connection.cursor.positions, { "c.c1": 3 })
})

test("each transport opens with the page's named streams of that moment", async () => {
  const websocket = fakeTransport("websocket", { answerPings: true })
  const names = ["room:1"]
  const clock = new FakeClock()
  const opened = []
  const connection = new Connection({
    url: "http://example.com/sockpuppet/",
    registry: { websocket },
    fetch: fakeFetch(SESSION),
    timers: clock,
    now: clock.now,
    random: () => 0,
    streams: () => names,
    onopen: (info) => opened.push(info.streams),
  })
  connection.start()
  await clock.advance(0)
  names.push("room:2")
  websocket.last.drop({})
  await clock.advance(0)
  assert.deepEqual(websocket.opened.map((handle) => handle.streams), [["room:1"], ["room:1", "room:2"]])
  assert.deepEqual(opened, [["room:1"], ["room:1", "room:2"]])
})

test("a welcome heartbeat's since adds the streams the server follows", async () => {
  const websocket = fakeTransport("websocket", { answerPings: true })
  const { clock, connection, messages } = setup({ registry: { websocket }, random: () => 0 })
  connection.start()
  await clock.advance(0)
  websocket.last.deliver({ type: "nothing", reflexId: "r1", stream: "c.c1", position: 4 })
  websocket.last.deliver({ type: "heartbeat", since: { "c.c1": 2, "s.abc": 7, "u.1": 0 } })
  assert.deepEqual(connection.cursor.positions, { "c.c1": 4, "s.abc": 7, "u.1": 0 })
  assert.equal(messages.at(-1).type, "heartbeat")
})

test("stop() before start() closes; start() then connects", async () => {
  const websocket = fakeTransport("websocket", { answerPings: true })
  const { clock, connection, states } = setup({ registry: { websocket } })
  connection.stop()
  connection.stop()
  assert.equal(connection.state, "closed")
  connection.start()
  await clock.advance(0)
  assert.deepEqual(states, ["closed", "connecting", "probing", "open"])
})

test("messages right behind the pong in the same chunk are not dropped (SSE catch-up)", async () => {
  // Regression: the probe's pong and the catch-up after it arrive in one SSE chunk, parsed
  // in one go; the handle became current only after an await, so the messages in between
  // were dropped and the cursor then skipped past them.
  const sse = fakeTransport("sse")
  const { clock, connection, messages } = setup({ registry: { sse } })
  connection.start()
  await clock.advance(0)
  const pong = { type: "pong", id: sse.last.sent[0].id, stream: "c.c1", position: 1 }
  sse.last.deliver(pong)
  sse.last.deliver({ type: "operations", operations: [], stream: "n.feed", position: 7 })
  await clock.advance(0)
  sse.last.deliver({ type: "operations", operations: [], stream: "n.feed", position: 8 })
  assert.deepEqual(messages.map((m) => m.position), [7, 8])
})
