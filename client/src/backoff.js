/**
 * Reconnect delays: exponential backoff with full jitter (a uniform pick between zero and
 * the exponential ceiling), so that a restarted server is not hit by every tab at once.
 */

export function backoffDelay(attempt, { base = 250, cap = 10000, random = Math.random } = {}) {
  const ceiling = Math.min(cap, base * 2 ** Math.max(0, attempt))
  return Math.floor(random() * ceiling)
}
