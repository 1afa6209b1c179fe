"""Bounded argument types shared by the tool modules.

Identifiers that end up in a URL path are restricted to letters, digits, ``-`` and
``_``: a model-supplied ``../customers/C1002`` must never turn a product lookup into a
read of another customer's record. Free text and numbers are bounded so an absurd
argument fails validation instead of reaching a service.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field

IDENTIFIER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
IDENTIFIER_RE = re.compile(IDENTIFIER_PATTERN)

Identifier = Annotated[str, Field(pattern=IDENTIFIER_PATTERN)]
"""A SKU, order id, location id or promotion code: safe to put in a URL path."""

Quantity = Annotated[int, Field(ge=1, le=20)]
"""Units of one SKU in a single request."""

Label = Annotated[str, Field(min_length=1, max_length=80)]
"""A short name: a category, a brand, an attribute value, a competitor."""

Reason = Annotated[str, Field(min_length=1, max_length=500)]
"""The customer's reason, in a sentence or two."""

Money = Annotated[float, Field(gt=0, le=100_000)]
"""An amount in US dollars."""
