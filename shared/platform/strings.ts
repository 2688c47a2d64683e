/**
 * Strings kept for long in memory (map keys, remembered ids) when they were built by
 * concatenation or cut out of a larger text, as a streaming parser's cells are. V8 represents
 * such strings by reference to what they were made of, so keeping one keeps that alive (a
 * whole buffer of the input file) and makes every hash lookup walk its pieces.
 */

/** The string made flat in place (reading a character does it): later lookups hash one run of characters. */
export function flat(text: string): string {
  text.charCodeAt(0);
  return text;
}

/**
 * A copy that refers to nothing else. Under 13 characters V8 never makes a slice or a
 * concatenation (it copies), so a short string is returned as it is.
 */
export function detached(text: string): string {
  return text.length < 13 ? text : (' ' + text).slice(1);
}
