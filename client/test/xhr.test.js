import assert from "node:assert/strict"
import { test } from "node:test"
import { Connection } from "../src/connection.js"
import { xhrRequest } from "../src/transports/xhr.js"
import { fakeFetch, fakeTransport, FakeClock, flush } from "./fakes.js"

/**
 * A stand-in for the browser's XMLHttpRequest: the test ends each request it made, and
 * may first let part or all of its body arrive (`readyState` 3, LOADING).
 */
class FakeXHR {
  static made = []

  constructor() {
    this.headers = {}
    this.status = 0
    this.readyState = 1
    this.responseText = ""
    FakeXHR.made.push(this)
  }

  open(method, url) {
    Object.assign(this, { method, url })
  }

  setRequestHeader(header, value) {
    this.headers[header] = value
  }

  send(body) {
    this.body = body
  }

  abort() {
    this.#end("onabort")
  }

  arrive(status, text) {
    Object.assign(this, { status, responseText: text, readyState: 3 })
    this.onreadystatechange()
  }

  answer(status, text) {
    Object.assign(this, { status, responseText: text, readyState: 4 })
    this.onreadystatechange()
    this.#end("onload")
  }

  fail() {
    this.#end("onerror")
  }

  #end(event) {
    if (this.ended) return
    this.ended = true
    this[event]()
    this.onloadend()
  }
}

/** An AbortSignal that counts its listeners. */
function countingSignal() {
  const controller = new AbortController()
  const signal = controller.signal
  let listeners = 0
  const add = signal.addEventListener.bind(signal)
  const remove = signal.removeEventListener.bind(signal)
  signal.addEventListener = (...args) => (listeners++, add(...args))
  signal.removeEventListener = (...args) => (listeners--, remove(...args))
  return { controller, signal, listeners: () => listeners }
}

function withFakeXHR(run) {
  return async () => {
    FakeXHR.made = []
    globalThis.XMLHttpRequest = FakeXHR
    try {
      await run()
    } finally {
      delete globalThis.XMLHttpRequest
    }
  }
}

test(
  "xhr request: method, headers and body go out; the answer reads like fetch's",
  withFakeXHR(async () => {
    const answered = xhrRequest("http://h/sp/send?token=t", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: '[{"type":"ping"}]',
    })
    const [xhr] = FakeXHR.made
    assert.equal(xhr.method, "POST")
    assert.equal(xhr.url, "http://h/sp/send?token=t")
    assert.deepEqual(xhr.headers, { "Content-Type": "application/json" })
    assert.equal(xhr.body, '[{"type":"ping"}]')
    xhr.answer(200, '[{"type":"pong","id":"1"}]')
    const response = await answered
    assert.equal(response.ok, true)
    assert.equal(response.status, 200)
    assert.deepEqual(await response.json(), [{ type: "pong", id: "1" }])

    const refused = xhrRequest("http://h/sp/poll")
    assert.equal(FakeXHR.made[1].method, "GET")
    assert.equal(FakeXHR.made[1].body, null)
    FakeXHR.made[1].answer(401, '{"type":"error"}')
    assert.deepEqual([(await refused).ok, (await refused).status], [false, 401])
  }),
)

test(
  "xhr request: a whole JSON body is answered as it arrives, before the response ends",
  withFakeXHR(async () => {
    const answered = xhrRequest("http://h/sp/poll?since=3")
    const [xhr] = FakeXHR.made
    let response = null
    answered.then((value) => (response = value))
    xhr.arrive(200, '[{"type":"morph","position":4}] ')
    await flush()
    assert.notEqual(response, null, "answered at readyState 3")
    assert.equal(xhr.ended, undefined)
    assert.equal(response.status, 200)
    assert.deepEqual(await response.json(), [{ type: "morph", position: 4 }])
    xhr.fail() // the rest of the response failing changes nothing
    assert.deepEqual(await answered, response)
  }),
)

test(
  "xhr request: a body still on its way, or not an array or object, is answered at its end",
  withFakeXHR(async () => {
    for (const [part, whole] of [
      ['[{"type":"morph","html":"<p>]', '[{"type":"morph","html":"<p>]</p>"}]'],
      ['[{"a":[1]}', '[{"a":[1]},{"b":2}]'],
      ["12", "123"], // a number parses at any cut: only an array or object is whole
      ["", ""],
    ]) {
      const answered = xhrRequest("http://h/sp/poll")
      const xhr = FakeXHR.made.at(-1)
      let response = null
      answered.then((value) => (response = value))
      xhr.arrive(whole ? 200 : 202, part)
      await flush()
      assert.equal(response, null, `not answered early on ${JSON.stringify(part)}`)
      xhr.answer(whole ? 200 : 202, whole)
      await flush()
      assert.equal(response.status, whole ? 200 : 202)
      if (whole) assert.deepEqual(await response.json(), JSON.parse(whole))
    }
  }),
)

test(
  "xhr request: a network error rejects with a TypeError, an abort with an AbortError",
  withFakeXHR(async () => {
    const failed = xhrRequest("http://h/sp/poll?token=secret")
    FakeXHR.made[0].fail()
    await assert.rejects(failed, (error) => error instanceof TypeError && !error.message.includes("secret"))

    const controller = new AbortController()
    const aborted = xhrRequest("http://h/sp/poll", { signal: controller.signal })
    controller.abort()
    await assert.rejects(aborted, { name: "AbortError" })
    assert.equal(FakeXHR.made[1].ended, true)

    await assert.rejects(xhrRequest("http://h/sp/poll", { signal: controller.signal }), { name: "AbortError" })
    assert.equal(FakeXHR.made.length, 2) // an aborted signal makes no request
  }),
)

test(
  "xhr request: one signal for many requests keeps no listener of an ended one",
  withFakeXHR(async () => {
    const { signal, listeners } = countingSignal()
    for (let i = 0; i < 3; i++) {
      const answered = xhrRequest("http://h/sp/send", { method: "POST", body: "[]", signal })
      FakeXHR.made[i].answer(202, "")
      await answered
    }
    const failed = xhrRequest("http://h/sp/send", { method: "POST", body: "[]", signal })
    FakeXHR.made[3].fail()
    await failed.catch(() => {})
    assert.equal(listeners(), 0)
  }),
)

test(
  "connection: the transports' short requests use XMLHttpRequest where the page has it",
  withFakeXHR(async () => {
    const clock = new FakeClock()
    const longpoll = fakeTransport("longpoll", { answerPings: true })
    const connection = new Connection({
      url: "http://h/sp/",
      registry: { longpoll },
      fetch: fakeFetch({ protocol: 1, token: "tok", transports: ["longpoll"] }),
      timers: clock,
      now: clock.now,
    })
    connection.start()
    await flush()
    assert.equal(longpoll.last.context.request, xhrRequest)
    connection.stop()
  }),
)

test("connection: without XMLHttpRequest the short requests go by the given fetch", async () => {
  const clock = new FakeClock()
  const longpoll = fakeTransport("longpoll", { answerPings: true })
  const fetch = fakeFetch({ protocol: 1, token: "tok", transports: ["longpoll"] })
  const connection = new Connection({ url: "http://h/sp/", registry: { longpoll }, fetch, timers: clock, now: clock.now })
  connection.start()
  await flush()
  assert.equal(longpoll.last.context.request, fetch)
  connection.stop()
})
