#!/usr/bin/env node
import { createRequire as __mgCreateRequire } from 'node:module'; const require = __mgCreateRequire(import.meta.url);
var __create = Object.create;
var __defProp = Object.defineProperty;
var __getOwnPropDesc = Object.getOwnPropertyDescriptor;
var __getOwnPropNames = Object.getOwnPropertyNames;
var __getProtoOf = Object.getPrototypeOf;
var __hasOwnProp = Object.prototype.hasOwnProperty;
var __commonJS = (cb, mod) => function __require() {
  try {
    return mod || (0, cb[__getOwnPropNames(cb)[0]])((mod = { exports: {} }).exports, mod), mod.exports;
  } catch (e) {
    throw mod = 0, e;
  }
};
var __copyProps = (to, from, except, desc) => {
  if (from && typeof from === "object" || typeof from === "function") {
    for (let key of __getOwnPropNames(from))
      if (!__hasOwnProp.call(to, key) && key !== except)
        __defProp(to, key, { get: () => from[key], enumerable: !(desc = __getOwnPropDesc(from, key)) || desc.enumerable });
  }
  return to;
};
var __toESM = (mod, isNodeMode, target) => (target = mod != null ? __create(__getProtoOf(mod)) : {}, __copyProps(
  // If the importer is in node compatibility mode or this is not an ESM
  // file that has been converted to a CommonJS file using a Babel-
  // compatible transform (i.e. "__esModule" has not been set), then set
  // "default" to the CommonJS "module.exports" for node compatibility.
  isNodeMode || !mod || !mod.__esModule ? __defProp(target, "default", { value: mod, enumerable: true }) : target,
  mod
));

// node_modules/picomatch/lib/constants.js
var require_constants = __commonJS({
  "node_modules/picomatch/lib/constants.js"(exports, module) {
    "use strict";
    var WIN_SLASH = "\\\\/";
    var WIN_NO_SLASH = `[^${WIN_SLASH}]`;
    var DEFAULT_MAX_EXTGLOB_RECURSION = 0;
    var DOT_LITERAL = "\\.";
    var PLUS_LITERAL = "\\+";
    var QMARK_LITERAL = "\\?";
    var SLASH_LITERAL = "\\/";
    var ONE_CHAR = "(?=.)";
    var QMARK = "[^/]";
    var END_ANCHOR = `(?:${SLASH_LITERAL}|$)`;
    var START_ANCHOR = `(?:^|${SLASH_LITERAL})`;
    var DOTS_SLASH = `${DOT_LITERAL}{1,2}${END_ANCHOR}`;
    var NO_DOT = `(?!${DOT_LITERAL})`;
    var NO_DOTS = `(?!${START_ANCHOR}${DOTS_SLASH})`;
    var NO_DOT_SLASH = `(?!${DOT_LITERAL}{0,1}${END_ANCHOR})`;
    var NO_DOTS_SLASH = `(?!${DOTS_SLASH})`;
    var QMARK_NO_DOT = `[^.${SLASH_LITERAL}]`;
    var STAR = `${QMARK}*?`;
    var SEP = "/";
    var POSIX_CHARS = {
      DOT_LITERAL,
      PLUS_LITERAL,
      QMARK_LITERAL,
      SLASH_LITERAL,
      ONE_CHAR,
      QMARK,
      END_ANCHOR,
      DOTS_SLASH,
      NO_DOT,
      NO_DOTS,
      NO_DOT_SLASH,
      NO_DOTS_SLASH,
      QMARK_NO_DOT,
      STAR,
      START_ANCHOR,
      SEP
    };
    var WINDOWS_CHARS = {
      ...POSIX_CHARS,
      SLASH_LITERAL: `[${WIN_SLASH}]`,
      QMARK: WIN_NO_SLASH,
      STAR: `${WIN_NO_SLASH}*?`,
      DOTS_SLASH: `${DOT_LITERAL}{1,2}(?:[${WIN_SLASH}]|$)`,
      NO_DOT: `(?!${DOT_LITERAL})`,
      NO_DOTS: `(?!(?:^|[${WIN_SLASH}])${DOT_LITERAL}{1,2}(?:[${WIN_SLASH}]|$))`,
      NO_DOT_SLASH: `(?!${DOT_LITERAL}{0,1}(?:[${WIN_SLASH}]|$))`,
      NO_DOTS_SLASH: `(?!${DOT_LITERAL}{1,2}(?:[${WIN_SLASH}]|$))`,
      QMARK_NO_DOT: `[^.${WIN_SLASH}]`,
      START_ANCHOR: `(?:^|[${WIN_SLASH}])`,
      END_ANCHOR: `(?:[${WIN_SLASH}]|$)`,
      SEP: "\\"
    };
    var POSIX_REGEX_SOURCE = {
      __proto__: null,
      alnum: "a-zA-Z0-9",
      alpha: "a-zA-Z",
      ascii: "\\x00-\\x7F",
      blank: " \\t",
      cntrl: "\\x00-\\x1F\\x7F",
      digit: "0-9",
      graph: "\\x21-\\x7E",
      lower: "a-z",
      print: "\\x20-\\x7E ",
      punct: "\\-!\"#$%&'()\\*+,./:;<=>?@[\\]^_`{|}~",
      space: " \\t\\r\\n\\v\\f",
      upper: "A-Z",
      word: "A-Za-z0-9_",
      xdigit: "A-Fa-f0-9"
    };
    module.exports = {
      DEFAULT_MAX_EXTGLOB_RECURSION,
      MAX_LENGTH: 1024 * 64,
      POSIX_REGEX_SOURCE,
      // regular expressions
      REGEX_BACKSLASH: /\\(?![*+?^${}(|)[\]])/g,
      REGEX_NON_SPECIAL_CHARS: /^[^@![\].,$*+?^{}()|\\/]+/,
      REGEX_SPECIAL_CHARS: /[-*+?.^${}(|)[\]]/,
      REGEX_SPECIAL_CHARS_BACKREF: /(\\?)((\W)(\3*))/g,
      REGEX_SPECIAL_CHARS_GLOBAL: /([-*+?.^${}(|)[\]])/g,
      REGEX_REMOVE_BACKSLASH: /(?:\[.*?[^\\]\]|\\(?=.))/g,
      // Replace globs with equivalent patterns to reduce parsing time.
      REPLACEMENTS: {
        __proto__: null,
        "***": "*",
        "**/**": "**",
        "**/**/**": "**"
      },
      // Digits
      CHAR_0: 48,
      /* 0 */
      CHAR_9: 57,
      /* 9 */
      // Alphabet chars.
      CHAR_UPPERCASE_A: 65,
      /* A */
      CHAR_LOWERCASE_A: 97,
      /* a */
      CHAR_UPPERCASE_Z: 90,
      /* Z */
      CHAR_LOWERCASE_Z: 122,
      /* z */
      CHAR_LEFT_PARENTHESES: 40,
      /* ( */
      CHAR_RIGHT_PARENTHESES: 41,
      /* ) */
      CHAR_ASTERISK: 42,
      /* * */
      // Non-alphabetic chars.
      CHAR_AMPERSAND: 38,
      /* & */
      CHAR_AT: 64,
      /* @ */
      CHAR_BACKWARD_SLASH: 92,
      /* \ */
      CHAR_CARRIAGE_RETURN: 13,
      /* \r */
      CHAR_CIRCUMFLEX_ACCENT: 94,
      /* ^ */
      CHAR_COLON: 58,
      /* : */
      CHAR_COMMA: 44,
      /* , */
      CHAR_DOT: 46,
      /* . */
      CHAR_DOUBLE_QUOTE: 34,
      /* " */
      CHAR_EQUAL: 61,
      /* = */
      CHAR_EXCLAMATION_MARK: 33,
      /* ! */
      CHAR_FORM_FEED: 12,
      /* \f */
      CHAR_FORWARD_SLASH: 47,
      /* / */
      CHAR_GRAVE_ACCENT: 96,
      /* ` */
      CHAR_HASH: 35,
      /* # */
      CHAR_HYPHEN_MINUS: 45,
      /* - */
      CHAR_LEFT_ANGLE_BRACKET: 60,
      /* < */
      CHAR_LEFT_CURLY_BRACE: 123,
      /* { */
      CHAR_LEFT_SQUARE_BRACKET: 91,
      /* [ */
      CHAR_LINE_FEED: 10,
      /* \n */
      CHAR_NO_BREAK_SPACE: 160,
      /* \u00A0 */
      CHAR_PERCENT: 37,
      /* % */
      CHAR_PLUS: 43,
      /* + */
      CHAR_QUESTION_MARK: 63,
      /* ? */
      CHAR_RIGHT_ANGLE_BRACKET: 62,
      /* > */
      CHAR_RIGHT_CURLY_BRACE: 125,
      /* } */
      CHAR_RIGHT_SQUARE_BRACKET: 93,
      /* ] */
      CHAR_SEMICOLON: 59,
      /* ; */
      CHAR_SINGLE_QUOTE: 39,
      /* ' */
      CHAR_SPACE: 32,
      /*   */
      CHAR_TAB: 9,
      /* \t */
      CHAR_UNDERSCORE: 95,
      /* _ */
      CHAR_VERTICAL_LINE: 124,
      /* | */
      CHAR_ZERO_WIDTH_NOBREAK_SPACE: 65279,
      /* \uFEFF */
      /**
       * Create EXTGLOB_CHARS
       */
      extglobChars(chars) {
        return {
          "!": { type: "negate", open: "(?:(?!(?:", close: `))${chars.STAR})` },
          "?": { type: "qmark", open: "(?:", close: ")?" },
          "+": { type: "plus", open: "(?:", close: ")+" },
          "*": { type: "star", open: "(?:", close: ")*" },
          "@": { type: "at", open: "(?:", close: ")" }
        };
      },
      /**
       * Create GLOB_CHARS
       */
      globChars(win32) {
        return win32 === true ? WINDOWS_CHARS : POSIX_CHARS;
      }
    };
  }
});

// node_modules/picomatch/lib/utils.js
var require_utils = __commonJS({
  "node_modules/picomatch/lib/utils.js"(exports) {
    "use strict";
    var {
      REGEX_BACKSLASH,
      REGEX_REMOVE_BACKSLASH,
      REGEX_SPECIAL_CHARS,
      REGEX_SPECIAL_CHARS_GLOBAL
    } = require_constants();
    exports.isObject = (val) => val !== null && typeof val === "object" && !Array.isArray(val);
    exports.hasRegexChars = (str) => REGEX_SPECIAL_CHARS.test(str);
    exports.isRegexChar = (str) => str.length === 1 && exports.hasRegexChars(str);
    exports.escapeRegex = (str) => str.replace(REGEX_SPECIAL_CHARS_GLOBAL, "\\$1");
    exports.toPosixSlashes = (str) => str.replace(REGEX_BACKSLASH, "/");
    exports.isWindows = () => {
      if (typeof navigator !== "undefined" && navigator.platform) {
        const platform = navigator.platform.toLowerCase();
        return platform === "win32" || platform === "windows";
      }
      if (typeof process !== "undefined" && process.platform) {
        return process.platform === "win32";
      }
      return false;
    };
    exports.removeBackslashes = (str) => {
      return str.replace(REGEX_REMOVE_BACKSLASH, (match) => {
        return match === "\\" ? "" : match;
      });
    };
    exports.escapeLast = (input, char, lastIdx) => {
      const idx = input.lastIndexOf(char, lastIdx);
      if (idx === -1) return input;
      if (input[idx - 1] === "\\") return exports.escapeLast(input, char, idx - 1);
      return `${input.slice(0, idx)}\\${input.slice(idx)}`;
    };
    exports.removePrefix = (input, state = {}) => {
      let output = input;
      if (output.startsWith("./")) {
        output = output.slice(2);
        state.prefix = "./";
      }
      return output;
    };
    exports.wrapOutput = (input, state = {}, options = {}) => {
      const prepend = options.contains ? "" : "^";
      const append = options.contains ? "" : "$";
      let output = `${prepend}(?:${input})${append}`;
      if (state.negated === true) {
        output = `(?:^(?!${output}).*$)`;
      }
      return output;
    };
    exports.basename = (path, { windows } = {}) => {
      const segs = path.split(windows ? /[\\/]/ : "/");
      const last = segs[segs.length - 1];
      if (last === "") {
        return segs[segs.length - 2];
      }
      return last;
    };
  }
});

// node_modules/picomatch/lib/scan.js
var require_scan = __commonJS({
  "node_modules/picomatch/lib/scan.js"(exports, module) {
    "use strict";
    var utils = require_utils();
    var {
      CHAR_ASTERISK,
      /* * */
      CHAR_AT,
      /* @ */
      CHAR_BACKWARD_SLASH,
      /* \ */
      CHAR_COMMA,
      /* , */
      CHAR_DOT,
      /* . */
      CHAR_EXCLAMATION_MARK,
      /* ! */
      CHAR_FORWARD_SLASH,
      /* / */
      CHAR_LEFT_CURLY_BRACE,
      /* { */
      CHAR_LEFT_PARENTHESES,
      /* ( */
      CHAR_LEFT_SQUARE_BRACKET,
      /* [ */
      CHAR_PLUS,
      /* + */
      CHAR_QUESTION_MARK,
      /* ? */
      CHAR_RIGHT_CURLY_BRACE,
      /* } */
      CHAR_RIGHT_PARENTHESES,
      /* ) */
      CHAR_RIGHT_SQUARE_BRACKET
      /* ] */
    } = require_constants();
    var isPathSeparator = (code2) => {
      return code2 === CHAR_FORWARD_SLASH || code2 === CHAR_BACKWARD_SLASH;
    };
    var depth = (token) => {
      if (token.isPrefix !== true) {
        token.depth = token.isGlobstar ? Infinity : 1;
      }
    };
    var scan = (input, options) => {
      const opts = options || {};
      const length = input.length - 1;
      const scanToEnd = opts.parts === true || opts.tokens === true || opts.scanToEnd === true;
      const slashes = [];
      const tokens = [];
      const parts = [];
      let str = input;
      let index = -1;
      let start = 0;
      let lastIndex = 0;
      let isBrace = false;
      let isBracket = false;
      let isGlob = false;
      let isExtglob = false;
      let isGlobstar = false;
      let braceEscaped = false;
      let backslashes = false;
      let negated = false;
      let negatedExtglob = false;
      let finished = false;
      let braces = 0;
      let prev;
      let code2;
      let token = { value: "", depth: 0, isGlob: false };
      const eos = () => index >= length;
      const peek = () => str.charCodeAt(index + 1);
      const advance = () => {
        prev = code2;
        return str.charCodeAt(++index);
      };
      while (index < length) {
        code2 = advance();
        let next;
        if (code2 === CHAR_BACKWARD_SLASH) {
          backslashes = token.backslashes = true;
          code2 = advance();
          if (code2 === CHAR_LEFT_CURLY_BRACE) {
            braceEscaped = true;
          }
          continue;
        }
        if (braceEscaped === true || code2 === CHAR_LEFT_CURLY_BRACE) {
          braces++;
          while (eos() !== true && (code2 = advance())) {
            if (code2 === CHAR_BACKWARD_SLASH) {
              backslashes = token.backslashes = true;
              advance();
              continue;
            }
            if (code2 === CHAR_LEFT_CURLY_BRACE) {
              braces++;
              continue;
            }
            if (braceEscaped !== true && code2 === CHAR_DOT && (code2 = advance()) === CHAR_DOT) {
              isBrace = token.isBrace = true;
              isGlob = token.isGlob = true;
              finished = true;
              if (scanToEnd === true) {
                continue;
              }
              break;
            }
            if (braceEscaped !== true && code2 === CHAR_COMMA) {
              isBrace = token.isBrace = true;
              isGlob = token.isGlob = true;
              finished = true;
              if (scanToEnd === true) {
                continue;
              }
              break;
            }
            if (code2 === CHAR_RIGHT_CURLY_BRACE) {
              braces--;
              if (braces === 0) {
                braceEscaped = false;
                isBrace = token.isBrace = true;
                finished = true;
                break;
              }
            }
          }
          if (scanToEnd === true) {
            continue;
          }
          break;
        }
        if (code2 === CHAR_FORWARD_SLASH) {
          slashes.push(index);
          tokens.push(token);
          token = { value: "", depth: 0, isGlob: false };
          if (finished === true) continue;
          if (prev === CHAR_DOT && index === start + 1) {
            start += 2;
            continue;
          }
          lastIndex = index + 1;
          continue;
        }
        if (opts.noext !== true) {
          const isExtglobChar = code2 === CHAR_PLUS || code2 === CHAR_AT || code2 === CHAR_ASTERISK || code2 === CHAR_QUESTION_MARK || code2 === CHAR_EXCLAMATION_MARK;
          if (isExtglobChar === true && peek() === CHAR_LEFT_PARENTHESES) {
            isGlob = token.isGlob = true;
            isExtglob = token.isExtglob = true;
            finished = true;
            if (code2 === CHAR_EXCLAMATION_MARK && index === start) {
              negatedExtglob = true;
            }
            if (scanToEnd === true) {
              let parens = 0;
              while (eos() !== true && (code2 = advance())) {
                if (code2 === CHAR_BACKWARD_SLASH) {
                  backslashes = token.backslashes = true;
                  advance();
                  continue;
                }
                if (code2 === CHAR_LEFT_PARENTHESES) {
                  parens++;
                  continue;
                }
                if (code2 === CHAR_RIGHT_PARENTHESES && --parens === 0) {
                  finished = true;
                  break;
                }
              }
              continue;
            }
            break;
          }
        }
        if (code2 === CHAR_ASTERISK) {
          if (prev === CHAR_ASTERISK) isGlobstar = token.isGlobstar = true;
          isGlob = token.isGlob = true;
          finished = true;
          if (scanToEnd === true) {
            continue;
          }
          break;
        }
        if (code2 === CHAR_QUESTION_MARK) {
          isGlob = token.isGlob = true;
          finished = true;
          if (scanToEnd === true) {
            continue;
          }
          break;
        }
        if (code2 === CHAR_LEFT_SQUARE_BRACKET) {
          while (eos() !== true && (next = advance())) {
            if (next === CHAR_BACKWARD_SLASH) {
              backslashes = token.backslashes = true;
              advance();
              continue;
            }
            if (next === CHAR_RIGHT_SQUARE_BRACKET) {
              isBracket = token.isBracket = true;
              isGlob = token.isGlob = true;
              finished = true;
              break;
            }
          }
          if (scanToEnd === true) {
            continue;
          }
          break;
        }
        if (opts.nonegate !== true && code2 === CHAR_EXCLAMATION_MARK && index === start) {
          negated = token.negated = true;
          start++;
          continue;
        }
        if (opts.noparen !== true && code2 === CHAR_LEFT_PARENTHESES) {
          isGlob = token.isGlob = true;
          if (scanToEnd === true) {
            let parens = 1;
            while (eos() !== true && (code2 = advance())) {
              if (code2 === CHAR_BACKWARD_SLASH) {
                backslashes = token.backslashes = true;
                advance();
                continue;
              }
              if (code2 === CHAR_LEFT_PARENTHESES) {
                parens++;
                continue;
              }
              if (code2 === CHAR_RIGHT_PARENTHESES && --parens === 0) {
                finished = true;
                break;
              }
            }
            continue;
          }
          break;
        }
        if (isGlob === true) {
          finished = true;
          if (scanToEnd === true) {
            continue;
          }
          break;
        }
      }
      if (opts.noext === true) {
        isExtglob = false;
        isGlob = false;
      }
      let base = str;
      let prefix = "";
      let glob = "";
      if (start > 0) {
        prefix = str.slice(0, start);
        str = str.slice(start);
        lastIndex -= start;
      }
      if (base && isGlob === true && lastIndex > 0) {
        base = str.slice(0, lastIndex);
        glob = str.slice(lastIndex);
      } else if (isGlob === true) {
        base = "";
        glob = str;
      } else {
        base = str;
      }
      if (base && base !== "" && base !== "/" && base !== str) {
        if (isPathSeparator(base.charCodeAt(base.length - 1))) {
          base = base.slice(0, -1);
        }
      }
      if (opts.unescape === true) {
        if (glob) glob = utils.removeBackslashes(glob);
        if (base && backslashes === true) {
          base = utils.removeBackslashes(base);
        }
      }
      const state = {
        prefix,
        input,
        start,
        base,
        glob,
        isBrace,
        isBracket,
        isGlob,
        isExtglob,
        isGlobstar,
        negated,
        negatedExtglob
      };
      if (opts.tokens === true) {
        state.maxDepth = 0;
        if (!isPathSeparator(code2)) {
          tokens.push(token);
        }
        state.tokens = tokens;
      }
      if (opts.parts === true || opts.tokens === true) {
        let prevIndex;
        for (let idx = 0; idx < slashes.length; idx++) {
          const n2 = prevIndex !== void 0 ? prevIndex + 1 : start;
          const i = slashes[idx];
          const value2 = input.slice(n2, i);
          if (opts.tokens) {
            if (idx === 0 && start !== 0) {
              tokens[idx].isPrefix = true;
              tokens[idx].value = prefix;
            } else {
              tokens[idx].value = value2;
            }
            depth(tokens[idx]);
            state.maxDepth += tokens[idx].depth;
          }
          if (i >= start) {
            parts.push(value2);
            prevIndex = i;
          }
        }
        const n = prevIndex !== void 0 ? prevIndex + 1 : start;
        const value = input.slice(n);
        parts.push(value);
        if (opts.tokens && prevIndex && prevIndex + 1 < input.length) {
          tokens[tokens.length - 1].value = value;
          depth(tokens[tokens.length - 1]);
          state.maxDepth += tokens[tokens.length - 1].depth;
        }
        state.slashes = slashes;
        state.parts = parts;
      }
      return state;
    };
    module.exports = scan;
  }
});

// node_modules/picomatch/lib/parse.js
var require_parse = __commonJS({
  "node_modules/picomatch/lib/parse.js"(exports, module) {
    "use strict";
    var constants = require_constants();
    var utils = require_utils();
    var {
      MAX_LENGTH,
      POSIX_REGEX_SOURCE,
      REGEX_NON_SPECIAL_CHARS,
      REGEX_SPECIAL_CHARS_BACKREF,
      REPLACEMENTS
    } = constants;
    var expandRange = (args, options) => {
      if (typeof options.expandRange === "function") {
        return options.expandRange(...args, options);
      }
      args.sort();
      const value = `[${args.join("-")}]`;
      try {
        new RegExp(value);
      } catch (ex) {
        return args.map((v) => utils.escapeRegex(v)).join("..");
      }
      return value;
    };
    var syntaxError = (type, char) => {
      return `Missing ${type}: "${char}" - use "\\\\${char}" to match literal characters`;
    };
    var splitTopLevel = (input) => {
      const parts = [];
      let bracket = 0;
      let paren = 0;
      let quote = 0;
      let value = "";
      let escaped = false;
      for (const ch of input) {
        if (escaped === true) {
          value += ch;
          escaped = false;
          continue;
        }
        if (ch === "\\") {
          value += ch;
          escaped = true;
          continue;
        }
        if (ch === '"') {
          quote = quote === 1 ? 0 : 1;
          value += ch;
          continue;
        }
        if (quote === 0) {
          if (ch === "[") {
            bracket++;
          } else if (ch === "]" && bracket > 0) {
            bracket--;
          } else if (bracket === 0) {
            if (ch === "(") {
              paren++;
            } else if (ch === ")" && paren > 0) {
              paren--;
            } else if (ch === "|" && paren === 0) {
              parts.push(value);
              value = "";
              continue;
            }
          }
        }
        value += ch;
      }
      parts.push(value);
      return parts;
    };
    var isPlainBranch = (branch) => {
      let escaped = false;
      for (const ch of branch) {
        if (escaped === true) {
          escaped = false;
          continue;
        }
        if (ch === "\\") {
          escaped = true;
          continue;
        }
        if (/[?*+@!()[\]{}]/.test(ch)) {
          return false;
        }
      }
      return true;
    };
    var normalizeSimpleBranch = (branch) => {
      let value = branch.trim();
      let changed = true;
      while (changed === true) {
        changed = false;
        if (/^@\([^\\()[\]{}|]+\)$/.test(value)) {
          value = value.slice(2, -1);
          changed = true;
        }
      }
      if (!isPlainBranch(value)) {
        return;
      }
      return value.replace(/\\(.)/g, "$1");
    };
    var hasRepeatedCharPrefixOverlap = (branches) => {
      const values = branches.map(normalizeSimpleBranch).filter(Boolean);
      for (let i = 0; i < values.length; i++) {
        for (let j = i + 1; j < values.length; j++) {
          const a = values[i];
          const b = values[j];
          const char = a[0];
          if (!char || a !== char.repeat(a.length) || b !== char.repeat(b.length)) {
            continue;
          }
          if (a === b || a.startsWith(b) || b.startsWith(a)) {
            return true;
          }
        }
      }
      return false;
    };
    var parseRepeatedExtglob = (pattern, requireEnd = true) => {
      if (pattern[0] !== "+" && pattern[0] !== "*" || pattern[1] !== "(") {
        return;
      }
      let bracket = 0;
      let paren = 0;
      let quote = 0;
      let escaped = false;
      for (let i = 1; i < pattern.length; i++) {
        const ch = pattern[i];
        if (escaped === true) {
          escaped = false;
          continue;
        }
        if (ch === "\\") {
          escaped = true;
          continue;
        }
        if (ch === '"') {
          quote = quote === 1 ? 0 : 1;
          continue;
        }
        if (quote === 1) {
          continue;
        }
        if (ch === "[") {
          bracket++;
          continue;
        }
        if (ch === "]" && bracket > 0) {
          bracket--;
          continue;
        }
        if (bracket > 0) {
          continue;
        }
        if (ch === "(") {
          paren++;
          continue;
        }
        if (ch === ")") {
          paren--;
          if (paren === 0) {
            if (requireEnd === true && i !== pattern.length - 1) {
              return;
            }
            return {
              type: pattern[0],
              body: pattern.slice(2, i),
              end: i
            };
          }
        }
      }
    };
    var buildCharClassStar = (chars) => {
      const source = chars.length === 1 ? utils.escapeRegex(chars[0]) : `[${chars.map((ch) => utils.escapeRegex(ch)).join("")}]`;
      return `${source}*`;
    };
    var getStarExtglobSequenceChars = (pattern) => {
      let index = 0;
      const chars = [];
      while (index < pattern.length) {
        const match = parseRepeatedExtglob(pattern.slice(index), false);
        if (!match || match.type !== "*") {
          return;
        }
        const branches = splitTopLevel(match.body).map((branch2) => branch2.trim());
        if (branches.length !== 1) {
          return;
        }
        const branch = normalizeSimpleBranch(branches[0]);
        if (!branch || branch.length !== 1) {
          return;
        }
        chars.push(branch);
        index += match.end + 1;
      }
      if (chars.length < 1) {
        return;
      }
      return chars;
    };
    var repeatedExtglobRecursion = (pattern) => {
      let depth = 0;
      let value = pattern.trim();
      let match = parseRepeatedExtglob(value);
      while (match) {
        depth++;
        value = match.body.trim();
        match = parseRepeatedExtglob(value);
      }
      return depth;
    };
    var analyzeRepeatedExtglob = (body, options) => {
      if (options.maxExtglobRecursion === false) {
        return { risky: false };
      }
      const max = typeof options.maxExtglobRecursion === "number" ? options.maxExtglobRecursion : constants.DEFAULT_MAX_EXTGLOB_RECURSION;
      const branches = splitTopLevel(body).map((branch) => branch.trim());
      if (branches.length > 1) {
        if (branches.some((branch) => branch === "") || branches.some((branch) => /^[*?]+$/.test(branch)) || hasRepeatedCharPrefixOverlap(branches)) {
          return { risky: true };
        }
      }
      const safeChars = [];
      let sawStarSequence = false;
      let combinable = true;
      for (const branch of branches) {
        const chars = getStarExtglobSequenceChars(branch);
        if (chars) {
          sawStarSequence = true;
          safeChars.push(...chars);
          continue;
        }
        const literal = normalizeSimpleBranch(branch);
        if (literal && literal.length === 1) {
          safeChars.push(literal);
          continue;
        }
        combinable = false;
        if (repeatedExtglobRecursion(branch) > max) {
          return { risky: true };
        }
      }
      if (sawStarSequence) {
        return combinable ? { risky: true, safeOutput: buildCharClassStar([...new Set(safeChars)]) } : { risky: true };
      }
      return { risky: false };
    };
    var parse = (input, options) => {
      if (typeof input !== "string") {
        throw new TypeError("Expected a string");
      }
      input = REPLACEMENTS[input] || input;
      const opts = { ...options };
      const max = typeof opts.maxLength === "number" ? Math.min(MAX_LENGTH, opts.maxLength) : MAX_LENGTH;
      let len = input.length;
      if (len > max) {
        throw new SyntaxError(`Input length: ${len}, exceeds maximum allowed length: ${max}`);
      }
      const bos = { type: "bos", value: "", output: opts.prepend || "" };
      const tokens = [bos];
      const capture = opts.capture ? "" : "?:";
      const PLATFORM_CHARS = constants.globChars(opts.windows);
      const EXTGLOB_CHARS = constants.extglobChars(PLATFORM_CHARS);
      const {
        DOT_LITERAL,
        PLUS_LITERAL,
        SLASH_LITERAL,
        ONE_CHAR,
        DOTS_SLASH,
        NO_DOT,
        NO_DOT_SLASH,
        NO_DOTS_SLASH,
        QMARK,
        QMARK_NO_DOT,
        STAR,
        START_ANCHOR
      } = PLATFORM_CHARS;
      const globstar = (opts2) => {
        return `(${capture}(?:(?!${START_ANCHOR}${opts2.dot ? DOTS_SLASH : DOT_LITERAL}).)*?)`;
      };
      const nodot = opts.dot ? "" : NO_DOT;
      const qmarkNoDot = opts.dot ? QMARK : QMARK_NO_DOT;
      let star = opts.bash === true ? globstar(opts) : STAR;
      if (opts.capture) {
        star = `(${star})`;
      }
      if (typeof opts.noext === "boolean") {
        opts.noextglob = opts.noext;
      }
      const state = {
        input,
        index: -1,
        start: 0,
        dot: opts.dot === true,
        consumed: "",
        output: "",
        prefix: "",
        backtrack: false,
        negated: false,
        brackets: 0,
        braces: 0,
        parens: 0,
        quotes: 0,
        globstar: false,
        tokens
      };
      input = utils.removePrefix(input, state);
      len = input.length;
      const extglobs = [];
      const braces = [];
      const stack = [];
      let prev = bos;
      let value;
      const eos = () => state.index === len - 1;
      const peek = state.peek = (n = 1) => input[state.index + n];
      const advance = state.advance = () => input[++state.index] || "";
      const remaining = () => input.slice(state.index + 1);
      const consume = (value2 = "", num = 0) => {
        state.consumed += value2;
        state.index += num;
      };
      const append = (token) => {
        state.output += token.output != null ? token.output : token.value;
        consume(token.value);
      };
      const negate = () => {
        let count = 1;
        while (peek() === "!" && (peek(2) !== "(" || peek(3) === "?")) {
          advance();
          state.start++;
          count++;
        }
        if (count % 2 === 0) {
          return false;
        }
        state.negated = true;
        state.start++;
        return true;
      };
      const increment = (type) => {
        state[type]++;
        stack.push(type);
      };
      const decrement = (type) => {
        state[type]--;
        stack.pop();
      };
      const push = (tok) => {
        if (prev.type === "globstar") {
          const isBrace = state.braces > 0 && (tok.type === "comma" || tok.type === "brace");
          const isExtglob = tok.extglob === true || extglobs.length && (tok.type === "pipe" || tok.type === "paren");
          if (tok.type !== "slash" && tok.type !== "paren" && !isBrace && !isExtglob) {
            state.output = state.output.slice(0, -prev.output.length);
            prev.type = "star";
            prev.value = "*";
            prev.output = star;
            state.output += prev.output;
          }
        }
        if (extglobs.length && tok.type !== "paren") {
          extglobs[extglobs.length - 1].inner += tok.value;
        }
        if (tok.value || tok.output) append(tok);
        if (prev && prev.type === "text" && tok.type === "text") {
          prev.output = (prev.output || prev.value) + tok.value;
          prev.value += tok.value;
          return;
        }
        tok.prev = prev;
        tokens.push(tok);
        prev = tok;
      };
      const extglobOpen = (type, value2) => {
        const token = { ...EXTGLOB_CHARS[value2], conditions: 1, inner: "" };
        token.prev = prev;
        token.parens = state.parens;
        token.output = state.output;
        token.startIndex = state.index;
        token.tokensIndex = tokens.length;
        const output = (opts.capture ? "(" : "") + token.open;
        increment("parens");
        push({ type, value: value2, output: state.output ? "" : ONE_CHAR });
        push({ type: "paren", extglob: true, value: advance(), output });
        extglobs.push(token);
      };
      const extglobClose = (token) => {
        const literal = input.slice(token.startIndex, state.index + 1);
        const body = input.slice(token.startIndex + 2, state.index);
        const analysis = analyzeRepeatedExtglob(body, opts);
        if ((token.type === "plus" || token.type === "star") && analysis.risky) {
          const safeOutput = analysis.safeOutput ? (token.output ? "" : ONE_CHAR) + (opts.capture ? `(${analysis.safeOutput})` : analysis.safeOutput) : void 0;
          const open2 = tokens[token.tokensIndex];
          open2.type = "text";
          open2.value = literal;
          open2.output = safeOutput || utils.escapeRegex(literal);
          for (let i = token.tokensIndex + 1; i < tokens.length; i++) {
            tokens[i].value = "";
            tokens[i].output = "";
            delete tokens[i].suffix;
          }
          state.output = token.output + open2.output;
          state.backtrack = true;
          push({ type: "paren", extglob: true, value, output: "" });
          decrement("parens");
          return;
        }
        let output = token.close + (opts.capture ? ")" : "");
        let rest;
        if (token.type === "negate") {
          let extglobStar = star;
          if (token.inner && token.inner.length > 1 && token.inner.includes("/")) {
            extglobStar = globstar(opts);
          }
          if (extglobStar !== star || eos() || /^\)+$/.test(remaining())) {
            output = token.close = `)$))${extglobStar}`;
          }
          if (token.inner.includes("*") && (rest = remaining()) && /^\.[^\\/.]+$/.test(rest)) {
            const expression = parse(rest, { ...options, fastpaths: false }).output;
            output = token.close = `)${expression})${extglobStar})`;
          }
          if (token.prev.type === "bos") {
            state.negatedExtglob = true;
          }
        }
        push({ type: "paren", extglob: true, value, output });
        decrement("parens");
      };
      if (opts.fastpaths !== false && !/(^[*!]|[/()[\]{}"])/.test(input)) {
        let backslashes = false;
        let output = input.replace(REGEX_SPECIAL_CHARS_BACKREF, (m, esc, chars, first, rest, index) => {
          if (first === "\\") {
            backslashes = true;
            return m;
          }
          if (first === "?") {
            if (esc) {
              return esc + first + (rest ? QMARK.repeat(rest.length) : "");
            }
            if (index === 0) {
              return qmarkNoDot + (rest ? QMARK.repeat(rest.length) : "");
            }
            return QMARK.repeat(chars.length);
          }
          if (first === ".") {
            return DOT_LITERAL.repeat(chars.length);
          }
          if (first === "*") {
            if (esc) {
              return esc + first + (rest ? star : "");
            }
            return star;
          }
          return esc ? m : `\\${m}`;
        });
        if (backslashes === true) {
          if (opts.unescape === true) {
            output = output.replace(/\\/g, "");
          } else {
            output = output.replace(/\\+/g, (m) => {
              return m.length % 2 === 0 ? "\\\\" : m ? "\\" : "";
            });
          }
        }
        if (output === input && opts.contains === true) {
          state.output = input;
          return state;
        }
        state.output = utils.wrapOutput(output, state, options);
        return state;
      }
      while (!eos()) {
        value = advance();
        if (value === "\0") {
          continue;
        }
        if (value === "\\") {
          const next = peek();
          if (next === "/" && opts.bash !== true) {
            continue;
          }
          if (next === "." || next === ";") {
            continue;
          }
          if (!next) {
            value += "\\";
            push({ type: "text", value });
            continue;
          }
          const match = /^\\+/.exec(remaining());
          let slashes = 0;
          if (match && match[0].length > 2) {
            slashes = match[0].length;
            state.index += slashes;
            if (slashes % 2 !== 0) {
              value += "\\";
            }
          }
          if (opts.unescape === true) {
            value = advance();
          } else {
            value += advance();
          }
          if (state.brackets === 0) {
            push({ type: "text", value });
            continue;
          }
        }
        if (state.brackets > 0 && (value !== "]" || prev.value === "[" || prev.value === "[^")) {
          if (opts.posix !== false && value === ":") {
            const inner = prev.value.slice(1);
            if (inner.includes("[")) {
              prev.posix = true;
              if (inner.includes(":")) {
                const idx = prev.value.lastIndexOf("[");
                const pre = prev.value.slice(0, idx);
                const rest2 = prev.value.slice(idx + 2);
                const posix = POSIX_REGEX_SOURCE[rest2];
                if (posix) {
                  prev.value = pre + posix;
                  state.backtrack = true;
                  advance();
                  if (!bos.output && tokens.indexOf(prev) === 1) {
                    bos.output = ONE_CHAR;
                  }
                  continue;
                }
              }
            }
          }
          if (value === "[" && peek() !== ":" || value === "-" && peek() === "]") {
            value = `\\${value}`;
          }
          if (value === "]" && (prev.value === "[" || prev.value === "[^")) {
            value = `\\${value}`;
          }
          if (opts.posix === true && value === "!" && prev.value === "[") {
            value = "^";
          }
          prev.value += value;
          append({ value });
          continue;
        }
        if (state.quotes === 1 && value !== '"') {
          value = utils.escapeRegex(value);
          prev.value += value;
          append({ value });
          continue;
        }
        if (value === '"') {
          state.quotes = state.quotes === 1 ? 0 : 1;
          if (opts.keepQuotes === true) {
            push({ type: "text", value });
          }
          continue;
        }
        if (value === "(") {
          increment("parens");
          push({ type: "paren", value });
          continue;
        }
        if (value === ")") {
          if (state.parens === 0 && opts.strictBrackets === true) {
            throw new SyntaxError(syntaxError("opening", "("));
          }
          const extglob = extglobs[extglobs.length - 1];
          if (extglob && state.parens === extglob.parens + 1) {
            extglobClose(extglobs.pop());
            continue;
          }
          push({ type: "paren", value, output: state.parens ? ")" : "\\)" });
          decrement("parens");
          continue;
        }
        if (value === "[") {
          if (opts.nobracket === true || !remaining().includes("]")) {
            if (opts.nobracket !== true && opts.strictBrackets === true) {
              throw new SyntaxError(syntaxError("closing", "]"));
            }
            value = `\\${value}`;
          } else {
            increment("brackets");
          }
          push({ type: "bracket", value });
          continue;
        }
        if (value === "]") {
          if (opts.nobracket === true || prev && prev.type === "bracket" && prev.value.length === 1) {
            push({ type: "text", value, output: `\\${value}` });
            continue;
          }
          if (state.brackets === 0) {
            if (opts.strictBrackets === true) {
              throw new SyntaxError(syntaxError("opening", "["));
            }
            push({ type: "text", value, output: `\\${value}` });
            continue;
          }
          decrement("brackets");
          const prevValue = prev.value.slice(1);
          if (prev.posix !== true && prevValue[0] === "^" && !prevValue.includes("/")) {
            value = `/${value}`;
          }
          prev.value += value;
          append({ value });
          if (opts.literalBrackets === false || utils.hasRegexChars(prevValue)) {
            continue;
          }
          const escaped = utils.escapeRegex(prev.value);
          state.output = state.output.slice(0, -prev.value.length);
          if (opts.literalBrackets === true) {
            state.output += escaped;
            prev.value = escaped;
            continue;
          }
          prev.value = `(${capture}${escaped}|${prev.value})`;
          state.output += prev.value;
          continue;
        }
        if (value === "{" && opts.nobrace !== true) {
          increment("braces");
          const open2 = {
            type: "brace",
            value,
            output: "(",
            outputIndex: state.output.length,
            tokensIndex: state.tokens.length
          };
          braces.push(open2);
          push(open2);
          continue;
        }
        if (value === "}") {
          const brace = braces[braces.length - 1];
          if (opts.nobrace === true || !brace) {
            push({ type: "text", value, output: value });
            continue;
          }
          let output = ")";
          if (brace.dots === true) {
            const arr = tokens.slice();
            const range = [];
            for (let i = arr.length - 1; i >= 0; i--) {
              tokens.pop();
              if (arr[i].type === "brace") {
                break;
              }
              if (arr[i].type !== "dots") {
                range.unshift(arr[i].value);
              }
            }
            output = expandRange(range, opts);
            state.backtrack = true;
          }
          if (brace.comma !== true && brace.dots !== true) {
            const out = state.output.slice(0, brace.outputIndex);
            const toks = state.tokens.slice(brace.tokensIndex);
            brace.value = brace.output = "\\{";
            value = output = "\\}";
            state.output = out;
            for (const t of toks) {
              state.output += t.output || t.value;
            }
          }
          push({ type: "brace", value, output });
          decrement("braces");
          braces.pop();
          continue;
        }
        if (value === "|") {
          if (extglobs.length > 0) {
            extglobs[extglobs.length - 1].conditions++;
          }
          push({ type: "text", value });
          continue;
        }
        if (value === ",") {
          let output = value;
          const brace = braces[braces.length - 1];
          if (brace && stack[stack.length - 1] === "braces") {
            brace.comma = true;
            output = "|";
          }
          push({ type: "comma", value, output });
          continue;
        }
        if (value === "/") {
          if (prev.type === "dot" && state.index === state.start + 1) {
            state.start = state.index + 1;
            state.consumed = "";
            state.output = "";
            tokens.pop();
            prev = bos;
            continue;
          }
          push({ type: "slash", value, output: SLASH_LITERAL });
          continue;
        }
        if (value === ".") {
          if (state.braces > 0 && prev.type === "dot") {
            if (prev.value === ".") prev.output = DOT_LITERAL;
            const brace = braces[braces.length - 1];
            prev.type = "dots";
            prev.output += value;
            prev.value += value;
            brace.dots = true;
            continue;
          }
          if (state.braces + state.parens === 0 && prev.type !== "bos" && prev.type !== "slash") {
            push({ type: "text", value, output: DOT_LITERAL });
            continue;
          }
          push({ type: "dot", value, output: DOT_LITERAL });
          continue;
        }
        if (value === "?") {
          const isGroup = prev && prev.value === "(";
          if (!isGroup && opts.noextglob !== true && peek() === "(" && peek(2) !== "?") {
            extglobOpen("qmark", value);
            continue;
          }
          if (prev && prev.type === "paren") {
            const next = peek();
            let output = value;
            if (prev.value === "(" && !/[!=<:]/.test(next) || next === "<" && !/<([!=]|\w+>)/.test(remaining())) {
              output = `\\${value}`;
            }
            push({ type: "text", value, output });
            continue;
          }
          if (opts.dot !== true && (prev.type === "slash" || prev.type === "bos")) {
            push({ type: "qmark", value, output: QMARK_NO_DOT });
            continue;
          }
          push({ type: "qmark", value, output: QMARK });
          continue;
        }
        if (value === "!") {
          if (opts.noextglob !== true && peek() === "(") {
            if (peek(2) !== "?" || !/[!=<:]/.test(peek(3))) {
              extglobOpen("negate", value);
              continue;
            }
          }
          if (opts.nonegate !== true && state.index === 0) {
            negate();
            continue;
          }
        }
        if (value === "+") {
          if (opts.noextglob !== true && peek() === "(" && peek(2) !== "?") {
            extglobOpen("plus", value);
            continue;
          }
          if (prev && prev.value === "(" || opts.regex === false) {
            push({ type: "plus", value, output: PLUS_LITERAL });
            continue;
          }
          if (prev && (prev.type === "bracket" || prev.type === "paren" || prev.type === "brace") || state.parens > 0) {
            push({ type: "plus", value });
            continue;
          }
          push({ type: "plus", value: PLUS_LITERAL });
          continue;
        }
        if (value === "@") {
          if (opts.noextglob !== true && peek() === "(" && peek(2) !== "?") {
            push({ type: "at", extglob: true, value, output: "" });
            continue;
          }
          push({ type: "text", value });
          continue;
        }
        if (value !== "*") {
          if (value === "$" || value === "^") {
            value = `\\${value}`;
          }
          const match = REGEX_NON_SPECIAL_CHARS.exec(remaining());
          if (match) {
            value += match[0];
            state.index += match[0].length;
          }
          push({ type: "text", value });
          continue;
        }
        if (prev && (prev.type === "globstar" || prev.star === true)) {
          prev.type = "star";
          prev.star = true;
          prev.value += value;
          prev.output = star;
          state.backtrack = true;
          state.globstar = true;
          consume(value);
          continue;
        }
        let rest = remaining();
        if (opts.noextglob !== true && /^\([^?]/.test(rest)) {
          extglobOpen("star", value);
          continue;
        }
        if (prev.type === "star") {
          if (opts.noglobstar === true) {
            consume(value);
            continue;
          }
          const prior = prev.prev;
          const before = prior.prev;
          const isStart = prior.type === "slash" || prior.type === "bos";
          const afterStar = before && (before.type === "star" || before.type === "globstar");
          if (opts.bash === true && (!isStart || rest[0] && rest[0] !== "/")) {
            push({ type: "star", value, output: "" });
            continue;
          }
          const isBrace = state.braces > 0 && (prior.type === "comma" || prior.type === "brace");
          const isExtglob = extglobs.length && (prior.type === "pipe" || prior.type === "paren");
          if (!isStart && prior.type !== "paren" && !isBrace && !isExtglob) {
            push({ type: "star", value, output: "" });
            continue;
          }
          while (rest.slice(0, 3) === "/**") {
            const after = input[state.index + 4];
            if (after && after !== "/") {
              break;
            }
            rest = rest.slice(3);
            consume("/**", 3);
          }
          const isEnd = eos() || state.parens > 0 && rest === ")".repeat(state.parens) && !extglobs.some((extglob) => extglob.type === "negate");
          if (prior.type === "bos" && eos()) {
            prev.type = "globstar";
            prev.value += value;
            prev.output = globstar(opts);
            state.output = prev.output;
            state.globstar = true;
            consume(value);
            continue;
          }
          if (prior.type === "slash" && prior.prev.type !== "bos" && !afterStar && isEnd) {
            state.output = state.output.slice(0, -(prior.output + prev.output).length);
            prior.output = `(?:${prior.output}`;
            prev.type = "globstar";
            prev.output = globstar(opts) + (opts.strictSlashes ? ")" : "|$)");
            prev.value += value;
            state.globstar = true;
            state.output += prior.output + prev.output;
            consume(value);
            continue;
          }
          if (prior.type === "slash" && prior.prev.type !== "bos" && rest[0] === "/") {
            const end = rest[1] !== void 0 ? "|$" : "";
            state.output = state.output.slice(0, -(prior.output + prev.output).length);
            prior.output = `(?:${prior.output}`;
            prev.type = "globstar";
            prev.output = `${globstar(opts)}${SLASH_LITERAL}|${SLASH_LITERAL}${end})`;
            prev.value += value;
            state.output += prior.output + prev.output;
            state.globstar = true;
            consume(value + advance());
            push({ type: "slash", value: "/", output: "" });
            continue;
          }
          if (prior.type === "bos" && rest[0] === "/") {
            prev.type = "globstar";
            prev.value += value;
            prev.output = `(?:^|${SLASH_LITERAL}|${globstar(opts)}${SLASH_LITERAL})`;
            state.output = prev.output;
            state.globstar = true;
            consume(value + advance());
            push({ type: "slash", value: "/", output: "" });
            continue;
          }
          state.output = state.output.slice(0, -prev.output.length);
          prev.type = "globstar";
          prev.output = globstar(opts);
          prev.value += value;
          state.output += prev.output;
          state.globstar = true;
          consume(value);
          continue;
        }
        const token = { type: "star", value, output: star };
        if (opts.bash === true) {
          token.output = ".*?";
          if (prev.type === "bos" || prev.type === "slash") {
            token.output = nodot + token.output;
          }
          push(token);
          continue;
        }
        if (prev && (prev.type === "bracket" || prev.type === "paren") && opts.regex === true) {
          token.output = value;
          push(token);
          continue;
        }
        if (state.index === state.start || prev.type === "slash" || prev.type === "dot") {
          if (prev.type === "dot") {
            state.output += NO_DOT_SLASH;
            prev.output += NO_DOT_SLASH;
          } else if (opts.dot === true) {
            state.output += NO_DOTS_SLASH;
            prev.output += NO_DOTS_SLASH;
          } else {
            state.output += nodot;
            prev.output += nodot;
          }
          if (peek() !== "*") {
            state.output += ONE_CHAR;
            prev.output += ONE_CHAR;
          }
        }
        push(token);
      }
      while (state.brackets > 0) {
        if (opts.strictBrackets === true) throw new SyntaxError(syntaxError("closing", "]"));
        state.output = utils.escapeLast(state.output, "[");
        decrement("brackets");
      }
      while (state.parens > 0) {
        if (opts.strictBrackets === true) throw new SyntaxError(syntaxError("closing", ")"));
        state.output = utils.escapeLast(state.output, "(");
        decrement("parens");
      }
      while (state.braces > 0) {
        if (opts.strictBrackets === true) throw new SyntaxError(syntaxError("closing", "}"));
        state.output = utils.escapeLast(state.output, "{");
        decrement("braces");
      }
      if (opts.strictSlashes !== true && (prev.type === "star" || prev.type === "bracket")) {
        push({ type: "maybe_slash", value: "", output: `${SLASH_LITERAL}?` });
      }
      if (state.backtrack === true) {
        state.output = "";
        for (const token of state.tokens) {
          state.output += token.output != null ? token.output : token.value;
          if (token.suffix) {
            state.output += token.suffix;
          }
        }
      }
      return state;
    };
    parse.fastpaths = (input, options) => {
      const opts = { ...options };
      const max = typeof opts.maxLength === "number" ? Math.min(MAX_LENGTH, opts.maxLength) : MAX_LENGTH;
      const len = input.length;
      if (len > max) {
        throw new SyntaxError(`Input length: ${len}, exceeds maximum allowed length: ${max}`);
      }
      input = REPLACEMENTS[input] || input;
      const {
        DOT_LITERAL,
        SLASH_LITERAL,
        ONE_CHAR,
        DOTS_SLASH,
        NO_DOT,
        NO_DOTS,
        NO_DOTS_SLASH,
        STAR,
        START_ANCHOR
      } = constants.globChars(opts.windows);
      const nodot = opts.dot ? NO_DOTS : NO_DOT;
      const slashDot = opts.dot ? NO_DOTS_SLASH : NO_DOT;
      const capture = opts.capture ? "" : "?:";
      const state = { negated: false, prefix: "" };
      let star = opts.bash === true ? ".*?" : STAR;
      if (opts.capture) {
        star = `(${star})`;
      }
      const globstar = (opts2) => {
        if (opts2.noglobstar === true) return star;
        return `(${capture}(?:(?!${START_ANCHOR}${opts2.dot ? DOTS_SLASH : DOT_LITERAL}).)*?)`;
      };
      const create = (str) => {
        switch (str) {
          case "*":
            return `${nodot}${ONE_CHAR}${star}`;
          case ".*":
            return `${DOT_LITERAL}${ONE_CHAR}${star}`;
          case "*.*":
            return `${nodot}${star}${DOT_LITERAL}${ONE_CHAR}${star}`;
          case "*/*":
            return `${nodot}${star}${SLASH_LITERAL}${ONE_CHAR}${slashDot}${star}`;
          case "**":
            return nodot + globstar(opts);
          case "**/*":
            return `(?:${nodot}${globstar(opts)}${SLASH_LITERAL})?${slashDot}${ONE_CHAR}${star}`;
          case "**/*.*":
            return `(?:${nodot}${globstar(opts)}${SLASH_LITERAL})?${slashDot}${star}${DOT_LITERAL}${ONE_CHAR}${star}`;
          case "**/.*":
            return `(?:${nodot}${globstar(opts)}${SLASH_LITERAL})?${DOT_LITERAL}${ONE_CHAR}${star}`;
          default: {
            const match = /^(.*?)\.(\w+)$/.exec(str);
            if (!match) return;
            const source2 = create(match[1]);
            if (!source2) return;
            return source2 + DOT_LITERAL + match[2];
          }
        }
      };
      const output = utils.removePrefix(input, state);
      let source = create(output);
      if (source && opts.strictSlashes !== true) {
        source += `${SLASH_LITERAL}?`;
      }
      return source;
    };
    module.exports = parse;
  }
});

// node_modules/picomatch/lib/picomatch.js
var require_picomatch = __commonJS({
  "node_modules/picomatch/lib/picomatch.js"(exports, module) {
    "use strict";
    var scan = require_scan();
    var parse = require_parse();
    var utils = require_utils();
    var constants = require_constants();
    var isObject = (val) => val && typeof val === "object" && !Array.isArray(val);
    var picomatch2 = (glob, options, returnState = false) => {
      if (Array.isArray(glob)) {
        const fns = glob.map((input) => picomatch2(input, options, returnState));
        const arrayMatcher = (str) => {
          for (const isMatch of fns) {
            const state2 = isMatch(str);
            if (state2) return state2;
          }
          return false;
        };
        return arrayMatcher;
      }
      const isState = isObject(glob) && glob.tokens && glob.input;
      if (glob === "" || typeof glob !== "string" && !isState) {
        throw new TypeError("Expected pattern to be a non-empty string");
      }
      const opts = options || {};
      const posix = opts.windows;
      const regex = isState ? picomatch2.compileRe(glob, options) : picomatch2.makeRe(glob, options, false, true);
      const state = regex.state;
      delete regex.state;
      let isIgnored = () => false;
      if (opts.ignore) {
        const ignoreOpts = { ...options, ignore: null, onMatch: null, onResult: null };
        isIgnored = picomatch2(opts.ignore, ignoreOpts, returnState);
      }
      const matcher = (input, returnObject = false) => {
        const { isMatch, match, output } = picomatch2.test(input, regex, options, { glob, posix });
        const result = { glob, state, regex, posix, input, output, match, isMatch };
        if (typeof opts.onResult === "function") {
          opts.onResult(result);
        }
        if (isMatch === false) {
          result.isMatch = false;
          return returnObject ? result : false;
        }
        if (isIgnored(input)) {
          if (typeof opts.onIgnore === "function") {
            opts.onIgnore(result);
          }
          result.isMatch = false;
          return returnObject ? result : false;
        }
        if (typeof opts.onMatch === "function") {
          opts.onMatch(result);
        }
        return returnObject ? result : true;
      };
      if (returnState) {
        matcher.state = state;
      }
      return matcher;
    };
    picomatch2.test = (input, regex, options, { glob, posix } = {}) => {
      if (typeof input !== "string") {
        throw new TypeError("Expected input to be a string");
      }
      if (input === "") {
        return { isMatch: false, output: "" };
      }
      const opts = options || {};
      const format = opts.format || (posix ? utils.toPosixSlashes : null);
      let match = input === glob;
      let output = match && format ? format(input) : input;
      if (match === false) {
        output = format ? format(input) : input;
        match = output === glob;
      }
      if (match === false || opts.capture === true) {
        if (opts.matchBase === true || opts.basename === true) {
          match = picomatch2.matchBase(input, regex, options, posix);
        } else {
          match = regex.exec(output);
        }
      }
      return { isMatch: Boolean(match), match, output };
    };
    picomatch2.matchBase = (input, glob, options, posix = options && options.windows) => {
      const regex = glob instanceof RegExp ? glob : picomatch2.makeRe(glob, options);
      return regex.test(utils.basename(input, { windows: posix }));
    };
    picomatch2.isMatch = (str, patterns, options) => picomatch2(patterns, options)(str);
    picomatch2.parse = (pattern, options) => {
      if (Array.isArray(pattern)) return pattern.map((p) => picomatch2.parse(p, options));
      return parse(pattern, { ...options, fastpaths: false });
    };
    picomatch2.scan = (input, options) => scan(input, options);
    picomatch2.compileRe = (state, options, returnOutput = false, returnState = false) => {
      if (returnOutput === true) {
        return state.output;
      }
      const opts = options || {};
      const prepend = opts.contains ? "" : "^";
      const append = opts.contains ? "" : "$";
      let source = `${prepend}(?:${state.output})${append}`;
      if (state && state.negated === true) {
        source = `^(?!${source}).*$`;
      }
      const regex = picomatch2.toRegex(source, options);
      if (returnState === true) {
        regex.state = state;
      }
      return regex;
    };
    picomatch2.makeRe = (input, options = {}, returnOutput = false, returnState = false) => {
      if (!input || typeof input !== "string") {
        throw new TypeError("Expected a non-empty string");
      }
      let parsed = { negated: false, fastpaths: true };
      if (options.fastpaths !== false && (input[0] === "." || input[0] === "*")) {
        parsed.output = parse.fastpaths(input, options);
      }
      if (!parsed.output) {
        parsed = parse(input, options);
      }
      return picomatch2.compileRe(parsed, options, returnOutput, returnState);
    };
    picomatch2.toRegex = (source, options) => {
      try {
        const opts = options || {};
        return new RegExp(source, opts.flags || (opts.nocase ? "i" : ""));
      } catch (err) {
        if (options && options.debug === true) throw err;
        return /$^/;
      }
    };
    picomatch2.constants = constants;
    module.exports = picomatch2;
  }
});

// node_modules/picomatch/index.js
var require_picomatch2 = __commonJS({
  "node_modules/picomatch/index.js"(exports, module) {
    "use strict";
    var pico = require_picomatch();
    var utils = require_utils();
    function picomatch2(glob, options, returnState = false) {
      if (options && (options.windows === null || options.windows === void 0)) {
        options = { ...options, windows: utils.isWindows() };
      }
      return pico(glob, options, returnState);
    }
    Object.assign(picomatch2, pico);
    module.exports = picomatch2;
  }
});

// src/cli/main.ts
import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";

// src/core/policy/policy.ts
var import_picomatch = __toESM(require_picomatch2(), 1);

// src/core/limits.ts
var DEFAULT_LIMITS = Object.freeze({
  maxFileBytes: 256 * 2 ** 30,
  maxDecompressedBytes: 8 * 2 ** 30,
  maxCompressionRatio: 200,
  maxDepth: 8,
  maxEntries: 1e5,
  maxOpcodes: 5e8,
  maxMemo: 1e7,
  maxStackDepth: 1e5,
  maxStringBytes: 64 * 2 ** 20,
  maxDocumentBytes: 128 * 2 ** 20,
  maxTimeMs: 6e5,
  maxFindings: 500
});
var LIMIT_NAMES = Object.keys(DEFAULT_LIMITS);
var BudgetExceededError = class extends Error {
  constructor(limit, detail) {
    super(`${limit} exceeded: ${detail}`);
    this.limit = limit;
    this.detail = detail;
    this.name = "BudgetExceededError";
  }
  limit;
  detail;
};
var Budget = class {
  constructor(limits, now = Date.now()) {
    this.limits = limits;
    this.deadline = now + limits.maxTimeMs;
  }
  limits;
  counters = /* @__PURE__ */ new Map();
  deadline;
  /** Adds `n` to a cumulative counter (decompressed bytes, entries, opcodes) and throws past its limit. */
  consume(limit, n) {
    const total = (this.counters.get(limit) ?? 0) + n;
    this.counters.set(limit, total);
    if (total > this.limits[limit]) {
      throw new BudgetExceededError(limit, `${total} > ${this.limits[limit]}`);
    }
  }
  used(limit) {
    return this.counters.get(limit) ?? 0;
  }
  /** Throws when the per-file time budget is spent; call it every few thousand steps of any loop. */
  checkTime() {
    if (Date.now() > this.deadline) {
      throw new BudgetExceededError("maxTimeMs", `analysis took longer than ${this.limits.maxTimeMs} ms`);
    }
  }
  /** Throws when `value` exceeds a per-object limit (depth, memo, string length...). */
  check(limit, value, what) {
    if (value > this.limits[limit]) {
      throw new BudgetExceededError(limit, `${what}: ${value} > ${this.limits[limit]}`);
    }
  }
};

// src/core/rules/rule.ts
var DEFAULT_SCORE = {
  none: 0,
  low: 10,
  medium: 30,
  high: 60,
  critical: 100
};
function defineRules(rules) {
  return rules.map((r) => ({
    ...r,
    score: r.score ?? DEFAULT_SCORE[r.severity],
    waivable: r.waivable ?? r.severity !== "critical"
  }));
}

// src/core/rules/core-rules.ts
var coreRules = defineRules([
  {
    id: "MG001",
    slug: "budget_exceeded",
    title: "Analysis budget exceeded",
    severity: "medium",
    score: 0,
    kind: "incomplete",
    cwe: 400,
    description: "The file hit one of the analysis budgets (bytes, entries, nesting depth, opcodes, memo or stack size, string length or time). What lies past the limit was not analysed, so the file cannot be called clean.",
    remediation: "Check why the file is so large or deep. If it is legitimate, raise the named limit in the policy file (`limits`) and scan again."
  },
  {
    id: "MG002",
    slug: "malformed",
    title: "Malformed or truncated file",
    severity: "medium",
    score: 0,
    kind: "incomplete",
    cwe: 20,
    description: "The file is not valid for the format it claims to be (truncated, a bad length or offset, an unparseable structure). It could not be fully analysed; a loader might still read a part of it.",
    remediation: "Regenerate the file with its original library, or find out who altered it."
  },
  {
    id: "MG003",
    slug: "internal_error",
    title: "Scanner error while analysing the file",
    severity: "medium",
    score: 0,
    kind: "incomplete",
    description: "modelgate hit an unexpected error while analysing this file. The analysis stopped there, so the file is reported incomplete rather than clean. The message quotes the error.",
    remediation: "Report the error with the file (or a reduced copy) to the modelgate maintainers."
  },
  {
    id: "MG004",
    slug: "unknown_model_format",
    title: "Unrecognised content under a model file name",
    severity: "medium",
    score: 0,
    kind: "incomplete",
    description: "The file is named like a model (.bin, .pt, .pkl, .ckpt, .onnx, ...) but its content matches no format modelgate can analyse. Loaders choose by content, not by name, so an unknown payload cannot be called clean.",
    remediation: "Find out what the file is. Use a supported format, or remove the file."
  },
  {
    id: "MG005",
    slug: "extension_mismatch",
    title: "File extension disagrees with its content",
    severity: "medium",
    kind: "anomaly",
    cwe: 646,
    description: "The file extension names one format while the content is another (for example a pickle named .safetensors). Scanners and reviewers that trust extensions are misled this way; loaders that sniff content still load it.",
    remediation: "Rename the file after what it really is, or regenerate it in the format its name claims."
  },
  {
    id: "MG006",
    slug: "polyglot",
    title: "File is valid as more than one format",
    severity: "high",
    kind: "anomaly",
    cwe: 434,
    description: "The same bytes read as two different formats (for example a pickle with a zip appended, or a safetensors file followed by a pickle). Different tools see different files; a scanner may check one reading while the loader executes the other. Both readings were scanned.",
    remediation: "Regenerate the file with the original library; a legitimate writer never produces a polyglot."
  },
  {
    id: "MG007",
    slug: "lfs_pointer",
    title: "Git LFS pointer: the model content was not scanned",
    severity: "medium",
    score: 0,
    kind: "incomplete",
    description: "The file is a Git LFS pointer (a small text file naming the real object by sha256). The model itself is not here, so it was not scanned.",
    remediation: "Fetch the LFS object (`git lfs pull`, or the action input `lfs: fetch`) and scan again."
  },
  {
    id: "MG008",
    slug: "not_regular_file",
    title: "Not a regular file; not scanned",
    severity: "low",
    score: 0,
    kind: "anomaly",
    description: "The path is a FIFO, socket, device or a symbolic link that leaves the scanned folder. modelgate does not open such paths (reading a FIFO can hang the job, and links outside the folder are not part of the change).",
    remediation: "Replace it with a regular file if it is meant to be a model."
  }
]);

// src/core/rules/catalogue.ts
var ALL = [...coreRules];
var byId = /* @__PURE__ */ new Map();
for (const r of ALL) {
  if (byId.has(r.id)) throw new Error(`rule id ${r.id} is defined twice`);
  byId.set(r.id, r);
}
var RULES = ALL;
function getRule(id) {
  const r = byId.get(id);
  if (!r) throw new Error(`unknown rule id ${id}: every finding must name a rule from the catalogue`);
  return r;
}

// src/core/types.ts
var SEVERITIES = ["none", "low", "medium", "high", "critical"];
var VERDICTS = ["pass", "warn", "incomplete", "block"];
function severityForScore(score) {
  if (score <= 0) return "none";
  if (score < 20) return "low";
  if (score < 50) return "medium";
  if (score < 80) return "high";
  return "critical";
}
function severityRank(s) {
  return SEVERITIES.indexOf(s);
}
function verdictRank(v) {
  return VERDICTS.indexOf(v);
}
function worstVerdict(verdicts) {
  let worst = "pass";
  for (const v of verdicts) if (verdictRank(v) > verdictRank(worst)) worst = v;
  return worst;
}

// src/core/policy/policy.ts
var DEFAULT_POLICY = Object.freeze({
  maxScore: 49,
  failOnIncomplete: true,
  warnOnly: false,
  ruleScores: {},
  allow: [],
  waivers: [],
  limits: { ...DEFAULT_LIMITS }
});
function evaluateFile(findings, policy, file, now) {
  const today = now.toISOString().slice(0, 10);
  const expiredWaivers = /* @__PURE__ */ new Set();
  const out = [];
  for (const f of findings) {
    const rule = getRule(f.ruleId);
    let score2 = f.score;
    const override = policy.ruleScores[f.ruleId];
    if (override !== void 0) score2 = rule.waivable ? override : Math.max(override, f.score);
    const finding = { ...f, score: score2, severity: f.severity };
    if (rule.waivable) {
      for (const w of policy.waivers) {
        if (!waiverMatches(w, f.ruleId, file)) continue;
        if (w.expires < today) {
          expiredWaivers.add(w);
          continue;
        }
        finding.waived = { reason: w.reason, expires: w.expires };
        break;
      }
    }
    out.push(finding);
  }
  const parts = /* @__PURE__ */ new Map();
  for (const f of out) {
    if (f.waived || f.score <= 0) continue;
    const slug = getRule(f.ruleId).slug;
    const key = f.location.symbol ? `${slug}:${f.location.symbol}` : slug;
    parts.set(key, Math.max(parts.get(key) ?? 0, f.score));
  }
  const breakdown2 = Object.fromEntries([...parts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
  const score = Math.min(
    100,
    [...parts.values()].reduce((a, b) => a + b, 0)
  );
  const incomplete = out.some((f) => !f.waived && getRule(f.ruleId).kind === "incomplete");
  let verdict = "pass";
  if (score > policy.maxScore) verdict = "block";
  else if (incomplete) verdict = "incomplete";
  else if (score > 0) verdict = "warn";
  return {
    findings: out,
    score,
    severity: severityForScore(score),
    verdict,
    scoreBreakdown: breakdown2,
    expiredWaivers: [...expiredWaivers]
  };
}
function waiverMatches(w, ruleId, file) {
  if (w.ruleId !== ruleId) return false;
  if (w.sha256 && w.sha256.toLowerCase() !== file.sha256) return false;
  return import_picomatch.default.isMatch(file.path, w.path, { dot: true });
}

// src/core/policy/resolve.ts
var PolicyError = class extends Error {
  name = "PolicyError";
};
async function resolvePolicy(o) {
  if (o.configFile !== void 0 || o.profile !== void 0) {
    throw new PolicyError("policy files are not supported by this build");
  }
  const policy = structuredClone(DEFAULT_POLICY);
  if (o.maxScore !== void 0) policy.maxScore = o.maxScore;
  if (o.allowIncomplete) policy.failOnIncomplete = false;
  if (o.warnOnly) policy.warnOnly = true;
  return policy;
}

// src/core/report/json.ts
function renderJson(report) {
  return `${JSON.stringify(report, null, 2)}
`;
}

// src/core/report/escape.ts
function escapeControl(s) {
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const code2 = c.charCodeAt(0);
    return code2 <= 255 ? `\\x${code2.toString(16).padStart(2, "0")}` : `\\u${code2.toString(16).padStart(4, "0")}`;
  });
}
function escapeMarkdown(s) {
  return escapeControl(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/([\\`*_{}[\]()#+\-.!|~:])/g, "\\$1").replace(/@/g, "&#64;");
}
function markdownCode(s) {
  const clean = escapeControl(s).replace(/\|/g, "\u2758");
  const longest = Math.max(0, ...(clean.match(/`+/g) ?? []).map((m) => m.length));
  const fence = "`".repeat(longest + 1);
  const pad = clean.startsWith("`") || clean.endsWith("`") ? " " : "";
  return `${fence}${pad}${clean}${pad}${fence}`;
}
function truncate(s, max) {
  return s.length <= max ? s : `${s.slice(0, Math.max(0, max - 1))}\u2026`;
}

// src/core/report/markdown.ts
var ICON = { pass: "\u2705", warn: "\u26A0\uFE0F", block: "\u26D4", incomplete: "\u2753" };
function renderMarkdown(report, opts = {}) {
  const top = opts.topFindings ?? 3;
  const out = [];
  out.push(`### ${ICON[report.verdict]} modelgate: ${report.verdict}${report.blocked ? " (blocking)" : ""}`);
  out.push("");
  const shown = report.files.filter(
    (f) => opts.includeClean || f.findings.length > 0 || f.format !== "other"
  );
  const counts = { pass: 0, warn: 0, block: 0, incomplete: 0 };
  for (const f of report.files) counts[f.verdict]++;
  out.push(
    `${report.files.length} files scanned: ${counts.block} blocked, ${counts.incomplete} incomplete, ${counts.warn} warned, ${counts.pass} passed. Highest score ${report.maxScore}.`
  );
  if (shown.length > 0) {
    out.push("");
    out.push("| File | Verdict | Score | Format | Top findings |");
    out.push("| --- | --- | ---: | --- | --- |");
    for (const f of sortFiles(shown)) {
      const findings = topOf(f, top).map(
        (x) => `${x.ruleId} ${escapeMarkdown(truncate(getRule(x.ruleId).title, 60))}${x.location.symbol ? ` ${markdownCode(truncate(x.location.symbol, 80))}` : ""}`
      ).join("<br>");
      out.push(
        `| ${markdownCode(truncate(f.path, 120))} | ${ICON[f.verdict]} ${f.verdict} | ${f.score} | ${f.format} | ${findings || "\u2014"} |`
      );
    }
  }
  if (opts.details) {
    for (const f of sortFiles(shown)) {
      if (f.findings.length === 0) continue;
      out.push("");
      out.push(
        `<details><summary>${ICON[f.verdict]} ${escapeMarkdown(truncate(f.path, 200))}: ${f.verdict}, score ${f.score}</summary>`
      );
      out.push("");
      out.push(`sha256 \`${f.sha256}\`, ${f.size} bytes. Score: ${breakdown(f)}`);
      out.push("");
      for (const x of [...f.findings].sort(bySeverity)) out.push(`- ${findingLine(x)}`);
      out.push("");
      out.push("</details>");
    }
  }
  return `${out.join("\n")}
`;
}
function findingLine(x) {
  const rule = getRule(x.ruleId);
  const where2 = [];
  if (x.location.symbol) where2.push(`symbol ${markdownCode(truncate(x.location.symbol, 120))}`);
  if (x.location.member) where2.push(`in ${markdownCode(truncate(x.location.member, 160))}`);
  if (x.location.offset !== void 0) where2.push(`at byte ${x.location.offset}`);
  const waived = x.waived ? ` _(waived until ${escapeMarkdown(x.waived.expires)}: ${escapeMarkdown(truncate(x.waived.reason, 200))})_` : "";
  return `**${x.ruleId}** ${x.severity} (${x.score}): ${escapeMarkdown(truncate(x.message, 400))}${where2.length ? ` \u2014 ${where2.join(", ")}` : ""}. ${escapeMarkdown(rule.remediation)}${waived}`;
}
function breakdown(f) {
  const parts = Object.entries(f.scoreBreakdown);
  return parts.length === 0 ? "0" : parts.map(([k, v]) => `${markdownCode(truncate(k, 100))} ${v}`).join(" + ");
}
function topOf(f, n) {
  return [...f.findings].filter((x) => !x.waived).sort(bySeverity).slice(0, n);
}
function bySeverity(a, b) {
  return severityRank(b.severity) - severityRank(a.severity) || b.score - a.score;
}
var ORDER = { block: 0, incomplete: 1, warn: 2, pass: 3 };
function sortFiles(files) {
  return [...files].sort(
    (a, b) => ORDER[a.verdict] - ORDER[b.verdict] || b.score - a.score || a.path.localeCompare(b.path)
  );
}

// src/core/report/sarif.ts
import { createHash } from "node:crypto";
var SECURITY_SEVERITY = {
  critical: "9.5",
  high: "7.5",
  medium: "5.0",
  low: "2.0",
  none: "0.0"
};
var LEVEL = {
  critical: "error",
  high: "error",
  medium: "warning",
  low: "note",
  none: "note"
};
function renderSarif(report, opts = {}) {
  const rules = RULES.map(sarifRule);
  const index = new Map(RULES.map((r, i) => [r.id, i]));
  const results = report.files.flatMap(
    (file) => file.findings.filter((f) => !f.waived).map((f) => {
      const result = {
        ruleId: f.ruleId,
        ruleIndex: index.get(f.ruleId),
        level: LEVEL[f.severity],
        message: { text: messageText(f) },
        locations: [
          {
            physicalLocation: { artifactLocation: { uri: encodeUri(file.path) } },
            ...f.location.member || f.location.symbol ? {
              logicalLocations: [
                {
                  fullyQualifiedName: [f.location.member, f.location.symbol].filter(Boolean).join("::"),
                  kind: "member"
                }
              ]
            } : {}
          }
        ],
        partialFingerprints: { modelgateFindingHash: fingerprint(file.path, f) },
        properties: {
          score: f.score,
          ...f.severity !== ruleSeverity(f.ruleId) ? { "security-severity": SECURITY_SEVERITY[f.severity] } : {},
          ...f.location.offset !== void 0 ? { offset: f.location.offset } : {},
          sha256: file.sha256
        }
      };
      return result;
    })
  );
  const doc = {
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "modelgate",
            version: report.tool.version,
            semanticVersion: report.tool.version,
            informationUri: opts.informationUri ?? "https://github.com/modelgate/modelgate",
            rules
          }
        },
        results,
        columnKind: "utf16CodeUnits"
      }
    ]
  };
  return `${JSON.stringify(doc, null, 2)}
`;
}
function sarifRule(r) {
  return {
    id: r.id,
    name: toPascal(r.slug),
    shortDescription: { text: r.title },
    fullDescription: { text: r.description },
    help: {
      text: `${r.description}

Remediation: ${r.remediation}`,
      markdown: `${r.description}

**Remediation:** ${r.remediation}`
    },
    defaultConfiguration: { level: LEVEL[r.severity] },
    properties: {
      "security-severity": SECURITY_SEVERITY[r.severity],
      tags: ["security", "ml-model", r.kind, ...r.cwe ? [`external/cwe/cwe-${r.cwe}`] : []],
      precision: r.kind === "threat" ? "high" : "medium"
    }
  };
}
function ruleSeverity(id) {
  return RULES.find((r) => r.id === id)?.severity;
}
function messageText(f) {
  const where2 = [
    f.location.member && `member ${f.location.member}`,
    f.location.offset !== void 0 && `offset ${f.location.offset}`
  ].filter(Boolean).join(", ");
  return where2 ? `${f.message} (${where2})` : f.message;
}
function fingerprint(path, f) {
  return createHash("sha256").update(
    [
      path,
      f.ruleId,
      f.location.member ?? "",
      f.location.symbol ?? "",
      String(f.location.offset ?? "")
    ].join("\0")
  ).digest("hex").slice(0, 32);
}
function encodeUri(path) {
  return path.split("/").map(encodeURIComponent).join("/");
}
function toPascal(slug) {
  return slug.replace(/(^|_)([a-z0-9])/g, (_, __, c) => c.toUpperCase());
}

// src/core/report/text.ts
var MARK = { pass: "PASS ", warn: "WARN ", block: "BLOCK", incomplete: "INCOMPLETE" };
function renderText(report, opts = {}) {
  const lines = [];
  for (const f of report.files) {
    if (!opts.verbose && f.format === "other" && f.findings.length === 0) continue;
    lines.push(
      `${MARK[f.verdict].padEnd(10)} ${String(f.score).padStart(3)}  ${f.format.padEnd(16)} ${escapeControl(f.path)}`
    );
    const groups = /* @__PURE__ */ new Map();
    for (const x of [...f.findings].sort(bySeverity2)) {
      const g = groups.get(x.ruleId) ?? [];
      g.push(x);
      groups.set(x.ruleId, g);
    }
    for (const [ruleId, fs] of groups) {
      const rule = getRule(ruleId);
      lines.push(`    ${ruleId} ${fs[0].severity.toUpperCase()} ${rule.title}`);
      const shown = opts.verbose ? fs : fs.slice(0, 5);
      for (const x of shown)
        lines.push(
          `      - ${escapeControl(x.message)}${where(x)}${x.waived ? ` [waived: ${escapeControl(x.waived.reason)}]` : ""}`
        );
      if (shown.length < fs.length) lines.push(`      \u2026 and ${fs.length - shown.length} more`);
    }
  }
  const counts = { pass: 0, warn: 0, block: 0, incomplete: 0 };
  for (const f of report.files) counts[f.verdict]++;
  lines.push("");
  lines.push(
    `modelgate ${report.tool.version}: ${report.verdict.toUpperCase()} (${report.files.length} files: ${counts.block} blocked, ${counts.incomplete} incomplete, ${counts.warn} warned, ${counts.pass} passed; max score ${report.maxScore})`
  );
  return `${lines.join("\n")}
`;
}
function where(f) {
  const parts = [];
  if (f.location.symbol) parts.push(`symbol ${f.location.symbol}`);
  if (f.location.member) parts.push(`in ${f.location.member}`);
  if (f.location.offset !== void 0) parts.push(`at byte ${f.location.offset}`);
  return parts.length > 0 ? ` (${escapeControl(parts.join(", "))})` : "";
}
function bySeverity2(a, b) {
  return severityRank(b.severity) - severityRank(a.severity) || b.score - a.score;
}

// src/core/scan.ts
import { stat } from "node:fs/promises";

// src/core/context.ts
var FileState = class {
  constructor(settings, budget, disk) {
    this.settings = settings;
    this.budget = budget;
    this.disk = disk;
  }
  settings;
  budget;
  disk;
  findings = [];
  facts = {};
  format;
  seen = /* @__PURE__ */ new Set();
  dropped = 0;
  add(f) {
    const key = `${f.ruleId}\0${f.message}\0${f.location.member ?? ""}\0${f.location.offset ?? ""}\0${f.location.symbol ?? ""}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    if (this.findings.length >= this.settings.limits.maxFindings) {
      this.dropped++;
      return;
    }
    this.findings.push(f);
  }
  /** Findings dropped past maxFindings (reported once by the engine). */
  get droppedFindings() {
    return this.dropped;
  }
};
var AnalysisContext = class _AnalysisContext {
  constructor(file, source, memberChain, depth, nested) {
    this.file = file;
    this.source = source;
    this.memberChain = memberChain;
    this.depth = depth;
    this.nested = nested;
  }
  file;
  source;
  memberChain;
  depth;
  nested;
  get budget() {
    return this.file.budget;
  }
  get limits() {
    return this.file.settings.limits;
  }
  get settings() {
    return this.file.settings;
  }
  /** Only set for the top-level file of a scan on disk. */
  get disk() {
    return this.depth === 0 ? this.file.disk : void 0;
  }
  /** True for the top-level file (not nested content). */
  get isTopLevel() {
    return this.depth === 0;
  }
  /** Records a finding. `location.member` is relative to this source; the chain above it is prepended. */
  report(ruleId, message, location = {}, opts = {}) {
    const rule = getRule(ruleId);
    const chain = [...this.memberChain, ...location.member ? [location.member] : []];
    const loc = {};
    if (chain.length > 0) loc.member = chain.join("!");
    if (location.offset !== void 0) loc.offset = location.offset;
    if (location.symbol !== void 0) loc.symbol = location.symbol;
    this.file.add({
      ruleId,
      severity: opts.severity ?? rule.severity,
      score: opts.score ?? rule.score,
      message,
      location: loc
    });
  }
  /** Records that a budget stopped the analysis (MG001), naming the limit. */
  budgetExceeded(err, location = {}) {
    this.report(
      "MG001",
      `Analysis stopped: limit ${err.limit} (${err.detail}). The rest was not analysed.`,
      location
    );
  }
  /** Records that the content is malformed where the analysis needed it to be well formed (MG002). */
  malformed(message, location = {}) {
    this.report("MG002", message, location);
  }
  /** Records a fact about the file (reported under `facts`); nested sources prefix their member chain. */
  fact(key, value) {
    const k = this.memberChain.length > 0 ? `${this.memberChain.join("!")}:${key}` : key;
    this.file.facts[k] = value;
  }
  /** Refines the format of the top-level file (e.g. a zip that turns out to be a PyTorch checkpoint). */
  setFormat(format) {
    if (this.depth === 0) this.file.format = format;
  }
  /**
   * Detects and analyses nested content (an archive member, a decompressed stream, an embedded pickle).
   * Returns the format found, or undefined when no analyzer recognised it. Depth is checked here.
   */
  scanNested(source, member) {
    return this.nested(this, source, member);
  }
  /** A context for the same file one level deeper (used by the engine). */
  child(source, member) {
    return new _AnalysisContext(this.file, source, [...this.memberChain, member], this.depth + 1, this.nested);
  }
  /** Throws BudgetExceededError when the time budget is spent. */
  checkTime() {
    this.budget.checkTime();
  }
};

// src/core/detect.ts
import { extname } from "node:path";
var PROBE_BYTES = 64 * 1024;
async function makeProbe(src, name) {
  const base = name.split(/[/\\!]/).pop() ?? name;
  const ext = extname(base).toLowerCase();
  if (src.random) {
    const size2 = src.random.size;
    const head2 = await src.random.read(0, PROBE_BYTES);
    const tail = size2 <= PROBE_BYTES ? head2 : await src.random.read(size2 - PROBE_BYTES, PROBE_BYTES);
    return { head: head2, tail, size: size2, name: base, ext };
  }
  const parts = [];
  let got = 0;
  for await (const chunk of src.stream(0, PROBE_BYTES)) {
    parts.push(chunk);
    got += chunk.length;
    if (got >= PROBE_BYTES) break;
  }
  const head = concat(parts).subarray(0, PROBE_BYTES);
  const size = src.size ?? (head.length < PROBE_BYTES ? head.length : void 0);
  return {
    head,
    tail: size !== void 0 && size <= PROBE_BYTES ? head : new Uint8Array(0),
    size,
    name: base,
    ext
  };
}
function detectAll(probe, analyzers) {
  const found = [];
  for (const analyzer of analyzers) {
    let detection;
    try {
      detection = analyzer.detect(probe);
    } catch {
      detection = void 0;
    }
    if (detection) found.push({ analyzer, detection });
  }
  const rank = { magic: 0, structure: 1, name: 2 };
  return found.sort((a, b) => rank[a.detection.strength] - rank[b.detection.strength]);
}
var TORCH = [
  "pytorch-zip",
  "pytorch-legacy",
  "pytorch-legacy-tar",
  "torchscript",
  "pickle",
  "zip"
];
var PICKLE = ["pickle", "joblib", "pytorch-legacy"];
var COMPRESSED = ["gzip", "bzip2", "xz", "lzma", "lz4", "zlib", "zstd"];
var MODEL_EXTENSIONS = {
  ".pt": TORCH,
  ".pth": TORCH,
  ".bin": [...TORCH, "safetensors", "gguf"],
  ".ckpt": TORCH,
  ".ptl": ["torchscript", "pytorch-zip", "zip"],
  ".pkl": [...PICKLE, "pytorch-zip", "zip", ...COMPRESSED],
  ".pickle": [...PICKLE, ...COMPRESSED],
  ".dill": PICKLE,
  ".joblib": ["joblib", "pickle", ...COMPRESSED],
  ".sav": ["joblib", "pickle", ...COMPRESSED],
  ".npy": ["numpy"],
  ".npz": ["numpy-npz", "zip"],
  ".safetensors": ["safetensors"],
  ".onnx": ["onnx"],
  ".gguf": ["gguf"],
  ".ggml": ["gguf"],
  ".h5": ["keras-h5", "hdf5"],
  ".hdf5": ["keras-h5", "hdf5"],
  ".keras": ["keras", "keras-h5", "zip"],
  ".pb": ["tf-savedmodel", "tf-keras-metadata", "onnx"],
  ".tflite": [],
  ".mar": ["zip"],
  ".nemo": ["tar", ...COMPRESSED],
  ".pt2": ["zip", "pytorch-zip"]
};
function isModelExtension(ext) {
  return Object.hasOwn(MODEL_EXTENSIONS, ext);
}
function extensionAccepts(ext, format) {
  const accepted = MODEL_EXTENSIONS[ext];
  return accepted === void 0 || accepted.includes(format);
}
function concat(parts) {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

// src/core/formats/registry.ts
var ANALYZERS = [];

// src/core/engine.ts
async function analyzeSource(ctx, analyzers = ANALYZERS) {
  let detected;
  let ext = "";
  try {
    const probe = await makeProbe(ctx.source, ctx.source.name);
    ext = probe.ext;
    detected = detectAll(probe, analyzers);
  } catch (err) {
    recordError(ctx, err);
    return void 0;
  }
  if (detected.length === 0) return void 0;
  const strong = uniqueByAnalyzer(detected.filter((d) => d.detection.strength !== "name"));
  const chosen = strong.length > 0 ? strong : [detected[0]];
  if (strong.length > 1) {
    ctx.report(
      "MG006",
      `The content is valid as ${strong.map((d) => d.detection.format).join(" and ")}; each reading was scanned.`
    );
  }
  const primary = chosen[0].detection.format;
  ctx.setFormat(primary);
  for (const d of chosen) {
    try {
      await d.analyzer.analyze(ctx, d.detection);
    } catch (err) {
      recordError(ctx, err, d.analyzer.id);
    }
  }
  const format = ctx.isTopLevel ? ctx.file.format ?? primary : primary;
  if (!extensionAccepts(ext, format)) {
    ctx.report("MG005", `The name ends in ${ext} but the content is ${format}.`);
  }
  return format;
}
async function scanNested(parent, source, member) {
  const ctx = parent.child(source, member);
  if (ctx.depth > parent.limits.maxDepth) {
    ctx.budgetExceeded(
      new BudgetExceededError("maxDepth", `nesting depth ${ctx.depth} > ${parent.limits.maxDepth}`)
    );
    return void 0;
  }
  return analyzeSource(ctx);
}
function recordError(ctx, err, analyzerId) {
  if (err instanceof BudgetExceededError) {
    ctx.budgetExceeded(err);
    return;
  }
  const msg = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  ctx.report("MG003", `${analyzerId ? `${analyzerId} analyzer failed` : "Detection failed"}: ${msg}`);
}
function uniqueByAnalyzer(ds) {
  const seen = /* @__PURE__ */ new Set();
  return ds.filter((d) => {
    if (seen.has(d.analyzer.id)) return false;
    seen.add(d.analyzer.id);
    return true;
  });
}

// src/core/hash.ts
import { createHash as createHash2 } from "node:crypto";
import { createReadStream } from "node:fs";
async function sha256File(path) {
  const h = createHash2("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(chunk);
  return h.digest("hex");
}

// src/core/source.ts
import { open } from "node:fs/promises";
var CHUNK_SIZE = 1 << 20;
async function fileSource(path, name = path) {
  const fh = await open(path, "r");
  const { size } = await fh.stat();
  const random = {
    size,
    async read(offset, length) {
      const n = Math.max(0, Math.min(length, size - offset));
      const buf = Buffer.allocUnsafe(n);
      let got = 0;
      while (got < n) {
        const { bytesRead } = await fh.read(buf, got, n - got, offset + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return got === n ? buf : buf.subarray(0, got);
    }
  };
  return {
    name,
    size,
    random,
    stream: (s = 0, e = size) => rangeStream(random, clamp(s, size), clamp(e, size)),
    close: () => fh.close()
  };
}
async function* rangeStream(ra, start, end) {
  for (let p = start; p < end; ) {
    const chunk = await ra.read(p, Math.min(CHUNK_SIZE, end - p));
    if (chunk.length === 0) return;
    p += chunk.length;
    yield chunk;
  }
}
function clamp(n, max) {
  return Math.max(0, Math.min(n, max));
}

// package.json
var package_default = {
  name: "modelgate",
  version: "0.1.0",
  description: "Static security gate for ML model files: pickle, PyTorch, NumPy, joblib, safetensors, ONNX, GGUF, Keras, TensorFlow. Never loads the model.",
  type: "module",
  license: "Apache-2.0",
  bin: {
    modelgate: "dist/cli.js"
  },
  engines: {
    node: ">=20"
  },
  scripts: {
    build: "node build.mjs",
    typecheck: "tsc --noEmit",
    lint: "biome check .",
    format: "biome check --write .",
    test: "node scripts/test.mjs",
    check: "npm run lint && npm run typecheck && npm test && node scripts/check-dist.mjs"
  },
  dependencies: {
    "@actions/cache": "^6.3.0",
    "@actions/core": "^3.0.1",
    "@actions/github": "^9.1.1",
    "@huggingface/jinja": "^0.5.11",
    "@sigstore/bundle": "^4.0.0",
    "@sigstore/core": "^3.2.1",
    "@sigstore/verify": "^3.1.1",
    picomatch: "^4.0.7",
    protobufjs: "^8.8.1",
    yaml: "^2.9.1",
    zod: "^4.6.7"
  },
  devDependencies: {
    "@biomejs/biome": "^2.6.8",
    "@types/node": "^20.19.43",
    "@types/picomatch": "^4.0.3",
    esbuild: "^0.28.2",
    "fast-check": "^4.10.2",
    tsx: "^4.23.15",
    typescript: "^5.9.3"
  }
};

// src/core/version.ts
var VERSION = package_default.version;

// src/core/walk.ts
import { lstat, readdir, realpath } from "node:fs/promises";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
async function walk(target) {
  const abs = resolve(target);
  const st = await lstat(abs);
  if (!st.isDirectory()) {
    const root = resolve(abs, "..");
    if (st.isSymbolicLink()) {
      const real = await realpath(abs).catch(() => void 0);
      if (real && (await lstat(real)).isFile())
        return [{ kind: "file", absPath: real, relPath: target, root }];
    }
    const entry = await classify(abs, root, target);
    return entry ? [entry] : [];
  }
  const out = [];
  const stack = [abs];
  while (stack.length > 0) {
    const dir = stack.pop();
    const names = (await readdir(dir)).sort();
    for (const name of names) {
      const p = join(dir, name);
      const s = await lstat(p);
      if (s.isDirectory()) stack.push(p);
      else {
        const e = await classify(p, abs, toPosix(relative(abs, p)));
        if (e) out.push(e);
      }
    }
  }
  return out.sort((a, b) => a.relPath < b.relPath ? -1 : a.relPath > b.relPath ? 1 : 0);
}
async function classify(absPath, root, relPath) {
  const s = await lstat(absPath);
  if (s.isFile()) return { kind: "file", absPath, relPath, root };
  if (s.isSymbolicLink()) {
    let target;
    try {
      target = await realpath(absPath);
    } catch {
      return {
        kind: "skipped",
        absPath,
        relPath,
        root,
        why: "a symbolic link whose target does not resolve (dangling or a loop)"
      };
    }
    if (isInside(target, await realpath(root))) return void 0;
    return {
      kind: "skipped",
      absPath,
      relPath,
      root,
      why: "a symbolic link that points outside the scanned folder"
    };
  }
  const what = s.isFIFO() ? "a FIFO" : s.isSocket() ? "a socket" : s.isCharacterDevice() || s.isBlockDevice() ? "a device" : "not a regular file";
  return { kind: "skipped", absPath, relPath, root, why: what };
}
function isInside(path, root) {
  const rel = relative(root, path);
  return rel === "" || !rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel);
}
function toPosix(p) {
  return p.split(sep).join("/");
}

// src/core/scan.ts
async function scanPaths(paths, opts = {}) {
  const entries = [];
  for (const p of paths) entries.push(...await walk(p));
  return scanEntries(entries, opts);
}
async function scanEntries(entries, opts = {}) {
  const policy = opts.policy ?? DEFAULT_POLICY;
  const now = opts.now ?? /* @__PURE__ */ new Date();
  const files = [];
  for (const e of entries) files.push(await scanEntry(e, policy, now));
  return buildReport(files, policy);
}
function buildReport(files, policy, notes = []) {
  const verdict = worstVerdict(files.map((f) => f.verdict));
  const blocked = !policy.warnOnly && (verdict === "block" || verdict === "incomplete" && policy.failOnIncomplete);
  const report = {
    schemaVersion: 1,
    tool: { name: "modelgate", version: VERSION },
    verdict,
    maxScore: files.reduce((m, f) => Math.max(m, f.score), 0),
    blocked,
    files
  };
  if (notes.length > 0) report.notes = notes;
  return report;
}
function exitCodeFor(report) {
  if (!report.blocked) return 0;
  return report.files.some((f) => f.verdict === "block") ? 1 : 2;
}
async function scanEntry(e, policy, now) {
  if (e.kind === "skipped") {
    const findings = [
      { ruleId: "MG008", severity: "low", score: 0, message: `Not scanned: ${e.why}.`, location: {} }
    ];
    return finish(e.relPath, "other", 0, "", findings, {}, policy, now);
  }
  const settings = { limits: policy.limits, allowGlobals: policy.allow };
  const budget = new Budget(policy.limits);
  const disk = { root: e.root, absPath: e.absPath, relPath: e.relPath };
  const state = new FileState(settings, budget, disk);
  const { size } = await stat(e.absPath);
  const hashing = sha256File(e.absPath);
  if (size > policy.limits.maxFileBytes) {
    const ctx = new AnalysisContext(state, { name: e.relPath, size, stream: emptyStream }, [], 0, scanNested);
    ctx.budgetExceeded(
      new BudgetExceededError("maxFileBytes", `file size ${size} > ${policy.limits.maxFileBytes}`)
    );
  } else {
    const src = await fileSource(e.absPath, e.relPath);
    try {
      const ctx = new AnalysisContext(state, src, [], 0, scanNested);
      const format = await analyzeSource(ctx);
      if (format === void 0) {
        const ext = e.relPath.toLowerCase().match(/\.[^./]+$/)?.[0] ?? "";
        if (isModelExtension(ext) && size > 0) {
          ctx.report("MG004", `Named like a model (${ext}) but the content matches no supported format.`);
          state.format = "unknown";
        } else state.format = "other";
      }
    } finally {
      await src.close();
    }
  }
  if (state.droppedFindings > 0) {
    state.findings.push({
      ruleId: "MG001",
      severity: "medium",
      score: 0,
      message: `${state.droppedFindings} more findings were not recorded (limit maxFindings).`,
      location: {}
    });
  }
  const sha256 = await hashing;
  return finish(e.relPath, state.format ?? "other", size, sha256, state.findings, state.facts, policy, now);
}
function finish(path, format, size, sha256, findings, facts, policy, now) {
  const ev = evaluateFile(findings, policy, { path, sha256 }, now);
  const report = {
    path,
    format,
    size,
    sha256,
    verdict: ev.verdict,
    score: ev.score,
    severity: ev.severity,
    scoreBreakdown: ev.scoreBreakdown,
    findings: ev.findings
  };
  if (Object.keys(facts).length > 0) report.facts = facts;
  return report;
}
async function* emptyStream() {
}

// src/cli/main.ts
var UsageError = class extends Error {
  name = "UsageError";
};
var FORMATS = ["text", "json", "sarif", "markdown"];
var USAGE = `Usage: modelgate scan [PATH ...] [options]

Scans model files statically (never loading them) and gates them by policy.

Options:
  --format text|json|sarif|markdown   report format (default text)
  --output FILE                       write the report to FILE instead of stdout
  --config FILE                       policy file (YAML)
  --profile NAME                      profile of the policy file
  --max-score N                       block when a file's score exceeds N (default 49)
  --allow-incomplete                  incomplete files do not block
  --verbose                           text format: list every file and finding
  --version, --help

Exit codes: 0 pass or warn, 1 blocked by policy, 2 incomplete, 3 usage or internal error.`;
async function main(argv, io) {
  try {
    const [command, ...rest] = argv;
    if (command === void 0 || command === "--help" || command === "-h" || command === "help") {
      io.stdout(`${USAGE}
`);
      return command === void 0 ? 3 : 0;
    }
    if (command === "--version") {
      io.stdout(`${VERSION}
`);
      return 0;
    }
    if (command === "scan") return await scanCommand(rest, io);
    throw new UsageError(`unknown command '${command}' (expected: scan)`);
  } catch (err) {
    if (err instanceof UsageError || err instanceof PolicyError) {
      io.stderr(`modelgate: ${err.message}

${USAGE}
`);
      return 3;
    }
    io.stderr(
      `modelgate: internal error: ${err instanceof Error ? err.stack ?? err.message : String(err)}
`
    );
    return 3;
  }
}
async function scanCommand(args, io) {
  let parsed;
  try {
    parsed = parseScanArgs(args);
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const { values, positionals } = parsed;
  const format = values.format ?? "text";
  if (!FORMATS.includes(format))
    throw new UsageError(`--format must be one of ${FORMATS.join(", ")}, got '${format}'`);
  let maxScore;
  if (values["max-score"] !== void 0) {
    maxScore = Number(values["max-score"]);
    if (!Number.isInteger(maxScore) || maxScore < 0 || maxScore > 100) {
      throw new UsageError(`--max-score must be an integer from 0 to 100, got '${values["max-score"]}'`);
    }
  }
  const policy = await resolvePolicy({
    configFile: values.config,
    profile: values.profile,
    maxScore,
    allowIncomplete: values["allow-incomplete"]
  });
  const paths = positionals.length > 0 ? positionals : ["."];
  const report = await scanPaths(paths, { policy });
  const text = render(report, format, values.verbose ?? false);
  if (values.output) await writeFile(values.output, text);
  else io.stdout(text);
  return exitCodeFor(report);
}
function parseScanArgs(args) {
  return parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      format: { type: "string" },
      output: { type: "string" },
      config: { type: "string" },
      profile: { type: "string" },
      "max-score": { type: "string" },
      "allow-incomplete": { type: "boolean" },
      verbose: { type: "boolean" }
    }
  });
}
function render(report, format, verbose) {
  switch (format) {
    case "json":
      return renderJson(report);
    case "sarif":
      return renderSarif(report);
    case "markdown":
      return renderMarkdown(report, { details: true });
    case "text":
      return renderText(report, { verbose });
  }
}

// src/cli/index.ts
var code = await main(process.argv.slice(2), {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s)
});
process.exitCode = code;
