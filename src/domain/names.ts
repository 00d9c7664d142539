/**
 * The rules for the names and words the core stores and shows: device names, agent ids, the
 * subject CN of a request or certificate, the CA's name, notes and searches.
 *
 * One character rule for all of them (forbiddenCharactersIn). Three copies used to differ: the API's
 * text check and the CA name refused C0 controls and DEL (U+0000-U+001F, U+007F); the CSR check
 * also refused the C1 controls (U+0080-U+009F). The wider rule is the right one, and it is wider
 * still now. A name ends up in logs, audit details, DN strings, CSV exports and the console; what
 * it could smuggle there:
 * - C0, DEL and C1 controls (Unicode category Cc): forged log lines (LF, CR, U+0085 NEL), terminal
 *   escapes (ESC, and U+009B, the one-byte CSI), NUL truncation in C-based tools.
 * - U+2028 and U+2029, the line and paragraph separators: forged lines, like LF.
 * - Bidirectional formatting characters (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069):
 *   they reorder what a reader sees, so "WS-01" plus an override can display as another device's
 *   name ("Trojan Source", CVE-2021-42574). No device or agent name needs them: the Unicode
 *   bidirectional algorithm orders right-to-left scripts without any.
 * - Unpaired surrogates (a JSON "\ud800" arrives as one): not text; they cannot be stored as UTF-8
 *   and would be replaced or refused somewhere further down.
 * Not refused: other format characters (zero-width joiners are part of many scripts and emoji)
 * and look-alike letters; an agent id, which is what identifies a device, is plain ASCII
 * (AGENT_ID_PATTERN), so neither can make one device pass for another where it counts.
 */

const FORBIDDEN: { pattern: RegExp; what: string }[] = [
  { pattern: /\p{Cc}/u, what: 'control characters' },
  { pattern: /[\u2028\u2029]/u, what: 'line or paragraph separators' },
  { pattern: /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u, what: 'bidirectional formatting characters' },
  { pattern: /\p{Cs}/u, what: 'unpaired surrogates' },
];

/**
 * forbiddenCharactersIn names the kind of forbidden character a name or note contains ("control
 * characters", "bidirectional formatting characters", ...), for a message like "deviceName must
 * not contain control characters"; undefined when it contains none.
 */
export function forbiddenCharactersIn(text: string): string | undefined {
  return FORBIDDEN.find((f) => f.pattern.test(text))?.what;
}

/** AGENT_ID_MAX_LENGTH is the longest agent id, in characters. */
export const AGENT_ID_MAX_LENGTH = 128;

/**
 * AGENT_ID_PATTERN is the form of the ids agents report: GUIDs and host-like names; ASCII
 * letters, digits and . _ : { } @ -, starting with a letter or digit. A braced GUID
 * ("{5F1B...}") is therefore refused, although the earlier comment on this rule said braces were
 * allowed: left as it was (a behaviour change for the owners of the agent protocol to decide).
 */
export const AGENT_ID_PATTERN = new RegExp(`^[A-Za-z0-9][A-Za-z0-9._:{}@-]{0,${AGENT_ID_MAX_LENGTH - 1}}$`);

/**
 * MAX_COMMON_NAME_LENGTH is the longest agent id accepted as a subject CN, in characters (RFC
 * 5280's ub-common-name is 64; agent ids may be longer).
 */
export const MAX_COMMON_NAME_LENGTH = AGENT_ID_MAX_LENGTH;

/** DEVICE_NAME_MAX_LENGTH is the longest device name, in characters (the devices.name column). */
export const DEVICE_NAME_MAX_LENGTH = 255;

/**
 * SEARCH_MAX_LENGTH is the longest search text of a list filter (devices, client access
 * requests), in characters: a longer one could match no name.
 */
export const SEARCH_MAX_LENGTH = DEVICE_NAME_MAX_LENGTH;
