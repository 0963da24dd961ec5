// Checks and reports: what every verification returns, {ok, checks: [{name, ok, detail}]},
// named and worded as fairdraw's Python verifier words them.

/** A bundle or entries file that breaks its format; the message says how. */
export class FormatError extends Error {}

/** One named check and what it found. */
export function check(name, ok, detail) {
  return { name, ok, detail };
}

/** The checks that could not run because `blocker` failed. */
export function notChecked(names, blocker) {
  return names.map((name) => check(name, false, `not checked: ${blocker} failed`));
}

/**
 * The report of a list of checks: {ok, algorithm, trusts_operator, verdict, checks}, as
 * fairdraw's Python VerifyReport states it. `algorithm` is null when the bundle could not
 * be read; `trusts_operator` is true for a draw decided by the operator's seed alone.
 */
export function report(checks, { algorithm = null, trustsOperator = false } = {}) {
  const ok = checks.every((c) => c.ok);
  const failed = checks.find((c) => !c.ok);
  let verdict = trustsOperator ? "PASS (trusts its operator: no beacon)" : "PASS";
  if (failed) verdict = `FAIL ${failed.name}: ${failed.detail}`;
  return { ok, algorithm, trusts_operator: trustsOperator, verdict, checks };
}

// What Python's str.isprintable() refuses: other, separator (repr escapes it).
const UNPRINTABLE = /^[\p{C}\p{Z}]$/u;

function reprString(text) {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = quote;
  for (const char of text) {
    const code = char.codePointAt(0);
    if (char === "\\" || char === quote) out += "\\" + char;
    else if (char === "\t") out += "\\t";
    else if (char === "\n") out += "\\n";
    else if (char === "\r") out += "\\r";
    else if (char === " " || !UNPRINTABLE.test(char)) out += char;
    else if (code < 0x100) out += "\\x" + code.toString(16).padStart(2, "0");
    else if (code < 0x10000) out += "\\u" + code.toString(16).padStart(4, "0");
    else out += "\\U" + code.toString(16).padStart(8, "0");
  }
  return out + quote;
}

/** Python's repr() of a parsed JSON value, for details worded like Python's. */
export function pyRepr(value) {
  if (value === null || value === undefined) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (typeof value === "string") return reprString(value);
  if (Array.isArray(value)) return "[" + value.map(pyRepr).join(", ") + "]";
  if (typeof value === "object" && !("text" in value)) {
    return (
      "{" +
      Object.entries(value)
        .map(([k, v]) => `${reprString(k)}: ${pyRepr(v)}`)
        .join(", ") +
      "}"
    );
  }
  return String(value?.text ?? value);
}

/** Python's str() of a parsed JSON value: a string as it is, anything else as repr(). */
export function pyStr(value) {
  return typeof value === "string" ? value : pyRepr(value);
}

// A list of differences is cut short here so that one report stays readable.
const MAX_DIFFERENCES = 5;

/** Differences joined with "; ", the rest counted. */
export function joinProblems(problems) {
  const shown = problems.slice(0, MAX_DIFFERENCES).join("; ");
  const more = problems.length - MAX_DIFFERENCES;
  return more > 0 ? `${shown}; and ${more} more` : shown;
}
