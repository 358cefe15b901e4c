import assert from "node:assert/strict"
import { test } from "node:test"
import { Outbox } from "../src/outbox.js"
import { FakeClock } from "./fakes.js"

function setup({ connected = false, limit = 100 } = {}) {
  const clock = new FakeClock()
  const wire = { connected, sent: [] }
  const expired = []
  const outbox = new Outbox({
    send: (message) => wire.connected && (wire.sent.push(message.id), true),
    onexpire: (reflex, reason) => expired.push([reflex.id, reason]),
    limit,
    queueTimeout: 30000,
    replyTimeout: 30000,
    timers: clock,
    now: clock.now,
  })
  const reflex = (id) => ({ id, message: { type: "reflex", id } })
  return { clock, wire, expired, outbox, reflex }
}

test("sent at once when connected; an answer takes it exactly once", () => {
  const { wire, outbox, reflex } = setup({ connected: true })
  assert.equal(outbox.add(reflex("a")), true)
  assert.deepEqual(wire.sent, ["a"])
  assert.equal(outbox.take("a").id, "a")
  assert.equal(outbox.take("a"), null)
  assert.equal(outbox.size, 0)
})

test("queued while disconnected, sent in order on flush", () => {
  const { wire, outbox, reflex } = setup()
  for (const id of ["a", "b", "c"]) outbox.add(reflex(id))
  assert.equal(outbox.queued, 3)
  wire.connected = true
  outbox.flush()
  assert.deepEqual(wire.sent, ["a", "b", "c"])
  assert.equal(outbox.queued, 0)
})

test("in-flight reflexes are re-sent with the same id after a reconnect, unless answered first", () => {
  const { wire, outbox, reflex } = setup({ connected: true })
  outbox.add(reflex("a"))
  outbox.add(reflex("b"))
  wire.connected = false
  outbox.add(reflex("c"))
  outbox.take("a") // answered by the resumed stream before the transport was proven
  wire.connected = true
  wire.sent.length = 0
  outbox.flush()
  assert.deepEqual(wire.sent, ["b", "c"])
})

test("takeSent removes the reflexes sent and unanswered, oldest first, and leaves the queued", async () => {
  const { clock, wire, expired, outbox, reflex } = setup({ connected: true })
  outbox.add(reflex("a"))
  outbox.add(reflex("b"))
  outbox.take("a")
  wire.connected = false
  outbox.add(reflex("c"))
  assert.deepEqual(outbox.takeSent().map((r) => r.id), ["b"])
  assert.equal(outbox.size, 1)
  await clock.advance(60000)
  assert.deepEqual(expired.map(([id]) => id), ["c"]) // b's timer went with it
})

test("the queue is bounded", () => {
  const { outbox, reflex } = setup({ limit: 2 })
  assert.equal(outbox.add(reflex("a")), true)
  assert.equal(outbox.add(reflex("b")), true)
  assert.equal(outbox.add(reflex("c")), false)
  assert.equal(outbox.size, 2)
})

test("a reused id is refused", () => {
  const { outbox, reflex } = setup()
  outbox.add(reflex("a"))
  assert.throws(() => outbox.add(reflex("a")), /already waiting/)
})

test("queued reflexes expire after the queue timeout", async () => {
  const { clock, expired, outbox, reflex } = setup()
  outbox.add(reflex("a"))
  await clock.advance(29999)
  assert.deepEqual(expired, [])
  await clock.advance(1)
  assert.deepEqual(expired, [["a", "not sent: no connection within 30 s"]])
  assert.equal(outbox.size, 0)
})

test("sent reflexes expire after the reply timeout, counted from the first send", async () => {
  const { clock, wire, expired, outbox, reflex } = setup()
  outbox.add(reflex("a"))
  await clock.advance(20000)
  wire.connected = true
  outbox.flush()
  await clock.advance(29999)
  outbox.flush() // a reconnect re-sends but does not extend the deadline
  assert.deepEqual(expired, [])
  await clock.advance(1)
  assert.deepEqual(expired, [["a", "no answer within 30 s (it may still run on the server: a late answer is still applied)"]])
})

test("an answered reflex never expires", async () => {
  const { clock, outbox, reflex, expired } = setup({ connected: true })
  outbox.add(reflex("a"))
  outbox.take("a")
  await clock.advance(60000)
  assert.deepEqual(expired, [])
  assert.equal(clock.pending, 0)
})

test("a reflex sent into a connection that went silent waits once more, while the connection is replaced", async () => {
  const clock = new FakeClock()
  let heardAt = -1
  const silences = []
  const expired = []
  const outbox = new Outbox({
    send: () => true,
    onexpire: (reflex, reason) => expired.push([reflex.id, reason]),
    heardSince: (time) => heardAt >= time,
    onsilent: () => silences.push(clock.now()),
    replyTimeout: 35000,
    timers: clock,
    now: clock.now,
  })
  outbox.add({ id: "a", message: { type: "reflex", id: "a" } })
  await clock.advance(35000)
  assert.deepEqual(expired, []) // nothing came since it was sent: the connection, not the server
  assert.deepEqual(silences, [35000])
  assert.equal(outbox.size, 1)
  await clock.advance(35000) // still unanswered after waiting again: it fails, saying how long
  assert.deepEqual(expired, [["a", "no answer within 70 s (it may still run on the server: a late answer is still applied)"]])
  assert.deepEqual(silences, [35000])

  outbox.add({ id: "b", message: { type: "reflex", id: "b" } })
  heardAt = clock.now() + 1000 // a heartbeat came: the connection lives, the server is slow
  await clock.advance(35000)
  assert.deepEqual(expired.at(-1), ["b", "no answer within 35 s (it may still run on the server: a late answer is still applied)"])
  assert.deepEqual(silences, [35000])
})
