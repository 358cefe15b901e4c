import assert from "node:assert/strict"
import { test } from "node:test"
import { httpEndpoint, refusal, Sender } from "../src/transports/http.js"
import * as longpoll from "../src/transports/longpoll.js"
import * as sse from "../src/transports/sse.js"
import { FakeClock, flush } from "./fakes.js"

test("sse parser: events, multi-line data, comments, any line ending, split chunks", () => {
  const events = []
  const parser = sse.createEventParser((data) => events.push(data))
  parser.push(': hello\n\nretry: 1000\nid: {"c":1}\ndata: {"a":1}\n\n')
  parser.push("data: line one\r\ndata: line two\r\n\r\n")
  parser.push("data:no-space\r")
  parser.push("\n\r\n")
  parser.push('data: {"split"')
  parser.push(':true}\n')
  parser.push("\n")
  parser.push("event: other\ndata: x\n\n")
  assert.deepEqual(events, ['{"a":1}', "line one\nline two", "no-space", '{"split":true}', "x"])
})

test("http endpoints drop empty parameters", () => {
  assert.equal(
    httpEndpoint("http://h/sp/", "poll", { token: "t", since: "", streams: "" }),
    "http://h/sp/poll?token=t",
  )
  const url = new URL(httpEndpoint("http://h/sp/", "send", { token: "t", transport: "sse" }))
  assert.equal(url.pathname, "/sp/send")
  assert.equal(url.searchParams.get("transport"), "sse")
  assert.deepEqual(refusal(401), { code: 401, reason: "HTTP 401", fatal: true })
  assert.equal(refusal(502).fatal, false)
})

/** A fetch whose POSTs the test answers one by one. */
function scriptedFetch() {
  const calls = []
  const fetch = (url, init) =>
    new Promise((resolve, reject) => calls.push({ url, init, resolve, reject, body: init.body && JSON.parse(init.body) }))
  fetch.calls = calls
  return fetch
}

test("sender: one POST at a time, later messages batched in order", async () => {
  const fetch = scriptedFetch()
  const sender = new Sender({ url: "http://h/send", request: fetch, onfail: () => assert.fail("no failure") })
  sender.send({ n: 1 })
  sender.send({ n: 2 })
  sender.send({ n: 3 })
  await flush()
  assert.equal(fetch.calls.length, 1)
  assert.deepEqual(fetch.calls[0].body, [{ n: 1 }])
  assert.equal(fetch.calls[0].init.method, "POST")
  fetch.calls[0].resolve({ ok: true, status: 202 })
  await flush()
  assert.equal(fetch.calls.length, 2)
  assert.deepEqual(fetch.calls[1].body, [{ n: 2 }, { n: 3 }])
})

test("sender: settled() waits for every POST on its way and queued, or for close", async () => {
  const fetch = scriptedFetch()
  const sender = new Sender({ url: "http://h/send", request: fetch, onfail: () => {} })
  let settled = false
  await sender.settled() // nothing sent: at once
  sender.send({ n: 1 })
  sender.send({ n: 2 })
  sender.settled().then(() => (settled = true))
  await flush()
  fetch.calls[0].resolve({ ok: true, status: 202 })
  await flush()
  assert.equal(settled, false) // the second batch is on its way
  fetch.calls[1].resolve({ ok: true, status: 202 })
  await flush()
  assert.equal(settled, true)
  sender.send({ n: 3 })
  const closing = sender.settled()
  sender.close()
  await closing
})

test("sender: a refused or failed POST fails the transport once", async () => {
  const fetch = scriptedFetch()
  const failures = []
  const sender = new Sender({ url: "http://h/send", request: fetch, onfail: (info) => failures.push(info) })
  sender.send({ n: 1 })
  sender.send({ n: 2 })
  await flush()
  fetch.calls[0].resolve({ ok: false, status: 401 })
  await flush()
  assert.deepEqual(failures, [{ code: 401, reason: "HTTP 401", fatal: true }])
  sender.send({ n: 3 })
  await flush()
  assert.equal(fetch.calls.length, 1)
})

test("longpoll: polls with the cursor of the moment, delivers in order, stops when closed", async () => {
  const fetch = scriptedFetch()
  let position = 0
  const received = []
  const timers = { setTimeout: (fn) => (queueMicrotask(fn), 1), clearTimeout: () => {} }
  const handle = longpoll.open({
    url: "http://h/sp/",
    token: "tok",
    cursor: () => (position ? JSON.stringify({ c: position }) : ""),
    streams: () => ["room"],
    session: { longpollTimeout: 25 },
    fetch,
    timers,
    onmessage: (message) => {
      received.push(message.position)
      position = message.position
    },
    onclose: () => assert.fail("not closed by the server"),
  })
  await flush()
  const first = new URL(fetch.calls[0].url)
  assert.equal(first.pathname, "/sp/poll")
  assert.equal(first.searchParams.get("since"), null)
  assert.equal(first.searchParams.get("streams"), "room")
  fetch.calls[0].resolve({ ok: true, status: 200, json: async () => [{ stream: "c", position: 1 }, { stream: "c", position: 2 }] })
  await flush()
  assert.deepEqual(received, [1, 2])
  assert.equal(new URL(fetch.calls[1].url).searchParams.get("since"), '{"c":2}')
  handle.close()
  fetch.calls[1].resolve({ ok: true, status: 200, json: async () => [{ stream: "c", position: 3 }] })
  await flush()
  assert.deepEqual(received, [1, 2])
})

test("longpoll: the next poll waits for a task of its own, after the page saw the answer", async () => {
  const fetch = scriptedFetch()
  const clock = new FakeClock()
  const seen = []
  longpoll.open({
    url: "http://h/sp/",
    token: "tok",
    cursor: () => "",
    session: { longpollTimeout: 25 },
    fetch,
    timers: clock,
    onmessage: (message) => {
      // A page's promise callbacks (and mutation observers) run before the next request.
      Promise.resolve().then(() => seen.push([message.position, fetch.calls.length]))
    },
    onclose: () => assert.fail("not closed"),
  })
  await clock.advance(0)
  fetch.calls[0].resolve({ ok: true, status: 200, json: async () => [{ stream: "c", position: 1 }] })
  await flush()
  assert.deepEqual(seen, [[1, 1]])
  assert.equal(fetch.calls.length, 1)
  await clock.advance(0)
  assert.equal(fetch.calls.length, 2)
})

test("longpoll: a 401 poll is a fatal close", async () => {
  const fetch = scriptedFetch()
  const closes = []
  longpoll.open({
    url: "http://h/sp/",
    token: "tok",
    cursor: () => "",
    fetch,
    timers: { setTimeout: (fn) => (queueMicrotask(fn), 1), clearTimeout: () => {} },
    onmessage: () => {},
    onclose: (info) => closes.push(info),
  })
  await flush()
  fetch.calls[0].resolve({ ok: false, status: 401 })
  await flush()
  assert.deepEqual(closes, [{ code: 401, reason: "HTTP 401", fatal: true }])
})

/** A response whose body the test pushes text into, as a stream arriving. */
function streamingResponse() {
  const chunks = []
  let wake = null
  const encoder = new TextEncoder()
  return {
    ok: true,
    status: 200,
    body: {
      getReader: () => ({
        read: async () => {
          while (!chunks.length) await new Promise((resolve) => (wake = resolve))
          return { value: encoder.encode(chunks.shift()), done: false }
        },
      }),
    },
    push(text) {
      chunks.push(text)
      if (wake) wake()
    },
  }
}

function openSse(fetch, clock, closes, received = []) {
  return sse.open({
    url: "http://h/sp/",
    token: "tok",
    since: "",
    fetch,
    timers: clock,
    onmessage: (message) => received.push(message),
    onclose: (info) => closes.push(info),
  })
}

test("sse: a stream still silent 1 s after its POST was answered is buffered on the way", async () => {
  // Regression: behind a proxy that buffers responses the SSE probe waited out the whole
  // probe timeout (3 s), so the client reached long-poll past the 3 s it has from page load.
  const fetch = scriptedFetch()
  const clock = new FakeClock()
  const closes = []
  openSse(fetch, clock, closes).send({ type: "ping", id: "p" })
  await flush()
  const [stream, post] = fetch.calls
  assert.equal(new URL(stream.url).pathname, "/sp/sse")
  assert.deepEqual(post.body, [{ type: "ping", id: "p" }])
  post.resolve({ ok: true, status: 202 })
  await clock.advance(sse.BUFFERED_AFTER - 1)
  assert.deepEqual(closes, [])
  await clock.advance(1)
  assert.equal(closes.length, 1)
  assert.match(closes[0].reason, /buffered/)
  assert.equal(clock.pending, 0)
})

test("sse: a stream that delivers is not taken for buffered", async () => {
  const fetch = scriptedFetch()
  const clock = new FakeClock()
  const closes = []
  const received = []
  openSse(fetch, clock, closes, received).send({ type: "ping", id: "p" })
  await flush()
  const [stream, post] = fetch.calls
  const response = streamingResponse()
  stream.resolve(response)
  response.push('data: {"type":"heartbeat"}\n\n')
  await flush()
  post.resolve({ ok: true, status: 202 })
  await clock.advance(10 * sse.BUFFERED_AFTER)
  assert.deepEqual(closes, [])
  assert.deepEqual(received, [{ type: "heartbeat" }])
})

test("http transports: polls and POSTs go by `request`, the SSE stream by `fetch`", async () => {
  const fetch = scriptedFetch()
  const request = scriptedFetch()
  const timers = { setTimeout: (fn) => (queueMicrotask(fn), 1), clearTimeout: () => {} }
  const context = { url: "http://h/sp/", token: "tok", since: "", cursor: () => "", fetch, request, timers }
  const polling = longpoll.open({ ...context, onmessage: () => {}, onclose: () => {} })
  polling.send({ type: "ping", id: "p" })
  const streaming = sse.open({ ...context, onmessage: () => {}, onclose: () => {} })
  streaming.send({ type: "ping", id: "q" })
  await flush()
  const paths = (calls) => calls.map((call) => new URL(call.url).pathname).sort()
  assert.deepEqual(paths(request.calls), ["/sp/poll", "/sp/send", "/sp/send"])
  assert.deepEqual(paths(fetch.calls), ["/sp/sse"])
  polling.close()
  streaming.close()
})
