/**
 * Text from a model, a file or a command, made safe to print on a terminal.
 *
 * A terminal acts on control characters rather than showing them: OSC 52 writes the clipboard,
 * OSC 0 sets the window title, `\r` and CSI K rewrite a line so `curl … | sh` reads as harmless,
 * bidi overrides reorder what is displayed. So every such character is shown instead, the way
 * `cat -v`, less and the Neovim client do: C0 controls and DEL in caret notation (ESC as `^[`,
 * CR as `^M`), C1 controls, bidi controls and invisible format characters as `<U+202E>`. Newline
 * and tab stay. Each character is judged alone, so a sequence split across streamed deltas is
 * caught all the same. Sanitize before colouring: our own SGR codes are added afterwards.
 */

/** Just the part of picocolors this needs, so callers pass their own (possibly disabled) colours. */
export interface MarkerStyle {
  inverse(text: string): string;
}

// C0 but tab and newline; DEL and C1; Arabic letter mark; zero-width space, LRM, RLM; embeddings
// and overrides; word joiner; isolates; BOM. Zero-width (non-)joiners stay: emoji and scripts such
// as Persian need them, and they cannot move or hide text.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200b\u200e\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]/g;

/** How one unsafe character is shown: `^[`, `^M`, `^?`, `<U+009B>`, `<U+202E>`. */
export function markerFor(char: string): string {
  const code = char.charCodeAt(0);
  if (code < 0x20) return `^${String.fromCharCode(code + 0x40)}`;
  if (code === 0x7f) return '^?';
  return `<U+${code.toString(16).toUpperCase().padStart(4, '0')}>`;
}

/**
 * `text` with every unsafe character replaced by its marker; with `style`, markers are set off
 * (inverse video) so `^[` from a file cannot pass for the two characters `^` and `[`.
 */
export function visible(text: string, style?: MarkerStyle): string {
  return text.replace(UNSAFE, (char) => (style ? style.inverse(markerFor(char)) : markerFor(char)));
}

// The unsafe characters JSON.stringify leaves raw (it escapes C0 itself).
const JSON_RAW = /[\u007f-\u009f\u061c\u200b\u200e\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]/g;

/**
 * JSON text with the characters above written as \u escapes: the same JSON value, but nothing a
 * terminal would act on. Outside string literals JSON has none of them, so this is always valid.
 */
export function terminalSafeJson(json: string): string {
  return json.replace(JSON_RAW, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
