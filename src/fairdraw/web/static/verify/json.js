// Strict JSON, read the way fairdraw's Python verifier reads it (Python's json module,
// refusing repeated keys, NaN and Infinity), with its error messages; plus canonical
// JSON: json.dumps(x, sort_keys=True, separators=(",", ":"), ensure_ascii=False).
// docs/fairness-v2.md ("Canonical JSON") is the specification.
//
// Values: objects are prototype-less objects (so "__proto__" is an ordinary key), arrays
// are arrays, integers are numbers when exactly representable and BigInts otherwise, and
// every other number is a JsonFloat, so that 1.0 is never taken for the integer 1.

/**
 * A JSON document that is not valid (strict) JSON; the message is Python's json module's
 * ("Expecting value: line 1 column 1 (char 0)") or says which rule it breaks.
 */
export class JsonError extends Error {}

/** An object with a key given twice. */
export class DuplicateKeyError extends JsonError {
  constructor(key) {
    super(`the key ${JSON.stringify(key)} twice in one object`);
    this.key = key;
  }
}

/** A JSON number with a fraction or an exponent: never an integer. */
class JsonFloat {
  constructor(text) {
    this.text = text;
  }
}

/** Whether a parsed value is a JSON object. */
export function isObject(value) {
  return value !== null && typeof value === "object" && Object.getPrototypeOf(value) === null;
}

/** Whether a parsed value is a JSON integer (number or BigInt). */
export function isInteger(value) {
  return typeof value === "bigint" || (typeof value === "number" && Number.isInteger(value));
}

const WHITESPACE = new Set([" ", "\t", "\n", "\r"]);
const ESCAPES = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
const NUMBER = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?/y;
const HEX4 = /^[0-9a-fA-F]{4}$/;
const LITERALS = [
  ["null", null],
  ["true", true],
  ["false", false],
];
const CONSTANTS = ["NaN", "Infinity", "-Infinity"];

/**
 * Parse JSON text as Python's json.loads does, refusing repeated keys (the first repeat
 * closed, as an object_pairs_hook finds it) and NaN / Infinity; throws JsonError.
 * `lenient` reads as json.loads does by default: a repeated key's last value wins, NaN
 * and Infinity are numbers. Returns {value, firstFloat}: the first number (in document
 * order) that is not an integer, as written, or null.
 */
export function parseJson(text, { lenient = false } = {}) {
  const parser = new Parser(text, lenient);
  parser.skipSpace();
  const value = parser.value();
  parser.skipSpace();
  if (parser.at !== text.length) parser.fail("Extra data", parser.at);
  return { value, firstFloat: parser.firstFloat };
}

class Parser {
  constructor(text, lenient) {
    this.text = text;
    this.at = 0;
    this.lenient = lenient;
    this.firstFloat = null;
  }

  /** Throw Python's JSONDecodeError message for `message` at UTF-16 index `at`. */
  fail(message, at) {
    const before = [...this.text.slice(0, at)];
    const line = before.filter((c) => c === "\n").length + 1;
    const column = before.length - before.lastIndexOf("\n");
    throw new JsonError(`${message}: line ${line} column ${column} (char ${before.length})`);
  }

  skipSpace() {
    while (this.at < this.text.length && WHITESPACE.has(this.text[this.at])) this.at++;
  }

  value() {
    const char = this.text[this.at];
    if (char === "{") return this.object();
    if (char === "[") return this.array();
    if (char === '"') return this.string();
    for (const [word, value] of LITERALS) {
      if (this.text.startsWith(word, this.at)) {
        this.at += word.length;
        return value;
      }
    }
    const constant = CONSTANTS.find((word) => this.text.startsWith(word, this.at));
    if (constant !== undefined) {
      if (!this.lenient) throw new JsonError(`${constant} is not a JSON number`);
      this.at += constant.length;
      return new JsonFloat(constant);
    }
    return this.number();
  }

  number() {
    NUMBER.lastIndex = this.at;
    const match = NUMBER.exec(this.text);
    if (match === null) this.fail("Expecting value", this.at);
    this.at += match[0].length;
    if (match[1] !== undefined || match[2] !== undefined) {
      this.firstFloat ??= match[0];
      return new JsonFloat(match[0]);
    }
    const big = BigInt(match[0]);
    const small = Number(big);
    return Number.isSafeInteger(small) ? small : big;
  }

  string() {
    const begin = this.at;
    this.at++; // the opening quote
    let out = "";
    let run = this.at;
    for (;;) {
      if (this.at >= this.text.length) this.fail("Unterminated string starting at", begin);
      const code = this.text.charCodeAt(this.at);
      if (code === 0x22) {
        out += this.text.slice(run, this.at);
        this.at++;
        return out;
      }
      if (code < 0x20) this.fail("Invalid control character at", this.at);
      if (code !== 0x5c) {
        this.at++;
        continue;
      }
      out += this.text.slice(run, this.at);
      const escape = this.text[this.at + 1];
      if (escape === undefined) this.fail("Unterminated string starting at", begin);
      if (escape === "u") {
        const digits = this.text.slice(this.at + 2, this.at + 6);
        if (this.at + 6 >= this.text.length || !HEX4.test(digits)) {
          this.fail("Invalid \\uXXXX escape", this.at + 1);
        }
        out += String.fromCharCode(parseInt(digits, 16));
        this.at += 6;
      } else if (Object.hasOwn(ESCAPES, escape)) {
        out += ESCAPES[escape];
        this.at += 2;
      } else {
        this.fail("Invalid \\escape", this.at);
      }
      run = this.at;
    }
  }

  /** The next value, where a value must be. */
  item() {
    if (this.at >= this.text.length) this.fail("Expecting value", this.at);
    return this.value();
  }

  array() {
    this.at++;
    const items = [];
    this.skipSpace();
    if (this.text[this.at] === "]") {
      this.at++;
      return items;
    }
    for (;;) {
      items.push(this.item());
      this.skipSpace();
      if (this.text[this.at] === "]") {
        this.at++;
        return items;
      }
      if (this.text[this.at] !== ",") this.fail("Expecting ',' delimiter", this.at);
      this.at++;
      this.skipSpace();
    }
  }

  object() {
    this.at++;
    const object = Object.create(null);
    let repeated = null;
    this.skipSpace();
    if (this.text[this.at] !== "}") {
      for (;;) {
        if (this.text[this.at] !== '"') {
          this.fail("Expecting property name enclosed in double quotes", this.at);
        }
        const key = this.string();
        if (repeated === null && Object.hasOwn(object, key)) repeated = key;
        this.skipSpace();
        if (this.text[this.at] !== ":") this.fail("Expecting ':' delimiter", this.at);
        this.at++;
        this.skipSpace();
        object[key] = this.item();
        this.skipSpace();
        if (this.text[this.at] === "}") break;
        if (this.text[this.at] !== ",") this.fail("Expecting ',' delimiter", this.at);
        this.at++;
        this.skipSpace();
      }
    }
    this.at++;
    if (repeated !== null && !this.lenient) throw new DuplicateKeyError(repeated);
    return object;
  }
}

/** Compare two strings by code point, as Python orders str (not by UTF-16 unit). */
export function compareCodePoints(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Only a surrogate against U+E000..U+FFFF orders differently by code point.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys && (xs ? y : x) >= 0xe000) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

function canonicalString(text) {
  let out = '"';
  for (const char of text) {
    const code = char.charCodeAt(0);
    if (char === '"') out += '\\"';
    else if (char === "\\") out += "\\\\";
    else if (char === "\n") out += "\\n";
    else if (char === "\r") out += "\\r";
    else if (char === "\t") out += "\\t";
    else if (char === "\b") out += "\\b";
    else if (char === "\f") out += "\\f";
    else if (code < 0x20) out += "\\u" + code.toString(16).padStart(4, "0");
    else out += char;
  }
  return out + '"';
}

/**
 * canonical(x) as text (its UTF-8 bytes are the canonical bytes). Throws JsonError for a
 * float: canonical JSON has none.
 */
export function canonicalJson(value) {
  if (value === null) return "null";
  if (value === true) return "true";
  if (value === false) return "false";
  if (typeof value === "string") return canonicalString(value);
  if (isInteger(value)) return BigInt(value).toString();
  if (value instanceof JsonFloat) throw new JsonError(`the number ${value.text} is not an integer`);
  if (Array.isArray(value)) return "[" + value.map(canonicalJson).join(",") + "]";
  const keys = Object.keys(value).sort(compareCodePoints);
  return "{" + keys.map((k) => canonicalString(k) + ":" + canonicalJson(value[k])).join(",") + "}";
}
