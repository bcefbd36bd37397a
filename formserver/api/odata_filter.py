"""OData ``$filter`` on submission metadata, turned into SQL: comparisons, ``and``, ``or``, ``not``, parentheses.

The fields are Central's: ``__system/submissionDate``, ``__system/reviewState`` and
``__system/submitterId`` (optionally prefixed ``$root/Submissions/`` in a repeat
table). Anything else is ``ApiError(501.1)`` naming it, never a silently wrong answer.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timezone

from sqlalchemy import and_, false, not_, or_

from ..models import Submission
from ..central import DEVICE_ACCOUNT_IDS, OUR_REVIEW
from .errors import ApiError
from .records import FIRST

_TOKEN = re.compile(r"\s*(\(|\)|'(?:[^']|'')*'|[^\s()]+)")
COMPARISONS = {"eq", "ne", "lt", "le", "gt", "ge"}
_SQL = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
}


def parse_filter(text: str, edits):
    """A SQL condition on ``records()`` rows for an OData ``$filter``; ``edits``: their edits column."""
    tokens = [m.group(1) for m in _TOKEN.finditer(text or "")]
    parser = _Parser(tokens, edits)
    condition = parser.expression()
    if parser.position != len(tokens):
        raise ApiError(501.1, feature=f"$filter near {tokens[parser.position]}")
    return condition


class _Parser:
    def __init__(self, tokens: list[str], edits):
        self.tokens, self.position, self.edits = tokens, 0, edits

    def _peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _take(self) -> str:
        token = self._peek()
        if token is None:
            raise ApiError(501.1, feature="$filter that ends too early")
        self.position += 1
        return token

    def expression(self):
        terms = [self._conjunction()]
        while self._peek() == "or":
            self._take()
            terms.append(self._conjunction())
        return terms[0] if len(terms) == 1 else or_(*terms)

    def _conjunction(self):
        terms = [self._unary()]
        while self._peek() == "and":
            self._take()
            terms.append(self._unary())
        return terms[0] if len(terms) == 1 else and_(*terms)

    def _unary(self):
        if self._peek() == "not":
            self._take()
            return not_(self._unary())
        if self._peek() == "(":
            self._take()
            inner = self.expression()
            if self._take() != ")":
                raise ApiError(501.1, feature="$filter with unbalanced parentheses")
            return inner
        field, operator, value = self._take(), self._take(), self._take()
        if operator not in COMPARISONS:
            raise ApiError(501.1, feature=f"the $filter operator {operator}")
        return comparison(field.removeprefix("$root/Submissions/"), operator, value, self.edits)


def comparison(field: str, operator: str, literal: str, edits):
    if field == "__system/submissionDate":
        return _SQL[operator](FIRST.received_at, _moment(literal))
    if field == "__system/submitterId" and operator in ("eq", "ne"):
        condition = _submitter(literal)
        return condition if operator == "eq" else not_(condition)
    if field == "__system/reviewState" and operator in ("eq", "ne"):
        condition = _review(literal, edits)
        return condition if operator == "eq" else not_(condition)
    raise ApiError(501.1, feature=f"$filter on {field} with {operator}")


def _moment(literal: str) -> datetime:
    text = literal.strip("'")
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(0), timezone.utc)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(501.1, feature=f"the $filter value {literal}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _submitter(literal: str):
    if not literal.isdigit():
        raise ApiError(501.1, feature=f"the $filter value {literal}")
    number = int(literal)
    if number > DEVICE_ACCOUNT_IDS:
        return FIRST.submitter_app_user_id == number - DEVICE_ACCOUNT_IDS
    return and_(FIRST.submitter_user_id == number, FIRST.submitter_app_user_id.is_(None)) if number else false()


def _review(literal: str, edits):
    value = None if literal == "null" else literal[1:-1] if literal.startswith("'") and literal.endswith("'") else literal
    if value not in OUR_REVIEW:
        raise ApiError(501.1, feature=f"the reviewState {literal}")
    ours = Submission.review_state == OUR_REVIEW[value]
    if value is None:
        return and_(ours, edits == 0)
    if value == "edited":
        return and_(ours, edits > 0)
    return ours
