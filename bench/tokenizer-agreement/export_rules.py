"""Export spaCy's English tokenizer tables to lib/tokenize-rules.ts.

lib/tokenize.ts reimplements the tokenizer of spacy.blank("en") in TypeScript. Its code
mirrors the structure of spaCy's prefix, suffix and infix rules, and this script supplies
the data: the character classes, the literal affixes and the tokenizer exceptions. Each
character class is expanded to code point ranges by testing every code point against
Python's `re`, so the TypeScript side uses Python's Unicode tables.

Before writing anything, the script checks that the installed spaCy builds its rules
the way lib/tokenize.ts assumes, and exits with an error naming the rule that differs.

Usage (from the repository root, with spaCy 3.8 installed in the interpreter):
    python bench/tokenizer-agreement/export_rules.py [--out lib/tokenize-rules.ts]
    npx prettier --write lib/tokenize-rules.ts
"""

import argparse
import re
import sys
from pathlib import Path

import spacy
from spacy.lang import char_classes as cc
from spacy.lang.en.punctuation import TOKENIZER_INFIXES
from spacy.lang.punctuation import TOKENIZER_PREFIXES, TOKENIZER_SUFFIXES
from spacy.lang.tokenizer_exceptions import URL_PATTERN
from spacy.util import compile_infix_regex, compile_prefix_regex, compile_suffix_regex

ALL_CODE_POINTS = "".join(chr(cp) for cp in range(0x110000))
REGEX_META = set(".^$*+?{}[]|()")


def fail(message: str) -> None:
    sys.exit(f"export_rules: {message}; lib/tokenize.ts needs a review before regenerating")


def class_ranges(char_class: str) -> list[tuple[int, int]]:
    """Return the inclusive code point ranges that a regex character class matches."""
    runs = re.finditer(f"(?:{char_class})+", ALL_CODE_POINTS)
    return [(m.start(), m.end() - 1) for m in runs]


def predicate_ranges(predicate) -> list[tuple[int, int]]:
    ranges: list[tuple[int, int]] = []
    for cp in range(0x110000):
        if not predicate(chr(cp)):
            continue
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1] = (ranges[-1][0], cp)
        else:
            ranges.append((cp, cp))
    return ranges


def format_ranges(ranges: list[tuple[int, int]]) -> str:
    parts = [f"{lo:x}" if lo == hi else f"{lo:x}-{hi:x}" for lo, hi in ranges]
    return " ".join(parts)


def literal_of(piece: str) -> str | None:
    """Return the text a regex piece matches if it is a plain literal, else None."""
    out = []
    i = 0
    while i < len(piece):
        ch = piece[i]
        if ch == "\\":
            if i + 1 >= len(piece) or piece[i + 1].isalnum():
                return None
            out.append(piece[i + 1])
            i += 2
            continue
        if ch in REGEX_META:
            return None
        out.append(ch)
        i += 1
    text = "".join(out)
    if not text or re.fullmatch(piece, text) is None:
        return None
    return text


def check_equal(name: str, actual, expected) -> None:
    if actual != expected:
        fail(f"{name} differs from the form lib/tokenize.ts implements")


def ts_string(text: str) -> str:
    """Return a single-quoted TypeScript string literal for text."""
    out = []
    for ch in text:
        if ch in "\\'":
            out.append("\\" + ch)
        elif ch == " " or (ch.isprintable() and not ch.isspace()):
            out.append(ch)
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\u{{{ord(ch):x}}}")
    return "'" + "".join(out) + "'"


def ts_string_list(items: list[str]) -> str:
    return "[" + ", ".join(ts_string(item) for item in items) + "]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="lib/tokenize-rules.ts", help="TypeScript file to write")
    args = parser.parse_args()

    if not spacy.__version__.startswith("3.8."):
        fail(f"spaCy {spacy.__version__} is installed, but the rules were written against 3.8")
    nlp = spacy.blank("en")
    tokenizer = nlp.tokenizer
    check_equal(
        "prefix regex",
        tokenizer.prefix_search.__self__.pattern,
        compile_prefix_regex(TOKENIZER_PREFIXES).pattern,
    )
    check_equal(
        "suffix regex",
        tokenizer.suffix_search.__self__.pattern,
        compile_suffix_regex(TOKENIZER_SUFFIXES).pattern,
    )
    check_equal(
        "infix regex",
        tokenizer.infix_finditer.__self__.pattern,
        compile_infix_regex(TOKENIZER_INFIXES).pattern,
    )
    check_equal("token_match", tokenizer.token_match, None)
    check_equal("URL regex", tokenizer.url_match.__self__.pattern, "(?u)" + URL_PATTERN)
    check_equal("faster_heuristics", tokenizer.faster_heuristics, True)

    icon_class = cc.LIST_ICONS[0]
    dots = r"\.\.+"

    # Prefixes: literals are tried in list order, and the three other pieces are coded by hand.
    prefix_literals = []
    prefix_other = []
    for piece in TOKENIZER_PREFIXES:
        if not piece.strip():
            continue
        literal = literal_of(piece)
        if literal is None:
            prefix_other.append(piece)
        else:
            prefix_literals.append(literal)
    check_equal("prefix non-literal pieces", prefix_other, [r"\+(?![0-9])", dots, icon_class])
    icon_set = {chr(cp) for lo, hi in class_ranges(f"[{cc.ICONS}]") for cp in range(lo, hi + 1)}
    for literal in prefix_literals:
        if literal[0] in "+." or literal[0] in icon_set:
            fail(f"prefix literal {literal!r} overlaps a hand-coded prefix rule")

    # Suffixes: every alternative is tried at each start, so only the set matters.
    digit_lookbehind = "(?<=[0-9])"
    currency_piece = f"{digit_lookbehind}(?:{cc.CURRENCY})"
    units_piece = f"{digit_lookbehind}(?:{cc.UNITS})"
    dot_after_class = "[0-9{al}{e}{p}(?:{q})]".format(
        al=cc.ALPHA_LOWER, e=r"%²\-\+", q=cc.CONCAT_QUOTES, p=cc.PUNCT
    )
    upper_pair_piece = r"(?<=[{au}][{au}])\.".format(au=cc.ALPHA_UPPER)
    suffix_literals = []
    suffix_other = []
    for piece in TOKENIZER_SUFFIXES:
        if not piece.strip():
            continue
        literal = literal_of(piece)
        if literal is None:
            suffix_other.append(piece)
        else:
            suffix_literals.append(literal)
    expected_suffix_other = [
        dots,
        icon_class,
        r"(?<=[0-9])\+",
        r"(?<=°[FfCcKk])\.",
        currency_piece,
        units_piece,
        f"(?<={dot_after_class})\\.",
        upper_pair_piece,
    ]
    check_equal("suffix non-literal pieces", suffix_other, expected_suffix_other)
    currency = [literal_of(piece) for piece in cc.LIST_CURRENCY]
    units = [literal_of(piece) for piece in cc.LIST_UNITS]
    if None in currency or None in units:
        fail("a currency or unit entry is not a literal")
    check_equal("currency alternation", "|".join(cc.LIST_CURRENCY), cc.CURRENCY)
    check_equal("unit alternation", "|".join(cc.LIST_UNITS), cc.UNITS)

    # Infixes: coded by hand in lib/tokenize.ts, so the whole list must match.
    expected_infixes = [
        dots,
        "…",
        icon_class,
        r"(?<=[0-9])[+\-\*^](?=[0-9-])",
        r"(?<=[{al}{q}])\.(?=[{au}{q}])".format(al=cc.ALPHA_LOWER, au=cc.ALPHA_UPPER, q=cc.CONCAT_QUOTES),
        r"(?<=[{a}]),(?=[{a}])".format(a=cc.ALPHA),
        r"(?<=[{a}0-9])(?:{h})(?=[{a}])".format(a=cc.ALPHA, h=cc.HYPHENS),
        r"(?<=[{a}0-9])[:<>=/](?=[{a}])".format(a=cc.ALPHA),
    ]
    check_equal("infix pieces", list(TOKENIZER_INFIXES), expected_infixes)
    hyphens = [literal_of(piece) for piece in cc.LIST_HYPHENS]
    if None in hyphens:
        fail("a hyphen entry is not a literal")
    check_equal("hyphen alternation", "|".join(cc.LIST_HYPHENS), cc.HYPHENS)

    ranges = {
        "space": predicate_ranges(str.isspace),
        "alpha": class_ranges(f"[{cc.ALPHA}]"),
        "alphaLower": class_ranges(f"[{cc.ALPHA_LOWER}]"),
        "alphaUpper": class_ranges(f"[{cc.ALPHA_UPPER}]"),
        "icon": class_ranges(icon_class),
        "quote": class_ranges(f"[{cc.CONCAT_QUOTES}]"),
        "dotSuffixAfter": class_ranges(dot_after_class),
        "word": class_ranges(r"\w"),
        "digit": class_ranges(r"\d"),
    }
    range_docs = {
        "space": "Python's str.isspace(), which spaCy uses to cut text into whitespace-separated chunks.",
        "alpha": "spaCy's ALPHA class.",
        "alphaLower": "spaCy's ALPHA_LOWER class (lower-case letters plus uncased scripts).",
        "alphaUpper": "spaCy's ALPHA_UPPER class (upper-case letters plus uncased scripts).",
        "icon": "spaCy's ICONS class (symbols of category So, including most emoji).",
        "quote": "spaCy's CONCAT_QUOTES class.",
        "dotSuffixAfter": "Characters after which a final '.' is split off as a suffix.",
        "word": "Python's Unicode \\w, used by the URL scheme.",
        "digit": "Python's Unicode \\d, used by URL ports and IP addresses.",
    }

    exceptions = []
    for key in sorted(tokenizer.rules):
        orths = [spec["ORTH"] if "ORTH" in spec else spec[65] for spec in tokenizer.rules[key]]
        if "".join(orths) != key:
            fail(f"exception {key!r} does not concatenate to its key")
        exceptions.append(orths)

    lines = [
        f"// Generated by bench/tokenizer-agreement/export_rules.py from spaCy {spacy.__version__}",
        "// (the tokenizer of spacy.blank('en')). Regenerate with that script instead of editing by hand.",
        "",
        "/** spaCy release the tables below were exported from. */",
        f"export const SPACY_VERSION = {ts_string(spacy.__version__)};",
        "",
        "/** Code point sets, each a space-separated list of inclusive hex ranges such as '41-5a 61-7a aa'. */",
        "export const CHAR_RANGES = {",
    ]
    for name, value in ranges.items():
        lines.append(f"  /** {range_docs[name]} */")
        lines.append(f"  {name}: {ts_string(format_ranges(value))},")
    lines += [
        "};",
        "",
        "/** Literal prefixes, in the order spaCy's prefix regex tries them (the first match wins). */",
        f"export const PREFIX_LITERALS: readonly string[] = {ts_string_list(prefix_literals)};",
        "",
        "/** Literal suffixes (spaCy splits off the longest suffix that any rule matches). */",
        f"export const SUFFIX_LITERALS: readonly string[] = {ts_string_list(suffix_literals)};",
        "",
        "/** Currency symbols split off as a suffix after an ASCII digit. */",
        f"export const CURRENCY_SUFFIXES: readonly string[] = {ts_string_list(currency)};",
        "",
        "/** Units split off as a suffix after an ASCII digit. */",
        f"export const UNIT_SUFFIXES: readonly string[] = {ts_string_list(units)};",
        "",
        "/** Hyphen infixes, in the order spaCy's infix regex tries them. */",
        f"export const HYPHEN_INFIXES: readonly string[] = {ts_string_list(hyphens)};",
        "",
        "/**",
        " * Tokenizer exceptions (spaCy's special cases): each entry lists the tokens of one exception, and the",
        " * exception applies to the exact string the tokens concatenate to.",
        " */",
        "export const TOKENIZER_EXCEPTIONS: readonly (readonly string[])[] = [",
    ]
    for orths in exceptions:
        lines.append(f"  {ts_string_list(orths)},")
    lines += ["];", ""]
    Path(args.out).write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {args.out}: {len(exceptions)} exceptions")


if __name__ == "__main__":
    main()
