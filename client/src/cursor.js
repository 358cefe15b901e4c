/**
 * The client's position in each server stream: `{stream: position}` of the last message
 * applied. Sent back as `since` on reconnect so the server replays only what was missed;
 * also the duplicate filter, since a replay may overlap what already arrived.
 */

// Not a stream: the lifetime of the server's store; a cursor of another one resumes nothing.
const EPOCH = "@epoch"

export class Cursor {
  constructor() {
    this.positions = {}
  }

  /** Records a message's position; false when the message was already seen. */
  accept(message) {
    const { stream, position } = message || {}
    if (typeof stream !== "string" || !Number.isInteger(position)) return true
    const last = this.positions[stream]
    if (last !== undefined && position <= last) return false
    this.positions[stream] = position
    return true
  }

  /**
   * Adds the positions a server starts following streams at (its welcome); never moves one
   * back. `@epoch` (the lifetime of the server's store) is taken as the server says.
   */
  seed(positions) {
    for (const [stream, position] of Object.entries(positions || {})) {
      if (!Number.isInteger(position)) continue
      if (stream === EPOCH) {
        this.positions[stream] = position
        continue
      }
      const last = this.positions[stream]
      if (last === undefined || position > last) this.positions[stream] = position
    }
  }

  /** Moves a stream's position, also backwards (a `resync`: the server may have restarted). */
  reset(stream, position) {
    this.positions[stream] = position
  }

  get empty() {
    return Object.keys(this.positions).length === 0
  }

  /** The compact JSON for `since`; "" when nothing was seen yet ("from now"). */
  encode() {
    return this.empty ? "" : JSON.stringify(this.positions)
  }
}
