/** Console output: `debug` lines only while debugging is on; errors always. */

export function createLog(isDebugging) {
  return {
    debug: (...args) => isDebugging() && console.log("[sockpuppet]", ...args),
    warn: (...args) => isDebugging() && console.warn(...args),
    error: (...args) => console.error("[sockpuppet]", ...args),
  }
}
