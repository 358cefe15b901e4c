import assert from "node:assert/strict"
import { test } from "node:test"
import { backoffDelay } from "../src/backoff.js"
import { cookieValue, csrfTokenOf, parseConfig } from "../src/config.js"
import { Cursor } from "../src/cursor.js"
import { defaultEventFor, parseDescriptors } from "../src/descriptors.js"
import { encodeForm } from "../src/form.js"
import { callbackNames, SEQUENCES } from "../src/lifecycle.js"
import { applyOperations } from "../src/operations.js"
import { splitSelectors, splitStimulateArgs } from "../src/reflex.js"
import { endpoint } from "../src/transports/websocket.js"
import { uuid } from "../src/uuid.js"

test("descriptors: several, with and without targets", () => {
  assert.deepEqual(parseDescriptors("click->CounterReflex#increment  input->Search#query"), [
    { event: "click", target: "CounterReflex#increment" },
    { event: "input", target: "Search#query" },
  ])
  assert.deepEqual(parseDescriptors("click"), [{ event: "click", target: null }])
  assert.deepEqual(parseDescriptors("Counter#increment"), [{ event: null, target: "Counter#increment" }])
  assert.deepEqual(parseDescriptors("my:custom-event->X#y"), [{ event: "my:custom-event", target: "X#y" }])
  assert.deepEqual(parseDescriptors("click->"), [{ event: "click", target: null }])
  assert.deepEqual(parseDescriptors("->X#y  "), [])
  assert.deepEqual(parseDescriptors(""), [])
  assert.deepEqual(parseDescriptors(null), [])
})

test("descriptors: default events follow Stimulus", () => {
  assert.equal(defaultEventFor({ tagName: "FORM" }), "submit")
  assert.equal(defaultEventFor({ tagName: "SELECT" }), "change")
  assert.equal(defaultEventFor({ tagName: "TEXTAREA" }), "input")
  assert.equal(defaultEventFor({ tagName: "INPUT", type: "text" }), "input")
  assert.equal(defaultEventFor({ tagName: "INPUT", type: "submit" }), "click")
  assert.equal(defaultEventFor({ tagName: "BUTTON" }), "click")
  assert.equal(defaultEventFor({ tagName: "A" }), "click")
})

test("cursor: records positions and drops duplicates", () => {
  const cursor = new Cursor()
  assert.equal(cursor.encode(), "")
  assert.equal(cursor.accept({ type: "operations", stream: "c.1", position: 1 }), true)
  assert.equal(cursor.accept({ type: "operations", stream: "c.1", position: 1 }), false)
  assert.equal(cursor.accept({ type: "operations", stream: "c.1", position: 0 }), false)
  assert.equal(cursor.accept({ type: "nothing", stream: "s.2", position: 7 }), true)
  assert.equal(cursor.accept({ type: "pong", id: "x" }), true)
  assert.equal(cursor.accept({ type: "pong", id: "y", stream: "c.1", position: 2 }), true)
  assert.equal(cursor.accept({ type: "heartbeat" }), true)
  assert.equal(cursor.encode(), '{"c.1":2,"s.2":7}')
})

test("cursor: a welcome never moves a stream back, but its @epoch is taken as sent", () => {
  const cursor = new Cursor()
  cursor.seed({ "c.1": 5, "@epoch": 2000 })
  cursor.seed({ "c.1": 3, "@epoch": 1000 }) // a store restarted empty, with a clock behind
  assert.equal(cursor.encode(), '{"c.1":5,"@epoch":1000}')
})

test("backoff: full jitter under an exponential ceiling, capped", () => {
  const top = (attempt) => backoffDelay(attempt, { random: () => 0.999999 })
  assert.equal(top(0), 249)
  assert.equal(top(1), 499)
  assert.equal(top(3), 1999)
  assert.equal(top(6), 9999)
  assert.equal(top(60), 9999)
  assert.equal(top(5000), 9999)
  assert.equal(backoffDelay(4, { random: () => 0 }), 0)
  assert.equal(backoffDelay(2, { base: 100, cap: 1000, random: () => 0.5 }), 200)
})

test("form encoding keeps blanks and repeated keys", () => {
  const entries = [
    ["title", ""],
    ["tag", "a"],
    ["tag", "b c"],
    ["note", "x&y=z"],
    ["upload", { name: "photo.png" }],
  ]
  assert.equal(encodeForm(entries), "title=&tag=a&tag=b+c&note=x%26y%3Dz&upload=photo.png")
  const parsed = new URLSearchParams(encodeForm(entries))
  assert.deepEqual(parsed.getAll("tag"), ["a", "b c"])
  assert.equal(parsed.get("title"), "")
})

test("config: defaults, page JSON, cookie fallback", () => {
  const config = parseConfig('{"url": "/sp", "transports": ["sse"], "debug": true}', "a=1; csrftoken=abc%3D; b=2")
  assert.equal(config.url, "/sp/")
  assert.deepEqual(config.transports, ["sse"])
  assert.equal(config.debug, true)
  assert.equal(config.csrfToken, "abc=")
  assert.equal(config.autostart, true)
  assert.equal(config.reflexTimeout, 30000)
  assert.equal(parseConfig('{"csrfToken": "page"}', "csrftoken=cookie").csrfToken, "page")
  assert.equal(parseConfig("", "").url, "/sockpuppet/")
  assert.equal(cookieValue("csrftokenx=1; csrftoken=2", "csrftoken"), "2")
  assert.equal(cookieValue("", "csrftoken"), null)
})

test("config: broken JSON falls back to defaults", (t) => {
  t.mock.method(console, "error", () => {})
  assert.equal(parseConfig("{nope", "").url, "/sockpuppet/")
})

test("uuid: v4 shape, with and without randomUUID", () => {
  const shape = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
  assert.match(uuid(), shape)
  const fallback = uuid({ getRandomValues: (bytes) => bytes.fill(255) })
  assert.equal(fallback, "ffffffff-ffff-4fff-bfff-ffffffffffff")
  assert.match(uuid(null), shape)
  assert.notEqual(uuid(null), uuid(null))
})

test("websocket endpoint: ws or wss, token and since encoded", () => {
  assert.equal(endpoint("http://example.com/sockpuppet/", "t:1", ""), "ws://example.com/sockpuppet/ws?token=t%3A1")
  const url = new URL(endpoint("https://example.com:8443/sp/", "tok", '{"c.1":12}'))
  assert.equal(url.protocol, "wss:")
  assert.equal(url.host, "example.com:8443")
  assert.equal(url.pathname, "/sp/ws")
  assert.equal(url.searchParams.get("since"), '{"c.1":12}')
  const named = new URL(endpoint("http://example.com/sp/", "tok", "", ["a:1:x", "b:2:y"]))
  assert.equal(named.searchParams.get("streams"), "a:1:x,b:2:y")
})

test("lifecycle: callback names, per-action first", () => {
  assert.deepEqual(callbackNames("before", "CounterReflex#increment"), ["beforeIncrement", "beforeReflex"])
  assert.deepEqual(callbackNames("success", "CounterReflex#increment"), ["incrementSuccess", "reflexSuccess"])
  assert.deepEqual(callbackNames("error", "X#do_stuff"), ["doStuffError", "reflexError"])
  assert.deepEqual(callbackNames("halted", "X#go"), ["goHalted", "reflexHalted"])
  assert.deepEqual(callbackNames("forbidden", "X#go"), ["goForbidden", "reflexForbidden"])
  assert.deepEqual(callbackNames("after", "X#do_stuff"), ["afterDoStuff", "afterReflex"])
  assert.deepEqual(callbackNames("finalize", "X#go"), ["finalizeGo", "finalizeReflex"])
  assert.deepEqual(callbackNames("success", null), ["reflexSuccess"])
  assert.deepEqual(callbackNames("nothing", "X#go"), [])
})

test("lifecycle: sequences per outcome", () => {
  assert.deepEqual(SEQUENCES.success, ["success", "after", "finalize"])
  assert.deepEqual(SEQUENCES.nothing, ["nothing", "success", "after", "finalize"])
  assert.deepEqual(SEQUENCES.error, ["error", "after", "finalize"])
  assert.deepEqual(SEQUENCES.halted, ["halted", "after", "finalize"])
  assert.deepEqual(SEQUENCES.forbidden, ["forbidden", "after", "finalize"])
})

test("stimulate arguments: element, options and args told apart", () => {
  const element = { nodeType: 1 }
  assert.deepEqual(splitStimulateArgs([]), { element: null, options: {}, args: [] })
  assert.deepEqual(splitStimulateArgs([element, { serializeForm: false }, 1, 2]), {
    element,
    options: { serializeForm: false },
    args: [1, 2],
  })
  assert.deepEqual(splitStimulateArgs([{ selectors: "#a" }, "x"]), { element: null, options: { selectors: "#a" }, args: ["x"] })
  assert.deepEqual(splitStimulateArgs([{ count: 3 }]), { element: null, options: {}, args: [{ count: 3 }] })
  assert.deepEqual(splitStimulateArgs([null, 5]), { element: null, options: {}, args: [null, 5] })
  // StimulusReflex's option names are options too, not the reflex's first argument.
  for (const options of [{ reflexId: "r-1" }, { resolveLate: true }]) {
    assert.deepEqual(splitStimulateArgs([element, options, 4]), { element, options, args: [4] })
  }
})

test("selectors: comma lists and arrays", () => {
  assert.deepEqual(splitSelectors(" #a, .b ,, main "), ["#a", ".b", "main"])
  assert.deepEqual(splitSelectors(["#a", " "]), ["#a"])
})

test("the CSRF token sent is the live cookie when the page can read it, else the newest given", () => {
  const config = parseConfig('{"csrfToken": "page", "csrfCookieName": "csrftoken"}', "csrftoken=old")
  assert.equal(csrfTokenOf(config, "csrftoken=rotated"), "rotated")
  assert.equal(csrfTokenOf(config, ""), "page")
  const hidden = parseConfig('{"csrfToken": "page", "csrfCookieName": null}', "")
  hidden.csrfToken = "from-an-answer"
  assert.equal(csrfTokenOf(hidden, "csrftoken=unrelated"), "from-an-answer")
  assert.equal(csrfTokenOf(parseConfig('{"csrfCookieName": "xsrf"}', "xsrf=named"), "xsrf=again"), "again")
})

test("redirect_to goes to web pages only, never runs a javascript: or data: URL", () => {
  const assigned = []
  const location = { href: "https://app.example/page/", assign: (url) => assigned.push(url) }
  const document = { activeElement: null, defaultView: { location } }
  const urls = ["/next/?a=1", "javascript:alert(1)", " JavaScript:alert(1)", "java\tscript:alert(1)", "data:text/html,x"]
  const quiet = console.error
  console.error = () => {}
  let problems
  try {
    problems = applyOperations(urls.map((url) => ({ op: "redirect_to", selector: null, url })), { document })
  } finally {
    console.error = quiet
  }
  assert.deepEqual(assigned, ["https://app.example/next/?a=1"])
  assert.deepEqual(
    problems.map((problem) => problem.replace(/^redirect_to on "null" failed: /, "")),
    [1, 2, 3].map(() => "refused to go to a javascript: URL").concat("refused to go to a data: URL"),
  )
})
