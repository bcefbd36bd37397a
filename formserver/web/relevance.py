"""Relevance conditions in words, where they are simple; otherwise the expression with ``${name}`` for paths.

``in_words(expression, node_path, fields, language)`` understands comparisons of
a question with a value, ``selected()``, ``not()``, ``and``, ``or`` and
parentheses, which is what most XLSForms write. Anything else (functions,
arithmetic) returns None, and pages show ``as_written(expression)`` instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..translations import N_, translate
from ..xform import iter_fields

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'[^']*'|"[^"]*")
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<op>!=|<=|>=|=|<|>)
      | (?P<punct>[(),])
      | (?P<path>(?:\.\.|\.)?(?:/[\w.:\-]+)+|\.\.|\.)
      | (?P<name>[A-Za-z_][\w.:\-]*)
    )""",
    re.VERBOSE,
)
_PATH_IN_TEXT = re.compile(r"(?:(?<=[\s(,=<>!])|^)(?:\.\.|\.)?(?:/[\w.:\-]+)+|(?<![\w.])\.\.(?![\w/])")


class Unsupported(ValueError):
    pass


@dataclass
class Path:
    path: str


@dataclass
class Literal:
    value: str
    quoted: bool


@dataclass
class Compare:
    left: object
    op: str
    right: object


@dataclass
class Selected:
    path: Path
    value: str


@dataclass
class Not:
    inner: object


@dataclass
class Join:
    op: str  # "and" | "or"
    parts: list


def tokenize(expression: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    expression = expression.strip()
    while position < len(expression):
        match = _TOKEN.match(expression, position)
        if match is None or match.end() == position:
            raise Unsupported(expression[position:])
        kind = match.lastgroup
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, tokens):
        self.tokens = tokens
        self.position = 0

    def peek(self):
        return self.tokens[self.position] if self.position < len(self.tokens) else (None, None)

    def take(self, kind=None, value=None):
        token = self.peek()
        if token[0] is None or (kind and token[0] != kind) or (value and token[1] != value):
            raise Unsupported(f"expected {value or kind}")
        self.position += 1
        return token

    def parse(self):
        node = self.expression()
        if self.position != len(self.tokens):
            raise Unsupported("trailing tokens")
        return node

    def expression(self):
        return self._joined("or", self.conjunction)

    def conjunction(self):
        return self._joined("and", self.comparison)

    def _joined(self, word, part):
        parts = [part()]
        while self.peek() == ("name", word):
            self.take()
            parts.append(part())
        return parts[0] if len(parts) == 1 else Join(word, parts)

    def comparison(self):
        left = self.primary()
        if self.peek()[0] == "op":
            op = self.take()[1]
            right = self.primary()
            if isinstance(left, Literal) and isinstance(right, Path):
                left, right, op = right, left, {"<": ">", ">": "<", "<=": ">=", ">=": "<="}.get(op, op)
            if not isinstance(left, Path) or not isinstance(right, Literal):
                raise Unsupported("comparison of two questions or two values")
            return Compare(left, op, right)
        if isinstance(left, (Literal, Path)):
            raise Unsupported("a bare value")
        return left

    def primary(self):
        kind, value = self.peek()
        if kind == "punct" and value == "(":
            self.take()
            inner = self.expression()
            self.take("punct", ")")
            return inner
        if kind == "string":
            self.take()
            return Literal(value[1:-1], True)
        if kind == "number":
            self.take()
            return Literal(value, False)
        if kind == "path":
            self.take()
            return Path(value)
        if kind == "name":
            self.take()
            if self.peek() != ("punct", "("):
                raise Unsupported(f"bare name {value}")
            self.take()
            if value == "not":
                inner = self.expression()
                self.take("punct", ")")
                return Not(inner)
            if value == "selected":
                path = self.primary()
                self.take("punct", ",")
                literal = self.primary()
                self.take("punct", ")")
                if not isinstance(path, Path) or not isinstance(literal, Literal):
                    raise Unsupported("selected() of something else")
                return Selected(path, literal.value)
            raise Unsupported(f"function {value}()")
        raise Unsupported(f"unexpected {value}")


def parse(expression: str):
    return _Parser(tokenize(expression)).parse()


def resolve(path: str, node_path: str) -> str:
    """An absolute path for ``path`` written in the bind of ``node_path`` (``..`` is the node's parent)."""
    if path.startswith("/"):
        return path
    parts = node_path.split("/")
    for step in path.split("/"):
        if step == "..":
            parts = parts[:-1]
        elif step not in ("", "."):
            parts.append(step)
    return "/".join(parts)


# A condition in words; " and " and " or " join the parts of a condition.
_WORDS = {
    "=": N_("“%(q)s” is %(v)s"),
    "!=": N_("“%(q)s” is not %(v)s"),
    "<": N_("“%(q)s” is less than %(v)s"),
    "<=": N_("“%(q)s” is at most %(v)s"),
    ">": N_("“%(q)s” is more than %(v)s"),
    ">=": N_("“%(q)s” is at least %(v)s"),
    "answered": N_("“%(q)s” is answered"),
    "unanswered": N_("“%(q)s” is not answered"),
    "selected": N_("“%(q)s” includes %(v)s"),
    "not selected": N_("“%(q)s” does not include %(v)s"),
    "not": N_("not (%(x)s)"),
    "and": N_(" and "),
    "or": N_(" or "),
}


def in_words(expression: str, node_path: str, fields: list[dict], language: str, label_of) -> str | None:
    """The condition in words in ``language`` (a page language), or None when it is not simple.

    ``label_of(labels_dict)`` picks a label in the page's language from a node's or choice's labels.
    """
    try:
        tree = parse(expression)
    except Unsupported:
        return None
    nodes = {node["path"]: node for node in iter_fields(fields)}

    def words(key: str, **values: str) -> str:
        return translate(_WORDS[key], language, **values)

    def question(path: Path) -> tuple[str, dict | None]:
        node = nodes.get(resolve(path.path, node_path))
        if node is None:
            return "${" + path.path.rstrip("/").rsplit("/", 1)[-1] + "}", None
        return shorten(label_of(node.get("labels") or {}) or node["name"]), node

    def value(node: dict | None, literal: Literal) -> str:
        for choice in (node or {}).get("choices", []):
            if choice["name"] == literal.value:
                return "“" + (label_of(choice.get("labels") or {}) or choice["name"]) + "”"
        return f"“{literal.value}”" if literal.quoted else literal.value

    def say(part, inside: str | None = None) -> str:
        if isinstance(part, Compare):
            q, node = question(part.left)
            if part.right.quoted and part.right.value == "" and part.op in ("=", "!="):
                return words("unanswered" if part.op == "=" else "answered", q=q)
            return words(part.op, q=q, v=value(node, part.right))
        if isinstance(part, Selected):
            q, node = question(part.path)
            return words("selected", q=q, v=value(node, Literal(part.value, True)))
        if isinstance(part, Not):
            if isinstance(part.inner, Selected):
                q, node = question(part.inner.path)
                return words("not selected", q=q, v=value(node, Literal(part.inner.value, True)))
            return words("not", x=say(part.inner))
        if isinstance(part, Join):
            text = words(part.op).join(say(p, part.op) for p in part.parts)
            return f"({text})" if inside and inside != part.op else text
        raise Unsupported(type(part).__name__)

    try:
        return say(tree)
    except Unsupported:
        return None


def as_written(expression: str) -> str:
    """The expression with each path shown as ``${name}``, as the designer wrote it in the XLSForm."""

    def short(match: re.Match) -> str:
        text = match.group(0)
        name = text.rstrip("/").rsplit("/", 1)[-1]
        return "${" + name + "}" if name not in (".", "..") else text

    text = re.sub(r"\s+", " ", _PATH_IN_TEXT.sub(short, expression)).strip()
    return re.sub(r"\s+([),])", r"\1", re.sub(r"\(\s+", "(", text))


def shorten(label: str, limit: int = 60) -> str:
    label = " ".join(label.split())
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"
