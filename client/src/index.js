/**
 * Entry point of the bundle (`sockpuppet/static/sockpuppet/sockpuppet.js`): installs
 * `window.Sockpuppet` once per page.
 */

import { createSockpuppet } from "./api.js"

if (typeof window !== "undefined") {
  if (window.Sockpuppet) console.warn("[sockpuppet] the client is loaded twice; the second copy does nothing")
  else window.Sockpuppet = createSockpuppet(window)
}
