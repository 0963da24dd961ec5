// Field-by-field shape checks of a parsed bundle; each throws FormatError naming the
// first bad field, worded as fairdraw's Python verifier words it.

import { isInteger, isObject } from "./json.js";
import { FormatError } from "./report.js";

const TYPE_NAMES = { string: "str", list: "list", bool: "bool", object: "dict" };

function isType(value, type) {
  if (type === "string") return typeof value === "string";
  if (type === "list") return Array.isArray(value);
  if (type === "bool") return typeof value === "boolean";
  return isObject(value);
}

/** Exactly `fields` (an array of names) in `obj`, which must be an object. */
export function exactFields(obj, fields, where) {
  if (!isObject(obj)) throw new FormatError(`${where} must be an object`);
  const missing = fields.filter((f) => !Object.hasOwn(obj, f)).sort();
  if (missing.length > 0) throw new FormatError(`${where}: missing ${missing.join(", ")}`);
  const unknown = Object.keys(obj)
    .filter((k) => !fields.includes(k))
    .sort();
  if (unknown.length > 0) throw new FormatError(`${where}: unknown fields ${unknown.join(", ")}`);
  return obj;
}

/** obj[name], which must be of `type` ("string", "list", "bool" or "object"). */
export function field(obj, name, type, where) {
  const value = obj[name];
  if (!isType(value, type)) {
    if (type === "object") throw new FormatError(`${where}.${name} must be an object`);
    throw new FormatError(`${where}.${name} must be of type ${TYPE_NAMES[type]}`);
  }
  return value;
}

/** obj[name], an integer >= `minimum` (JSON true is not a count). */
export function count(obj, name, where, minimum = 0) {
  const value = obj[name];
  if (isInteger(value) && value >= minimum) return value;
  const wanted = minimum === 0 ? "a non-negative integer" : `an integer >= ${minimum}`;
  throw new FormatError(`${where}.${name} must be ${wanted}`);
}

/** obj[name], which must be a JSON object. */
export function object(obj, name, where) {
  const value = obj[name];
  if (!isObject(value)) throw new FormatError(`${where}.${name} must be an object`);
  return value;
}

const DRAW_KINDS = ["giveaway", "raffle", "lottery"];

/** draw.kind, one of DRAW_KINDS. */
export function drawKind(draw) {
  const kind = draw.kind;
  if (!DRAW_KINDS.includes(kind)) {
    throw new FormatError(`draw.kind must be one of ${DRAW_KINDS.join(", ")}`);
  }
  return kind;
}

/** Times as the bundles write them: ISO-8601 UTC, with or without milliseconds. */
export const ISO_V1 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{3}))?Z$/;
export const ISO_MS = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{3})Z$/;
export const ISO_SECONDS = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/;

/** Epoch milliseconds of a time matching one of the ISO forms, or null for no such moment. */
export function epochMs(match) {
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number);
  const ms = Number(match[7] || 0);
  const moment = new Date(0);
  moment.setUTCFullYear(year, month - 1, day);
  moment.setUTCHours(hour, minute, second, ms);
  const real =
    year >= 1 &&
    moment.getUTCFullYear() === year &&
    moment.getUTCMonth() === month - 1 &&
    moment.getUTCDate() === day &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 59;
  return real ? moment.getTime() : null;
}

/** obj[name], a time in `form` that exists on the calendar; FormatError otherwise. */
export function time(obj, name, where, form, like) {
  const value = obj[name];
  const match = typeof value === "string" ? form.exec(value) : null;
  if (match !== null && epochMs(match) !== null) return value;
  throw new FormatError(`${where}.${name} must be an ISO-8601 UTC time like ${like}`);
}

/** obj[name], exactly `2 * bytes` lowercase hex digits. */
export function hex(obj, name, where, bytes) {
  const value = obj[name];
  if (typeof value !== "string" || !new RegExp(`^[0-9a-f]{${2 * bytes}}$`).test(value)) {
    throw new FormatError(`${where}.${name} must be ${2 * bytes} lowercase hex characters`);
  }
  return value;
}

/** obj[name], a list of strings. */
export function strings(obj, name, where, message) {
  const value = field(obj, name, "list", where);
  if (!value.every((item) => typeof item === "string")) throw new FormatError(message);
  return value;
}
